// Training checkpoints: everything needed to continue a run exactly where it stopped.
//   <run>/checkpoints/step-000120/state.safetensors   params, Adam m and v (F32, flat)
//   <run>/checkpoints/step-000120/trainer.json        step, data cursor (JSON), caller's extras
//   <run>/checkpoints/latest.json                     {"step": 120, "dir": "step-000120"}
// A checkpoint directory is written beside its target and renamed into place, and latest.json is
// replaced atomically after it: an interrupted save leaves the previous checkpoint intact.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
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

/** Save a checkpoint and keep only the newest `keep`. Returns its directory. */
export function saveTrainCheckpoint<C>(runDir: string, ck: TrainCheckpoint<C>, keep = 2): string {
  const root = checkpointsDir(runDir);
  mkdirSync(root, { recursive: true });
  const name = stepDir(ck.step);
  const tmp = join(root, `.${name}.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
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
  const target = join(root, name);
  rmSync(target, { recursive: true, force: true });
  renameSync(tmp, target);
  writeJsonAtomic(join(root, 'latest.json'), { step: ck.step, dir: name });
  const all = readdirSync(root).filter((d) => /^step-\d+$/.test(d)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(join(root, old), { recursive: true, force: true });
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
    throw new UserError({ what: `cannot read the latest-checkpoint pointer: ${(e as Error).message}`, where: latestPath, fix: `delete ${latestPath} to start over, or restore it` });
  }
  const dir = join(root, latest.dir);
  const trainerPath = join(dir, 'trainer.json');
  if (!existsSync(trainerPath)) {
    throw new UserError({ what: 'the checkpoint named by latest.json is missing', where: dir, fix: `delete ${root} to start the run over` });
  }
  const meta = JSON.parse(readFileSync(trainerPath, 'utf8')) as { step: number; optimizerStep: number; cursor: C; extra: Record<string, unknown> };
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
