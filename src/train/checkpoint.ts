// Training checkpoints: everything needed to continue a run exactly where it stopped.
//   <run>/checkpoints/step-000120/state.safetensors   params, Adam m and v (F32, flat)
//   <run>/checkpoints/step-000120/trainer.json        step, data cursor (JSON), caller's extras
//   <run>/checkpoints/latest.json                     {"step": 120, "dir": "step-000120"}
// A checkpoint directory is written beside its target and renamed into place, and latest.json is
// replaced atomically after it: an interrupted save leaves the previous checkpoint intact.
// A state holding NaN or ±Inf is never saved (NonFiniteStateError), and rotation never removes the
// checkpoint just written, so the newest checkpoint on disk is always the newest finite one.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, fileSystemError } from '../util/errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { HostTensor } from '../nn/weights.js';
import { TrainState } from './optim.js';

export interface TrainCheckpoint<C = unknown> {
  step: number;
  state: TrainState;
  /** Where the data stream is (JSON-serialisable), e.g. {epoch, index, rng}. */
  cursor: C;
  /** Anything else the trainer needs to resume (JSON-serialisable). */
  extra?: Record<string, unknown>;
}

const stepDir = (step: number) => `step-${String(step).padStart(6, '0')}`;
const KINDS = [
  ['param/', 'params'],
  ['adam.m/', 'm'],
  ['adam.v/', 'v'],
] as const;

export function checkpointsDir(runDir: string): string {
  return join(runDir, 'checkpoints');
}

/** A state that must not be saved: `tensor` holds NaN or ±Inf. */
export class NonFiniteStateError extends UserError {
  constructor(readonly tensor: string, readonly step: number) {
    super({ what: `refusing to save a checkpoint at step ${step}: ${tensor} holds NaN or infinite values`, where: 'saveTrainCheckpoint', fix: 'training diverged: lower the learning rate and start over' });
  }
}

/** The first tensor of the state (params, then Adam m and v) holding a NaN or ±Inf, or null. */
export function firstNonFinite(state: TrainState): string | null {
  for (const [prefix, field] of KINDS) {
    for (const [k, a] of Object.entries(state[field])) {
      for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return prefix + k;
    }
  }
  return null;
}

/** Save a checkpoint and keep only the newest `keep` (never removing this one). Returns its directory. */
export function saveTrainCheckpoint<C>(runDir: string, ck: TrainCheckpoint<C>, keep = 2): string {
  const bad = firstNonFinite(ck.state);
  if (bad !== null) throw new NonFiniteStateError(bad, ck.step);
  const root = checkpointsDir(runDir);
  try {
    mkdirSync(root, { recursive: true });
  } catch (e) {
    throw fileSystemError(e, root);
  }
  const name = stepDir(ck.step);
  const tmp = join(root, `.${name}.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  const target = join(root, name);
  try {
    mkdirSync(tmp);
    const tensors = new Map<string, HostTensor>();
    for (const [prefix, field] of KINDS) {
      for (const [k, a] of Object.entries(ck.state[field])) {
        if (!(a instanceof Float32Array)) {
          throw new UserError({ what: `checkpoints store float32 state; "${k}" is ${a.constructor.name}`, where: 'saveTrainCheckpoint', fix: 'train in float32 (float64 is for gradient checks only)' });
        }
        tensors.set(prefix + k, { shape: [a.length], data: a });
      }
    }
    writeSafetensors(join(tmp, 'state.safetensors'), tensors);
    writeJsonAtomic(join(tmp, 'trainer.json'), { step: ck.step, optimizerStep: ck.state.step, cursor: ck.cursor, extra: ck.extra ?? {} });
    rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
  } catch (e) {
    // a failed write (full disk) leaves the previous checkpoints as they were, and no half-written one
    rmSync(tmp, { recursive: true, force: true });
    throw fileSystemError(e, tmp);
  }
  writeJsonAtomic(join(root, 'latest.json'), { step: ck.step, dir: name });
  // oldest first by step; a directory of a later step (an earlier, longer run) is never kept over this one
  const all = readdirSync(root).filter((d) => /^step-\d+$/.test(d) && d !== name).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const older = all.filter((d) => Number(d.slice(5)) < ck.step);
  for (const d of all) if (Number(d.slice(5)) > ck.step) rmSync(join(root, d), { recursive: true, force: true });
  for (const old of older.slice(0, Math.max(0, older.length - (keep - 1)))) rmSync(join(root, old), { recursive: true, force: true });
  return target;
}

/** The newest complete checkpoint of a run, or null when there is none. */
export function loadLatestTrainCheckpoint<C>(runDir: string): TrainCheckpoint<C> | null {
  const root = checkpointsDir(runDir);
  const latestPath = join(root, 'latest.json');
  if (!existsSync(latestPath)) return null;
  let latest: { step: number; dir: string };
  try {
    latest = JSON.parse(readFileSync(latestPath, 'utf8'));
  } catch (e) {
    throw new UserError({ what: `cannot read the latest-checkpoint pointer: ${(e as Error).message}`, where: latestPath, fix: `start over with --no-resume (the old checkpoints are moved aside), or restore ${latestPath}` });
  }
  if (typeof latest?.dir !== 'string' || !/^step-\d+$/.test(latest.dir)) {
    throw new UserError({ what: 'the latest-checkpoint pointer does not name a checkpoint', where: latestPath, expected: '{"step": N, "dir": "step-00000N"}', received: JSON.stringify(latest), fix: 'start over with --no-resume (the old checkpoints are moved aside)' });
  }
  const dir = join(root, latest.dir);
  const trainerPath = join(dir, 'trainer.json');
  if (!existsSync(trainerPath)) {
    throw new UserError({ what: 'the checkpoint named by latest.json is missing', where: dir, fix: 'start over with --no-resume (the old checkpoints are moved aside)' });
  }
  let meta: { step: number; optimizerStep: number; cursor: C; extra: Record<string, unknown> };
  try {
    meta = JSON.parse(readFileSync(trainerPath, 'utf8'));
    if (typeof meta?.step !== 'number' || typeof meta.optimizerStep !== 'number') throw new Error('step or optimizerStep missing');
  } catch (e) {
    throw new UserError({ what: `cannot read the checkpoint's trainer state: ${(e as Error).message}`, where: trainerPath, expected: 'the JSON steer wrote with the checkpoint', fix: `start over with --no-resume (the old checkpoints are moved aside), or delete ${root}` });
  }
  const { tensors } = readSafetensors(join(dir, 'state.safetensors'));
  const state = new TrainState();
  for (const [name, t] of tensors) {
    const kind = KINDS.find(([p]) => name.startsWith(p));
    if (!kind) continue;
    state[kind[1]][name.slice(kind[0].length)] = t.data;
  }
  state.step = meta.optimizerStep;
  return { step: meta.step, state, cursor: meta.cursor, extra: meta.extra };
}

/** Move a finished run's checkpoints out of the way (e.g. before starting it over). */
export function clearTrainCheckpoints(runDir: string): void {
  const root = checkpointsDir(runDir);
  if (existsSync(root)) renameSync(root, `${root}.old-${Date.now()}`);
}
