// The training loop every trainer shares (reward models, SFT, DPO, REINFORCE): learning-rate
// schedule, progress with ETA, metrics as JSON lines, periodic evaluation, checkpoints, exact
// resume, the finite-loss guard, and SIGINT / SIGTERM that save before stopping. What one step does (a batch, micro-batches and
// accumulation, a rollout) is the trainer's `step` hook; the loop owns everything around it.
//
// Exact resume: the loop restores params, Adam moments, the optimizer step and the data cursor,
// and rewrites metrics.jsonl to end at the checkpoint, so a resumed run continues as if it had
// never stopped (bit-identical when the step graph is deterministic).
//
// Finite-loss guard: the first step whose loss or gradient norm is NaN or ±Inf, or whose update
// leaves a non-finite parameter, stops the run with a UserError naming the step and the likely
// cause; no checkpoint is written after it, so the newest checkpoint is the last good one.
//
// Signals: the first SIGINT / SIGTERM says so at once, lets the current step finish, saves a
// checkpoint and stops with 130 / 143 (128 + signal); a second one only reminds; a third stops at
// once without saving. Checkpoint writes are synchronous, so no handler runs in the middle of one:
// a signal arriving during a write takes effect after the atomic rename.
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { MetricsWriter } from '../util/metrics.js';
import { startProgress } from '../util/progress.js';
import { keepJsonLines } from '../io/atomic.js';
import { learningRate, type ScheduleOptions } from './schedule.js';
import type { TrainState } from './optim.js';
import { NonFiniteStateError, loadLatestTrainCheckpoint, saveTrainCheckpoint } from './checkpoint.js';

const SIGNAL_NUMBER = { SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof SIGNAL_NUMBER;

/** Metrics the guard checks when a step reports them. */
const GUARDED = ['loss', 'grad_norm'] as const;

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
  let lastSaved: number | null = ck ? ck.step : null;
  let step = start;
  let stopSignal: StopSignal | null = null;
  let signals = 0;
  const onSignal = (sig: StopSignal) => {
    signals++;
    if (signals === 1) {
      stopSignal = sig;
      process.stderr.write(`\nsteer: ${sig} received: finishing step ${step + 1}/${o.steps} of ${o.name}, then saving a checkpoint and stopping\n`);
    } else if (signals === 2) {
      process.stderr.write(`steer: still finishing step ${step + 1}; the checkpoint is written next (a third ${sig} stops at once without it)\n`);
    } else {
      process.stderr.write(`steer: ${o.name} stopped without saving; ${lastSaved !== null ? `the checkpoint of step ${lastSaved} remains: run the same command again to resume from it` : 'no checkpoint had been saved'}\n`);
      process.exit(128 + SIGNAL_NUMBER[sig]);
    }
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  let lastMetrics: Record<string, number> = {};
  let lastEval: Record<string, number> | null = null;
  const diverged = (what: string) =>
    new UserError({
      what: `${o.name} diverged at step ${step}/${o.steps}: ${what}`,
      where: o.runDir,
      expected: 'a finite loss, gradient norm and parameters',
      fix:
        `the learning rate (peak ${o.schedule.peakLr}) is likely too high, or labels / margins too large; ` +
        (lastSaved !== null ? `the last good checkpoint (step ${lastSaved}) is kept in ${join(o.runDir, 'checkpoints')}; ` : 'no checkpoint had been saved; ') +
        'start over with a lower --lr (--no-resume, or a new --out)',
    });
  try {
    while (step < o.steps) {
      const lr = learningRate(step, { ...o.schedule, totalSteps: o.steps });
      const t0 = performance.now();
      const r = await hooks.step({ state, step, lr, cursor });
      cursor = r.cursor;
      step += 1;
      lastMetrics = r.metrics;
      metrics.write({ stage: o.name, step, lr, ...r.metrics, stepMs: performance.now() - t0 });
      const bad = GUARDED.filter((k) => k in r.metrics && !Number.isFinite(r.metrics[k]));
      if (bad.length > 0) throw diverged(bad.map((k) => `${k === 'loss' ? 'the loss' : 'the gradient norm'} is ${r.metrics[k]}`).join(', '));
      const atEnd = step === o.steps;
      if (hooks.evaluate && (atEnd || (evalEvery > 0 && step % evalEvery === 0))) {
        lastEval = await hooks.evaluate({ state, step });
        metrics.write({ stage: o.name, step, eval: true, ...lastEval });
      }
      if (atEnd || stopSignal !== null || (every > 0 && step % every === 0)) {
        try {
          saveTrainCheckpoint(o.runDir, { step, state, cursor }, o.keepCheckpoints ?? 2);
        } catch (e) {
          if (e instanceof NonFiniteStateError) throw diverged(`the update left NaN or infinite values in ${e.tensor}`);
          throw e;
        }
        lastSaved = step;
      }
      const fields: Record<string, number> = {};
      for (const k of o.show ?? Object.keys(r.metrics).slice(0, 3)) if (k in r.metrics) fields[k] = r.metrics[k];
      progress.update(step, fields);
      if (stopSignal !== null && !atEnd) {
        throw new UserError(
          { what: `${o.name} stopped by ${stopSignal} at step ${step}/${o.steps}; a checkpoint was saved`, where: o.runDir, fix: 'run the same command again to resume from it' },
          128 + SIGNAL_NUMBER[stopSignal as StopSignal],
        );
      }
    }
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigterm);
  }
  return { state, cursor, steps: step, resumedFrom: ck ? ck.step : null, metricsPath, lastMetrics, lastEval };
}

/** Keep only this stage's records up to `step` (and every other stage's records). */
function truncateMetrics(path: string, stage: string, step: number): void {
  keepJsonLines(path, (r) => r.stage !== stage || ((r.step as number | undefined) ?? 0) <= step);
}
