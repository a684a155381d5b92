// Options every policy trainer shares (optimizer, schedule, run directory, engine) with their
// defaults and checks, and small helpers for the run directory.
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { openRun, type RunDir } from '../train/run.js';
import type { LlamaConfig } from '../nn/config.js';
import type { LoraConfig } from '../nn/lora.js';
import { expectedWeightShapes } from '../nn/weights.js';
import type { AdamWOptions } from '../train/optim.js';
import type { ScheduleOptions } from '../train/schedule.js';

export interface TrainerCommonOptions {
  /** Run directory: metrics.jsonl, checkpoints/, config.json, and the final model in model/. */
  out: string;
  /** Optimizer updates. */
  steps?: number;
  /** Peak learning rate. */
  lr?: number;
  schedule?: 'constant' | 'cosine';
  warmupSteps?: number;
  /** Floor of the cosine decay. */
  minLr?: number;
  weightDecay?: number;
  /** Clip gradients to this global norm (0: off). */
  maxGradNorm?: number;
  seed?: number;
  /** Engine threads (physical cores is fastest). */
  threads?: number;
  quiet?: boolean;
  /** Save a checkpoint every N steps (0: only at the end). */
  checkpointEvery?: number;
  /** Evaluate every N steps (0: only at the end). */
  evalEvery?: number;
  /** Continue from the newest checkpoint in `out` (default true). */
  resume?: boolean;
  /** Bit-reproducible gradients (slower embedding gradient). */
  deterministic?: boolean;
  /** Train a LoRA adapter on the frozen starting policy instead of every weight (src/policy/lora.ts). */
  lora?: LoraConfig;
}

export interface ResolvedCommon {
  out: string;
  steps: number;
  lr: number;
  schedule: 'constant' | 'cosine';
  warmupSteps: number;
  minLr: number;
  weightDecay: number;
  maxGradNorm: number;
  seed: number;
  threads: number;
  quiet: boolean;
  checkpointEvery: number;
  evalEvery: number;
  resume: boolean;
  deterministic: boolean;
}

export function bad(where: string, expected: string, received: unknown, fix?: string): never {
  throw new UserError({ what: `invalid option ${where}`, where, expected, received: String(received), fix: fix ?? `pass ${where} within range` });
}

export function positiveInt(where: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) bad(where, 'an integer ≥ 1', v);
  return v;
}

export function nonNegative(where: string, v: number): number {
  if (!(v >= 0) || !Number.isFinite(v)) bad(where, 'a finite number ≥ 0', v);
  return v;
}

/** Defaults and checks for the shared options; `defaults` are the trainer's own. */
export function resolveCommon(name: string, o: TrainerCommonOptions, defaults: { steps: number; lr: number; warmupSteps?: number; maxGradNorm?: number }): ResolvedCommon {
  if (typeof o.out !== 'string' || o.out === '') bad(`${name}.out`, 'a run directory', o.out, 'pass out: "runs/x" (--out runs/x)');
  const r: ResolvedCommon = {
    out: o.out,
    steps: o.steps ?? defaults.steps,
    lr: o.lr ?? defaults.lr,
    schedule: o.schedule ?? 'constant',
    warmupSteps: o.warmupSteps ?? defaults.warmupSteps ?? 0,
    minLr: o.minLr ?? 0,
    weightDecay: o.weightDecay ?? 0,
    maxGradNorm: o.maxGradNorm ?? defaults.maxGradNorm ?? 1,
    seed: o.seed ?? 0,
    threads: o.threads ?? 2,
    quiet: o.quiet ?? false,
    checkpointEvery: o.checkpointEvery ?? 0,
    evalEvery: o.evalEvery ?? 0,
    resume: o.resume ?? true,
    deterministic: o.deterministic ?? false,
  };
  if (!Number.isInteger(r.steps) || r.steps < 0) bad(`${name}.steps`, 'an integer ≥ 0', r.steps);
  if (!(r.lr > 0) || !Number.isFinite(r.lr)) bad(`${name}.lr`, 'a positive learning rate, e.g. 1e-4', r.lr);
  if (r.schedule !== 'constant' && r.schedule !== 'cosine') bad(`${name}.schedule`, '"constant" or "cosine"', r.schedule);
  if (!Number.isInteger(r.warmupSteps) || r.warmupSteps < 0) bad(`${name}.warmupSteps`, 'an integer ≥ 0', r.warmupSteps);
  nonNegative(`${name}.minLr`, r.minLr);
  nonNegative(`${name}.weightDecay`, r.weightDecay);
  nonNegative(`${name}.maxGradNorm`, r.maxGradNorm);
  if (!Number.isSafeInteger(r.seed) || r.seed < 0) bad(`${name}.seed`, 'an integer ≥ 0', r.seed);
  positiveInt(`${name}.threads`, r.threads);
  for (const k of ['checkpointEvery', 'evalEvery'] as const) if (!Number.isInteger(r[k]) || r[k] < 0) bad(`${name}.${k}`, 'an integer ≥ 0', r[k]);
  return r;
}

export function adamOptions(r: ResolvedCommon, config: LlamaConfig): AdamWOptions {
  // norm gains are not decayed (the usual practice: TRL / HF Trainer exclude LayerNorm/RMSNorm weights)
  const noDecay = expectedWeightShapes(config).filter(([, s]) => s.length === 1).map(([n]) => n);
  return { weightDecay: r.weightDecay, noDecay, maxGradNorm: r.maxGradNorm > 0 ? r.maxGradNorm : undefined };
}

export function scheduleOf(r: ResolvedCommon): Omit<ScheduleOptions, 'totalSteps'> {
  return { kind: r.schedule, peakLr: r.lr, warmupSteps: r.warmupSteps, minLr: r.minLr };
}

/**
 * Open the run directory (src/train/run.ts: output guard, lock, the resume rule) and write the
 * resolved run config as <out>/config.json. The trainer calls release(ok) when it ends.
 */
export function openPolicyRun(r: ResolvedCommon, stage: string, config: Record<string, unknown>): RunDir {
  return openRun({ runDir: r.out, stage, config: { stage, ...config }, resume: r.resume, pathKeys: ['policy', 'reference', 'reward', 'tokenizer'] });
}

/** A per-step seed for sampling: a 32-bit hash of (seed, stage, step) — exact resume needs no RNG state. */
export function stepSeed(seed: number, stage: string, step: number): number {
  let h = 0x811c9dc5;
  const s = `${seed}/${stage}/${step}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Cursor over a dataset in shuffled epochs: the order of epoch e is a seeded shuffle, recomputed on resume. */
export interface EpochCursor {
  epoch: number;
  index: number;
}

const orderCache = new Map<string, number[]>();

/** The shuffled order of epoch `epoch` of n items (seeded; the same on every call). */
export function epochOrder(n: number, seed: number, stage: string, epoch: number): number[] {
  const key = `${n}/${seed}/${stage}/${epoch}`;
  let o = orderCache.get(key);
  if (!o) {
    o = Rng.derive(seed, `${stage}/epoch/${epoch}`).shuffle(Array.from({ length: n }, (_, i) => i));
    if (orderCache.size > 64) orderCache.clear();
    orderCache.set(key, o);
  }
  return o;
}

/** The next `size` item indices from the cursor (crossing into the next epoch when one runs out). */
export function nextBatch(n: number, size: number, cursor: EpochCursor, seed: number, stage: string): { indices: number[]; cursor: EpochCursor } {
  const indices: number[] = [];
  let { epoch, index } = cursor;
  while (indices.length < size) {
    if (index >= n) {
      epoch++;
      index = 0;
    }
    indices.push(epochOrder(n, seed, stage, epoch)[index++]);
  }
  return { indices, cursor: { epoch, index } };
}
