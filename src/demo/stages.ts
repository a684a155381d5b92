// A resumable pipeline of stages. Each finished stage's result (JSON) and duration are recorded in
// <run>/stages.json (written atomically); running the pipeline again skips finished stages and
// continues with the first unfinished one, whose own trainer resumes from its last checkpoint.
// The options that shape the results are stored too: continuing a run with different options is
// refused, since its stages would not belong together.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { writeJsonAtomic } from '../io/atomic.js';

export interface Stage<Ctx> {
  name: string;
  /** One line shown when the stage starts. */
  title: string;
  run(ctx: Ctx, results: Record<string, unknown>): Promise<unknown>;
}

export interface StageRecord {
  result: unknown;
  seconds: number;
  finishedAt: string;
}

export interface PipelineState {
  version: 1;
  options: Record<string, unknown>;
  finished: Record<string, StageRecord>;
}

export interface PipelineHooks {
  onStageStart?(stage: string, title: string, index: number, total: number): void;
  onStageSkip?(stage: string, record: StageRecord): void;
  onStageEnd?(stage: string, record: StageRecord): void;
}

export function readPipelineState(runDir: string): PipelineState | null {
  const p = join(runDir, 'stages.json');
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as PipelineState;
  } catch (e) {
    throw new UserError({ what: `cannot read the run's stage record: ${(e as Error).message}`, where: p, fix: 'delete the run directory (or choose another --out) to start over' });
  }
}

export async function runPipeline<Ctx>(
  runDir: string,
  options: Record<string, unknown>,
  stages: readonly Stage<Ctx>[],
  ctx: Ctx,
  hooks: PipelineHooks = {},
): Promise<Record<string, StageRecord>> {
  const path = join(runDir, 'stages.json');
  const prev = readPipelineState(runDir);
  if (prev && JSON.stringify(prev.options) !== JSON.stringify(options)) {
    throw new UserError({
      what: 'this run directory was started with different options',
      where: path,
      expected: JSON.stringify(prev.options),
      received: JSON.stringify(options),
      fix: 'rerun with the original options to continue it, or pass another --out directory',
    });
  }
  const state: PipelineState = prev ?? { version: 1, options, finished: {} };
  writeJsonAtomic(path, state);
  const results: Record<string, unknown> = {};
  for (const [name, rec] of Object.entries(state.finished)) results[name] = rec.result;
  for (const [i, stage] of stages.entries()) {
    const done = state.finished[stage.name];
    if (done) {
      hooks.onStageSkip?.(stage.name, done);
      continue;
    }
    hooks.onStageStart?.(stage.name, stage.title, i, stages.length);
    const t0 = performance.now();
    const result = await stage.run(ctx, results);
    const record: StageRecord = { result, seconds: (performance.now() - t0) / 1000, finishedAt: new Date().toISOString() };
    state.finished[stage.name] = record;
    results[stage.name] = result;
    writeJsonAtomic(path, state);
    hooks.onStageEnd?.(stage.name, record);
  }
  return state.finished;
}
