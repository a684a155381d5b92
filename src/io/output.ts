// The output guard every command uses before it writes: the path given for a directory is not a
// file (and one given for a file is not a directory), its nearest existing parent is a writable
// directory, and temporary files left by an interrupted atomic write (src/io/atomic.ts names them
// `.NAME.<pid>.<time>.tmp`, checkpoints `.step-N.<pid>.tmp`) are removed once their writer is gone.
// Failures are UserErrors naming the path and the option, raised before any work starts.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError, fileSystemError } from '../util/errors.js';

/** Is process `pid` alive on this machine? (EPERM: it exists but belongs to someone else.) */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `.NAME.<pid>.tmp` or `.NAME.<pid>.<time>.tmp` → pid; anything else → null. */
export function tempFileOwner(name: string): number | null {
  const m = /^\..+?\.(\d+)(?:\.\d+)?\.tmp$/.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * Remove temporary files and directories in `dir` left by writers that are no longer running
 * (`only`: just those of one target name). Returns how many were removed.
 */
export function removeStaleTemps(dir: string, only?: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (only !== undefined && !name.startsWith(`.${only}.`)) continue;
    const pid = tempFileOwner(name);
    if (pid === null || pid === process.pid || pidAlive(pid)) continue;
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed++;
    } catch {
      // another process may be cleaning it at the same time
    }
  }
  return removed;
}

function kindOf(path: string): 'file' | 'dir' | 'other' | null {
  try {
    const s = statSync(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  } catch {
    return null;
  }
}

/** The nearest existing ancestor of `path` must be a writable directory. */
function checkParentWritable(path: string, option: string): void {
  let p = dirname(resolve(path));
  while (kindOf(p) === null && dirname(p) !== p) p = dirname(p);
  const k = kindOf(p);
  if (k !== 'dir') {
    throw new UserError({ what: `${option}: a file is where a directory is expected`, where: p, expected: 'a directory (or a path that does not exist yet)', fix: `move ${p} out of the way, or pass another ${option}` });
  }
  try {
    accessSync(p, constants.W_OK);
  } catch {
    throw new UserError({ what: `${option}: cannot write into this directory (permission denied)`, where: p, fix: `choose a location you can write to for ${option}, or change its permissions` });
  }
}

/**
 * Make sure `path` can be used as an output directory: not a file, under a writable parent;
 * create it (unless `create` is false: a command that validates its inputs first creates it when
 * it writes) and clean stale temporary files. Returns whether it existed before.
 */
export function prepareOutputDir(path: string, option = '--out', opts: { create?: boolean } = {}): { existed: boolean } {
  const k = kindOf(path);
  if (k !== null && k !== 'dir') {
    throw new UserError({ what: `${option} is a file; a directory is expected here`, where: path, expected: 'a directory (it is created when missing)', fix: `pass a directory for ${option}, or move the file out of the way` });
  }
  if (k === null) checkParentWritable(join(path, 'x'), option);
  else {
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw new UserError({ what: `${option}: cannot write into this directory (permission denied)`, where: path, fix: `choose a location you can write to for ${option}, or change its permissions` });
    }
  }
  if (opts.create === false) {
    if (k !== null) removeStaleTemps(path);
    return { existed: k !== null };
  }
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw fileSystemError(e, path);
  }
  removeStaleTemps(path);
  return { existed: k !== null };
}

/** Make sure `path` can be written as an output file: not a directory, under a writable parent. */
export function checkOutputFile(path: string, option = '--out'): void {
  const k = kindOf(path);
  if (k === 'dir') {
    throw new UserError({ what: `${option} is a directory; a file is expected here`, where: path, expected: 'a file path (it is created or replaced)', fix: `pass a file name for ${option}, e.g. ${join(path, 'out.jsonl')}` });
  }
  checkParentWritable(path, option);
  if (existsSync(dirname(path))) removeStaleTemps(dirname(path));
}
