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
  constructor(detail: ErrorDetail | string) {
    const d = typeof detail === 'string' ? { what: detail } : detail;
    super(formatDetail(d));
    this.name = 'UserError';
    this.detail = d;
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
