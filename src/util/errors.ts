// User-facing errors: what went wrong, where, what was expected, what was received, how to fix it.
// A UserError ends a command with one clear message and exit code 2; anything else is an
// internal error (a bug) and is printed with its stack trace, exit code 1.

export interface ErrorDetail {
  /** What went wrong, one sentence without a trailing period. */
  what: string;
  /** Where: a file (with :line when known), a field path, an argument or option name. */
  where?: string;
  expected?: string;
  received?: string;
  /** How to fix it, as an instruction. */
  fix?: string;
}

export class UserError extends Error {
  readonly detail: ErrorDetail;
  /** The process exit code main() returns: 2, or 128 + signal for a run stopped by a signal. */
  readonly exitCode: number;
  constructor(detail: ErrorDetail | string, exitCode = 2) {
    const d = typeof detail === 'string' ? { what: detail } : detail;
    super(formatDetail(d));
    this.name = 'UserError';
    this.detail = d;
    this.exitCode = exitCode;
  }
}

export function formatDetail(d: ErrorDetail): string {
  let s = d.where ? `${d.where}: ${d.what}` : d.what;
  if (d.expected !== undefined) s += `\n  expected: ${d.expected}`;
  if (d.received !== undefined) s += `\n  received: ${d.received}`;
  if (d.fix !== undefined) s += `\n  fix: ${d.fix}`;
  return s;
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** A short, printable rendering of any value for `received:` lines. */
export function describeValue(v: unknown, maxLen = 80): string {
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v);
  else if (v === undefined) s = 'undefined';
  else {
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > maxLen ? s.slice(0, maxLen - 1) + '…' : s;
}

/** What a file-system error code means to a user, and how to fix it. */
const FS_ERRORS: Record<string, { what: string; fix: string }> = {
  ENOSPC: { what: 'the disk is full', fix: 'free some space, or write to another disk (--out)' },
  EDQUOT: { what: 'the disk quota is exhausted', fix: 'free some space, or write to another disk (--out)' },
  EFBIG: { what: 'the file is larger than the file system allows', fix: 'write to another disk (--out)' },
  EACCES: { what: 'permission denied', fix: 'choose a location you can write to, or change its permissions' },
  EPERM: { what: 'operation not permitted', fix: 'choose a location you can write to, or change its permissions' },
  EROFS: { what: 'the file system is read-only', fix: 'write to a writable location (--out)' },
  EISDIR: { what: 'a directory is where a file is expected', fix: 'pass a file path, not a directory' },
  ENOTDIR: { what: 'a file is where a directory is expected (the path or one of its parents)', fix: 'pass a directory path, or move the file out of the way' },
  EEXIST: { what: 'a file is where a directory is expected', fix: 'pass a directory path, or move the file out of the way' },
  ENOENT: { what: 'no such file or directory', fix: 'check the path (relative paths are resolved from the current directory)' },
  ENAMETOOLONG: { what: 'the path is too long', fix: 'use a shorter path' },
  EMFILE: { what: 'too many open files', fix: 'raise the open-file limit (ulimit -n) and run again' },
  EIO: { what: 'an input/output error from the device', fix: 'check the disk, then run again' },
};

/**
 * A Node file-system error (ENOSPC, EACCES, EISDIR, …) as a UserError naming `path`; anything else
 * is returned unchanged (a bug stays a bug). Writers wrap their fs calls with it, and main() applies
 * it to whatever escapes a command, so a full disk or a path of the wrong kind is exit 2, not a trace.
 */
export function fileSystemError(e: unknown, path?: string): unknown {
  if (e instanceof UserError || e === null || typeof e !== 'object') return e;
  const err = e as NodeJS.ErrnoException;
  const known = typeof err.code === 'string' ? FS_ERRORS[err.code] : undefined;
  if (!known || (typeof err.syscall !== 'string' && err.code !== 'ENOSPC')) return e;
  const where = path ?? err.path ?? (err as { dest?: string }).dest;
  return new UserError({ what: `${known.what} (${err.code}${err.syscall ? ` during ${err.syscall}` : ''})`, where: where ?? 'a file operation', fix: known.fix });
}
