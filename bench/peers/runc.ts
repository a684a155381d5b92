// llama2.c's run.c as a benchmark peer (../shared/bench/llama2c: the pinned source), shared by
// bench/generate.ts and bench/decode_floor.ts: built with `gcc -Ofast -march=native` (one thread),
// run greedy on a prompt; its own "achieved tok/s" (forward passes ÷ time after the first).
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** The median of xs (the mean of the middle two for an even count). */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Compile run.c from `shared`/bench/llama2c into `dir`; returns the executable's path. */
export function buildRunC(dir: string, shared: string): string {
  const exe = join(dir, 'runfast');
  const r = spawnSync('gcc', ['-Ofast', '-march=native', '-o', exe, join(shared, 'bench', 'llama2c', 'run.c'), '-lm'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building run.c failed (gcc):\n${r.stderr}`);
  return exe;
}

/** run.c greedy on `prompt` for `steps` positions (prompt included): its text and tokens/s (Infinity when it timed 0 ms). */
export function runC(exe: string, model: string, tokenizer: string, prompt: string, steps: number): { text: string; tokensPerS: number } {
  const r = spawnSync('nice', ['-n', '5', exe, model, '-z', tokenizer, '-t', '0', '-n', String(steps), '-i', prompt], { encoding: 'utf8' });
  // a run under a millisecond after its first pass prints "inf" (its timer is whole milliseconds): Infinity,
  // which pooledTokensPerS counts as no time
  const m = /achieved tok\/s: ([0-9.]+|inf)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`run.c failed:\n${r.stderr}`);
  return { text: r.stdout, tokensPerS: m[1] === 'inf' ? Infinity : Number(m[1]) };
}

/**
 * Several run.c runs' tokens/s pooled: their tokens ÷ their time (the harmonic mean; 1e6 ÷ it is
 * the mean µs per token). run.c times itself in whole milliseconds, so a short run (stories260K's
 * ≈ 7 ms) reads ±15 % alone and the mean of 10 averages the rounding out.
 */
export const pooledTokensPerS = (runs: readonly number[]): number => runs.length / runs.reduce((acc, tps) => acc + 1 / tps, 0);

/**
 * CPU milliseconds (perf stat's task-clock) of one run.c run like runC's, or null without perf.
 * The difference between two step counts, divided by the steps between them, is run.c's CPU per
 * forward pass without its start-up (reading the model) and unaffected by its whole-millisecond timer.
 */
export function runCCpuMs(exe: string, model: string, tokenizer: string, prompt: string, steps: number): number | null {
  const r = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', exe, model, '-z', tokenizer, '-t', '0', '-n', String(steps), '-i', prompt], { encoding: 'utf8' });
  const line = r.status === 0 ? r.stderr.split('\n').find((l) => l.includes('task-clock')) : undefined;
  return line ? Number(line.split(',')[0]) : null;
}
