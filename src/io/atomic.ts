// Atomic writes: write to a temporary file in the same directory, fsync, then rename over the
// target. A reader (or a resumed run) sees either the old file or the complete new one, never a
// partial file. A failed write (full disk, no permission, a directory in the way) is a UserError
// naming the path; a temporary file left by a killed writer is removed by the next write.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { fileSystemError } from '../util/errors.js';
import { removeStaleTemps } from './output.js';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    removeStaleTemps(dir, basename(path));
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fileSystemError(e, path);
  }
}

/** Write many chunks (e.g. JSONL lines) atomically. */
export function writeLinesAtomic(path: string, lines: Iterable<string>): void {
  const parts: string[] = [];
  for (const line of lines) parts.push(line.endsWith('\n') ? line : line + '\n');
  writeFileAtomic(path, parts.join(''));
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Rewrite a JSON-lines file keeping the records `keep` accepts (blank and unparseable lines are
 * dropped), atomically. A resumed run uses it to cut its logs back to its checkpoint. No file: no-op.
 */
export function keepJsonLines(path: string, keep: (record: Record<string, unknown>) => boolean): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        return keep(JSON.parse(line) as Record<string, unknown>);
      } catch {
        return false;
      }
    });
  writeFileAtomic(path, kept.length ? kept.join('\n') + '\n' : '');
}
