// The run directory every trainer writes (rm train, sft, dpo, rl reinforce), opened in one place:
//   1. the output guard: --out is a directory (not a file) under a writable parent; stale temporary
//      files of killed writers are removed (src/io/output.ts);
//   2. a lock, OUT/.steer.lock = {pid, host, startedAt}: a second run on the same OUT is refused
//      while the first is alive; a lock whose process is gone (kill -9, power loss) is broken;
//   3. one resume rule: when OUT holds a checkpoint and the run resumes, its saved options must equal
//      this run's (paths compared as absolute paths, data by content hash) except the options that
//      may change between sessions (RESUME_FREE); otherwise a refusal naming each option that differs
//      and how to start over. Without resume (--no-resume) old checkpoints are moved aside;
//   4. the resolved options written atomically to OUT/<configFile>.
// release(ok) ends the run: the lock goes; a failed run that saved no checkpoint leaves nothing
// behind (the directory it created is removed, or the config file it wrote).
import { createHash } from 'node:crypto';
import { existsSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError, fileSystemError } from '../util/errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { pidAlive, prepareOutputDir, removeStaleTemps } from '../io/output.js';
import { checkpointsDir, clearTrainCheckpoints } from './checkpoint.js';

/** Options that may change when a run is resumed: they do not change what the run computes. */
export const RESUME_FREE: readonly string[] = ['out', 'steps', 'quiet', 'threads', 'spinning', 'resume', 'evalEvery', 'checkpointEvery', 'keepCheckpoints'];

export interface OpenRunOptions {
  runDir: string;
  /** The trainer, for messages ("sft", "rm train"). */
  stage: string;
  /** The resolved options (JSON-serialisable); written to configFile and compared on resume. */
  config: Record<string, unknown>;
  /** File name of the saved options inside runDir (default config.json). */
  configFile?: string;
  /** Keys (at any depth) whose string values are paths: compared and saved as absolute paths. */
  pathKeys?: readonly string[];
  resume: boolean;
  /** The option naming the run directory in messages (default --out). */
  option?: string;
}

export interface RunDir {
  dir: string;
  configPath: string;
  /** Did OUT hold a checkpoint this run resumes from? */
  resuming: boolean;
  /** End the run: drop the lock; a failed run without any checkpoint leaves nothing behind. */
  release(ok: boolean): void;
}

/** A short content hash of rows (e.g. training data) for the resume rule; fields in `omit` are left out. */
export function contentHash(rows: readonly unknown[], omit: readonly string[] = ['source']): string {
  const h = createHash('sha256');
  for (const r of rows) {
    if (r !== null && typeof r === 'object' && !Array.isArray(r)) {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) if (!omit.includes(k)) o[k] = v;
      h.update(JSON.stringify(o));
    } else h.update(JSON.stringify(r));
    h.update('\n');
  }
  return `sha256:${h.digest('hex').slice(0, 16)}`;
}

/** The config with every path under a `pathKeys` key made absolute (strings that name nothing on disk are kept). */
export function normalisePaths(value: unknown, pathKeys: readonly string[], underPathKey = false): unknown {
  if (typeof value === 'string') return underPathKey && (existsSync(value) || value.includes('/')) && !/^[a-z]+:\/\//i.test(value) ? resolve(value) : value;
  if (Array.isArray(value)) return value.map((v) => normalisePaths(v, pathKeys, underPathKey));
  if (value !== null && typeof value === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) o[k] = normalisePaths(v, pathKeys, pathKeys.includes(k));
    return o;
  }
  return value;
}

const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * The resume rule: the options that differ between a saved run config and this run's (both
 * normalised), ignoring RESUME_FREE. Empty: the run may resume.
 */
export function resumeDifferences(saved: Record<string, unknown>, now: Record<string, unknown>): string[] {
  return Object.keys({ ...saved, ...now }).filter((k) => !RESUME_FREE.includes(k) && JSON.stringify(saved[k]) !== JSON.stringify(now[k]));
}

// ---- the lock ------------------------------------------------------------------------------------

const LOCK_FILE = '.steer.lock';
const held = new Set<string>();
let exitHook = false;

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

function readLock(path: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return typeof v?.pid === 'number' ? v : null;
  } catch {
    return null; // gone, or torn by a kill during its write: treated as stale
  }
}

/** Take OUT's lock or refuse; a lock whose owner is gone is broken. */
export function acquireRunLock(runDir: string, stage: string): () => void {
  const path = resolve(runDir, LOCK_FILE);
  const me: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fileSystemError(e, path);
      const owner = readLock(path);
      const ours = owner?.pid === process.pid && owner.host === me.host;
      const alive = owner !== null && (ours ? held.has(path) : owner.host === me.host ? pidAlive(owner.pid) : true);
      if (alive) {
        throw new UserError({
          what: `another ${ours ? 'training run in this process' : `steer process (pid ${owner!.pid}${owner!.host !== me.host ? ` on ${owner!.host}` : ''}, started ${owner!.startedAt})`} is using this run directory`,
          where: runDir,
          fix: owner!.host !== me.host
            ? `wait for it to finish, or, if it is no longer running, delete ${path}`
            : `wait for it to finish (or stop it), or pass another --out for this ${stage} run`,
        });
      }
      // Break the stale lock: move it to a name of our own, check it is the one we judged dead
      // (another process may have broken it and taken a fresh one meanwhile), then retry.
      const aside = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, aside);
      } catch {
        continue; // someone else broke it first
      }
      const moved = readLock(aside);
      if (moved !== null && owner !== null && moved.pid !== owner.pid) {
        try {
          linkSync(aside, path); // it was a live lock: put it back
        } catch {
          // a third process holds the name now; ours is still refused on the next attempt
        }
      }
      rmSync(aside, { force: true });
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    held.add(path);
    if (!exitHook) {
      exitHook = true;
      // a process that ends in any way (an error, process.exit on a third signal) drops its locks
      process.on('exit', () => {
        for (const p of held) if (readLock(p)?.pid === process.pid) rmSync(p, { force: true });
      });
    }
    return () => {
      if (!held.delete(path)) return;
      if (readLock(path)?.pid === process.pid) rmSync(path, { force: true });
    };
  }
  throw new UserError({ what: 'cannot take the run directory lock (other processes keep taking it)', where: path, fix: 'make sure only one steer process writes this --out' });
}

// ---- opening a run ---------------------------------------------------------------------------------

/** Open a trainer's run directory (see the file header). */
export function openRun(o: OpenRunOptions): RunDir {
  const option = o.option ?? '--out';
  const { existed } = prepareOutputDir(o.runDir, option);
  const unlock = acquireRunLock(o.runDir, o.stage);
  try {
    const configPath = join(o.runDir, o.configFile ?? 'config.json');
    const ckDir = checkpointsDir(o.runDir);
    removeStaleTemps(ckDir);
    const hasCheckpoint = existsSync(join(ckDir, 'latest.json'));
    const now = normalisePaths(o.config, ['out', ...(o.pathKeys ?? [])]) as Record<string, unknown>;
    const hadConfig = existsSync(configPath);
    let resuming = false;
    if (hasCheckpoint && !o.resume) clearTrainCheckpoints(o.runDir);
    else if (hasCheckpoint) {
      if (!hadConfig) {
        throw new UserError({ what: `the run directory holds checkpoints but not their options (${o.configFile ?? 'config.json'})`, where: o.runDir, fix: `start over with --no-resume (the old checkpoints are moved aside), or use a new ${option}` });
      }
      let saved: Record<string, unknown>;
      try {
        saved = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
        if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) throw new Error('not a JSON object');
      } catch (e) {
        throw new UserError({ what: `cannot read the saved options of this run: ${(e as Error).message}`, where: configPath, expected: 'the JSON object steer wrote when the run started', fix: `start over with --no-resume (the old checkpoints are moved aside), or use a new ${option}` });
      }
      const differ = resumeDifferences(normalisePaths(saved, ['out', ...(o.pathKeys ?? [])]) as Record<string, unknown>, now);
      if (differ.length > 0) {
        const show = (v: unknown) => (v === undefined ? '(not set)' : JSON.stringify(v));
        throw new UserError({
          what: `the run directory holds a checkpoint of a ${o.stage} run with other options: ${differ.map(flag).join(', ')}`,
          where: o.runDir,
          expected: differ.map((k) => `${flag(k)} ${show(saved[k])}`).join('; '),
          received: differ.map((k) => `${flag(k)} ${show(now[k])}`).join('; '),
          fix: `rerun with the original options to resume; or start over with --no-resume (the old checkpoints are moved to checkpoints.old-*), or use a new ${option}`,
        });
      }
      resuming = true;
    }
    writeJsonAtomic(configPath, now);
    return {
      dir: o.runDir,
      configPath,
      resuming,
      release(ok: boolean) {
        try {
          if (!ok && !existsSync(join(ckDir, 'latest.json'))) {
            // nothing worth keeping was written: leave OUT as it was
            if (!existed) rmSync(o.runDir, { recursive: true, force: true });
            else if (!hadConfig) rmSync(configPath, { force: true });
          }
        } finally {
          unlock();
        }
      },
    };
  } catch (e) {
    unlock();
    if (!existed) rmSync(o.runDir, { recursive: true, force: true });
    throw e;
  }
}
