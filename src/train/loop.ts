// The training loop every trainer shares (reward models, SFT, DPO, REINFORCE): learning-rate
// schedule, progress with ETA, metrics as JSON lines, periodic evaluation, checkpoints, exact
// resume, and Ctrl-C that saves before stopping. What one step does (a batch, micro-batches and
// accumulation, a rollout) is the trainer's `step` hook; the loop owns everything around it.
//
// Exact resume: the loop restores params, Adam moments, the optimizer step and the data cursor,
// and rewrites metrics.jsonl to end at the checkpoint, so a resumed run continues as if it had
// never stopped (bit-identical when the step graph is deterministic).
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { MetricsWriter } from '../util/metrics.js';
import { startProgress } from '../util/progress.js';
import { keepJsonLines } from '../io/atomic.js';
import { learningRate, type ScheduleOptions } from './schedule.js';
import type { TrainState } from './optim.js';
import { loadLatestTrainCheckpoint, saveTrainCheckpoint } from './checkpoint.js';

export interface TrainLoopOptions {
  /** Stage name: progress label and the `stage` field of every metrics record. */
  name: string;
  /** Run directory: metrics.jsonl and checkpoints/ go here. */
  runDir: string;
  steps: number;
  schedule: Omit<ScheduleOptions, 'totalSteps'>;
  /** Save every N steps (0: only at the end). */
  checkpointEvery?: number;
  keepCheckpoints?: number;
  /** Call `evaluate` every N steps and at the end (0: only at the end). */
  evalEvery?: number;
  /** Continue from the newest checkpoint in runDir (default true). */
  resume?: boolean;
  quiet?: boolean;
  /** Metric names shown beside the progress bar. */
  show?: string[];
}

export interface StepContext<C> {
  state: TrainState;
  /** 0-based index of this step. */
  step: number;
  lr: number;
  cursor: C;
}

export interface TrainLoopHooks<C> {
  /** The state to start from when there is no checkpoint. */
  init(): TrainState | Promise<TrainState>;
  initialCursor: C;
  /** One optimizer step: returns its metrics and the advanced data cursor. */
  step(ctx: StepContext<C>): Promise<{ metrics: Record<string, number>; cursor: C }>;
  evaluate?(ctx: { state: TrainState; step: number }): Promise<Record<string, number>>;
}

export interface TrainLoopResult<C> {
  state: TrainState;
  cursor: C;
  /** Steps completed (= options.steps unless interrupted). */
  steps: number;
  resumedFrom: number | null;
  metricsPath: string;
  lastMetrics: Record<string, number>;
  lastEval: Record<string, number> | null;
}

export async function runTrainLoop<C>(o: TrainLoopOptions, hooks: TrainLoopHooks<C>): Promise<TrainLoopResult<C>> {
  if (!(Number.isInteger(o.steps) && o.steps >= 0)) {
    throw new UserError({ what: 'steps must be a whole number ≥ 0', where: `${o.name}.steps`, received: String(o.steps) });
  }
  const metricsPath = join(o.runDir, 'metrics.jsonl');
  const ck = o.resume === false ? null : loadLatestTrainCheckpoint<C>(o.runDir);
  let state: TrainState;
  let cursor: C;
  let start = 0;
  if (ck) {
    if (ck.step > o.steps) {
      throw new UserError({ what: `the run directory holds a checkpoint at step ${ck.step}, past the requested ${o.steps} steps`, where: o.runDir, fix: 'raise --steps, or use a new --out directory' });
    }
    state = ck.state;
    cursor = ck.cursor;
    start = ck.step;
    truncateMetrics(metricsPath, o.name, start);
  } else {
    state = await hooks.init();
    cursor = hooks.initialCursor;
    truncateMetrics(metricsPath, o.name, 0);
  }
  const metrics = new MetricsWriter(metricsPath);
  const every = o.checkpointEvery ?? 0;
  const evalEvery = o.evalEvery ?? 0;
  const progress = startProgress(o.name, o.steps, { quiet: o.quiet });
  progress.update(start);
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  let lastMetrics: Record<string, number> = {};
  let lastEval: Record<string, number> | null = null;
  let step = start;
  try {
    while (step < o.steps) {
      const lr = learningRate(step, { ...o.schedule, totalSteps: o.steps });
      const t0 = performance.now();
      const r = await hooks.step({ state, step, lr, cursor });
      cursor = r.cursor;
      step += 1;
      lastMetrics = r.metrics;
      metrics.write({ stage: o.name, step, lr, ...r.metrics, stepMs: performance.now() - t0 });
      const atEnd = step === o.steps;
      if (hooks.evaluate && (atEnd || (evalEvery > 0 && step % evalEvery === 0))) {
        lastEval = await hooks.evaluate({ state, step });
        metrics.write({ stage: o.name, step, eval: true, ...lastEval });
      }
      if (atEnd || interrupted || (every > 0 && step % every === 0)) {
        saveTrainCheckpoint(o.runDir, { step, state, cursor }, o.keepCheckpoints ?? 2);
      }
      const fields: Record<string, number> = {};
      for (const k of o.show ?? Object.keys(r.metrics).slice(0, 3)) if (k in r.metrics) fields[k] = r.metrics[k];
      progress.update(step, fields);
      if (interrupted && !atEnd) {
        throw new UserError({ what: `${o.name} interrupted at step ${step}/${o.steps}; a checkpoint was saved`, where: o.runDir, fix: 'run the same command again to resume from it' });
      }
    }
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
  }
  return { state, cursor, steps: step, resumedFrom: ck ? ck.step : null, metricsPath, lastMetrics, lastEval };
}

/** Keep only this stage's records up to `step` (and every other stage's records). */
function truncateMetrics(path: string, stage: string, step: number): void {
  keepJsonLines(path, (r) => r.stage !== stage || ((r.step as number | undefined) ?? 0) <= step);
}
