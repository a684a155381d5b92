// `steer recipe run PLAN.json --out DIR`: the paper's recipe as one plan file — regression RM →
// Scaled BT initialised from it → ExPO → REINFORCE → evaluations — each stage in-process or through
// an engine on Ray (export → launch → import), so the same plan runs on a laptop and on a cluster.
//   {"format": "steer-recipe", "version": 1, "ray": "http://HEAD:8265", "output": "/shared/runs",
//    "stages": [{"name": "reg", "kind": "rm", "loss": "regression", "init": "base/", "ratings": [...]},
//               {"name": "sbt", "kind": "rm", "loss": "scaled-bt", "init": "reg", "pairs": [...], "engine": "trl"},
//               {"name": "expo", "kind": "expo", "weak": "reg", "strong": "sbt", "alpha": 1.52},
//               {"name": "rl", "kind": "reinforce", "policy": "sft/", "reward": "expo", "prompts": [...]},
//               {"name": "eval", "kind": "rm-eval", "models": ["reg", "sbt", "expo"], "pairs": [...]}]}
// A model reference is an earlier stage's name (its model) or a path. Each stage writes DIR/<name>/
// (model/ for the stages that make one) and DIR/<name>/.done when finished: rerunning skips
// finished stages. JSON, not YAML: no new dependency, and steer's configs are JSON already.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { UserError, describeValue } from '../util/errors.js';
import { parseConfig } from '../util/config.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { trainRewardModel } from '../reward/train.js';
import { EXPO_ALPHA, expo } from '../reward/expo.js';
import { evaluatePairs } from '../reward/evaluate.js';
import { readPairFile, type RewardPair } from '../reward/data.js';
import { REWARD_LOSSES, type RewardLossKind } from '../reward/losses.js';
import { trainReinforce } from '../policy/reinforce.js';
import { httpRewardSource, rewardModelSource } from '../policy/reward.js';
import { readPromptsFile } from '../policy/data.js';
import type { Prompt } from '../data/helpsteer2.js';
import { exportJob } from './export.js';
import { importJobOutput } from './import.js';
import { JOB_OUTPUT_ENV } from './job.js';
import { RayJobsClient, jobExitCode, submitJobDir, watchJob } from './ray.js';

const files = z.array(z.string().min(1));
const trainOptions = z.strictObject({
  epochs: z.number().positive().optional(),
  steps: z.number().int().min(1).optional(),
  lr: z.number().positive().optional(),
  batchSize: z.number().int().min(1).optional(),
  warmupSteps: z.number().int().min(0).optional(),
  seed: z.number().int().min(0).optional(),
});

const rmStage = z.strictObject({
  name: z.string().regex(/^[\w.-]+$/, 'letters, digits, "_", "-", "." (it names a directory)'),
  kind: z.literal('rm'),
  loss: z.enum(REWARD_LOSSES as [RewardLossKind, ...RewardLossKind[]]),
  /** Start from (stage or path); absent = a toy-sized model from scratch (in-process only). */
  init: z.string().min(1).optional(),
  pairs: files.default([]),
  valPairs: files.default([]),
  ratings: files.default([]),
  attributes: z.array(z.string()).optional(),
  readSlot: z.string().optional(),
  engine: z.literal('trl').optional(),
  options: trainOptions.default({}),
});
const expoStage = z.strictObject({ name: rmStage.shape.name, kind: z.literal('expo'), weak: z.string().min(1), strong: z.string().min(1), alpha: z.number().default(EXPO_ALPHA) });
const reinforceStage = z.strictObject({
  name: rmStage.shape.name,
  kind: z.literal('reinforce'),
  policy: z.string().min(1),
  /** A reward model (stage name or path) scored in-process, or … */
  reward: z.string().min(1).optional(),
  /** … an HTTP reward endpoint (required through an engine: the cluster calls it). */
  rewardUrl: z.string().url().optional(),
  prompts: files.min(1),
  engine: z.literal('trl').optional(),
  options: trainOptions.extend({ samplesPerPrompt: z.number().int().min(2).optional(), promptsPerStep: z.number().int().min(1).optional(), beta: z.number().min(0).optional(), maxNewTokens: z.number().int().min(1).optional() }).default({}),
});
const evalStage = z.strictObject({ name: rmStage.shape.name, kind: z.literal('rm-eval'), models: z.array(z.string().min(1)).min(1), pairs: files.min(1) });

export const recipeSchema = z.strictObject({
  format: z.literal('steer-recipe'),
  version: z.literal(1),
  /** Ray dashboard for engine stages. */
  ray: z.string().optional(),
  /** Where engine jobs write (shared storage on a cluster); default DIR/<stage>/output. */
  output: z.string().optional(),
  stages: z.array(z.discriminatedUnion('kind', [rmStage, expoStage, reinforceStage, evalStage])).min(1),
});
export type Recipe = z.output<typeof recipeSchema>;
export type RecipeStage = Recipe['stages'][number];

export function readRecipe(path: string): Recipe {
  if (!existsSync(path)) throw new UserError({ what: 'the recipe file does not exist', where: path, fix: 'write one: `steer recipe example --out recipe.json`' });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError({ what: `the recipe is not valid JSON (${(e as Error).message})`, where: path, fix: 'fix the JSON' });
  }
  const recipe = parseConfig(recipeSchema, raw, path);
  checkRecipe(recipe, path);
  return recipe;
}

/** Cross-stage checks: unique names, references to earlier model-making stages, engines need Ray. */
export function checkRecipe(r: Recipe, where: string): void {
  const made = new Set<string>();
  const seen = new Set<string>();
  const ref = (stage: string, field: string, v: string) => {
    if (seen.has(v) && !made.has(v)) throw new UserError({ what: `stage ${stage}: ${field} names stage ${describeValue(v)}, which makes no model`, where: `${where}: stages.${stage}.${field}`, fix: 'name an rm, expo or reinforce stage' });
    if (!seen.has(v) && !existsSync(v)) throw new UserError({ what: `stage ${stage}: ${field} ${describeValue(v)} is neither an earlier stage nor an existing path`, where: `${where}: stages.${stage}.${field}`, expected: `one of ${[...made].join(', ') || '(no earlier stage)'} or a model directory`, fix: 'order the stages so each uses only earlier ones, or fix the path' });
  };
  for (const s of r.stages) {
    if (seen.has(s.name)) throw new UserError({ what: `two stages are named ${describeValue(s.name)}`, where: `${where}: stages`, fix: 'give each stage its own name' });
    if (s.kind === 'rm' && s.init !== undefined) ref(s.name, 'init', s.init);
    if (s.kind === 'rm' && s.init === undefined && s.engine) throw new UserError({ what: `stage ${s.name}: an engine needs a starting model`, where: `${where}: stages.${s.name}.init`, fix: 'set "init" to a model directory or an earlier stage' });
    if (s.kind === 'expo') (ref(s.name, 'weak', s.weak), ref(s.name, 'strong', s.strong));
    if (s.kind === 'reinforce') {
      ref(s.name, 'policy', s.policy);
      if ((s.reward === undefined) === (s.rewardUrl === undefined)) throw new UserError({ what: `stage ${s.name}: give exactly one of reward (a reward model) and rewardUrl`, where: `${where}: stages.${s.name}`, fix: 'e.g. "reward": "expo"' });
      if (s.reward !== undefined) ref(s.name, 'reward', s.reward);
      if (s.engine && !s.rewardUrl) throw new UserError({ what: `stage ${s.name}: REINFORCE through an engine needs rewardUrl (the cluster calls the reward model over HTTP)`, where: `${where}: stages.${s.name}`, fix: 'serve the reward model (`steer serve`) and set "rewardUrl"' });
    }
    if (s.kind === 'rm-eval') for (const m of s.models) ref(s.name, 'models', m);
    if ((s.kind === 'rm' || s.kind === 'reinforce') && s.engine && !r.ray) throw new UserError({ what: `stage ${s.name} runs on ${s.engine} but the recipe has no "ray" address`, where, fix: 'add "ray": "http://HEAD:8265"' });
    seen.add(s.name);
    if (s.kind !== 'rm-eval') made.add(s.name);
  }
}

export interface RecipeRunOptions {
  out: string;
  log?: (line: string) => void;
  /** Job logs of engine stages (default: stderr). */
  onJobLog?: (text: string) => void;
}

export interface RecipeStageResult {
  name: string;
  kind: RecipeStage['kind'];
  where: 'in-process' | string;
  skipped: boolean;
  model?: string;
  results?: Record<string, { n: number; accuracy: number }>;
}

async function pairsOf(paths: readonly string[]): Promise<RewardPair[]> {
  const out: RewardPair[] = [];
  for (const p of paths) out.push(...(await readPairFile(p)));
  return out;
}

/** Run a recipe's stages in order (finished stages are skipped). */
export async function runRecipe(recipe: Recipe, o: RecipeRunOptions): Promise<RecipeStageResult[]> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const models = new Map<string, string>();
  const model = (v: string) => models.get(v) ?? v;
  const results: RecipeStageResult[] = [];
  for (const s of recipe.stages) {
    const dir = resolve(o.out, s.name);
    const done = join(dir, '.done');
    const modelDir = join(dir, 'model');
    const where = 'engine' in s && s.engine ? `${s.engine} on Ray` : 'in-process';
    if (s.kind !== 'rm-eval') models.set(s.name, modelDir);
    if (existsSync(done)) {
      log(`recipe: ${s.name} (${s.kind}) finished earlier, skipped`);
      results.push({ name: s.name, kind: s.kind, where, skipped: true, ...(s.kind !== 'rm-eval' ? { model: modelDir } : {}) });
      continue;
    }
    log(`recipe: ${s.name} (${s.kind}, ${where})`);
    let evalResults: RecipeStageResult['results'];
    if ((s.kind === 'rm' || s.kind === 'reinforce') && s.engine) {
      const job = await exportJob(
        s.kind === 'rm'
          ? { engine: s.engine, stage: 'rm', loss: s.loss, model: model(s.init!), pairs: s.pairs, valPairs: s.valPairs, ratings: s.ratings, attributes: s.attributes, readSlot: s.readSlot, ...s.options, out: join(dir, 'job'), log }
          : { engine: s.engine, stage: 'reinforce', model: model(s.policy), prompts: s.prompts, rewardUrl: s.rewardUrl, ...s.options, out: join(dir, 'job'), log },
      );
      const client = new RayJobsClient(recipe.ray!);
      const output = recipe.output ? join(recipe.output, s.name) : join(dir, 'output');
      const sub = await submitJobDir(client, job.dir, { output, entrypoint: job.manifest.entrypoint, cpus: job.manifest.resources.cpus, gpus: job.manifest.resources.gpus, env: { [JOB_OUTPUT_ENV]: output } });
      log(`recipe: ${s.name}: job ${sub.id} submitted to ${client.address}`);
      const d = await watchJob(client, sub.id, { onLog: o.onJobLog ?? ((t) => process.stderr.write(t)) });
      if (d.status !== 'SUCCEEDED') throw new UserError({ what: `stage ${s.name} ${d.status} on Ray (exit ${jobExitCode(d)})${d.message ? `: ${d.message.trim().split('\n').pop()}` : ''}`, where: `job ${sub.id}`, fix: `see \`steer jobs logs ${sub.id} --ray ${client.address}\`; rerun the recipe to retry from this stage` });
      importJobOutput({ job: job.dir, from: output, out: modelDir });
    } else if (s.kind === 'rm') {
      await trainRewardModel({ loss: s.loss, init: s.init === undefined ? undefined : model(s.init), trainPairs: s.pairs, valPairs: s.valPairs, trainRatings: s.ratings, attributes: s.attributes, readSlot: s.readSlot, ...s.options, out: dir, quiet: true });
    } else if (s.kind === 'expo') {
      expo(model(s.weak), model(s.strong), s.alpha, modelDir);
    } else if (s.kind === 'reinforce') {
      const prompts: Prompt[] = [];
      for (const f of s.prompts) prompts.push(...(await readPromptsFile(f)));
      const reward = s.reward !== undefined ? rewardModelSource(model(s.reward)) : httpRewardSource(s.rewardUrl!);
      await trainReinforce({ policy: model(s.policy), reward, prompts, ...s.options, out: dir, quiet: true });
    } else {
      const pairs = await pairsOf(s.pairs);
      evalResults = {};
      for (const m of s.models) {
        const e = await evaluatePairs(model(m), pairs);
        evalResults[m] = { n: e.overall.n, accuracy: e.overall.accuracy };
        log(`recipe: ${s.name}: ${m} ${(100 * e.overall.accuracy).toFixed(1)} % on ${e.overall.n} pairs`);
      }
      writeJsonAtomic(join(dir, 'results.json'), evalResults);
    }
    writeFileSync(done, new Date().toISOString() + '\n');
    results.push({ name: s.name, kind: s.kind, where, skipped: false, ...(s.kind !== 'rm-eval' ? { model: modelDir } : {}), ...(evalResults ? { results: evalResults } : {}) });
  }
  return results;
}

/** The paper's recipe on the toy world's prepared files (README: steer data toy / data prepare). */
export function exampleRecipe(opts: { base?: string; prep: string; prompts: string; sft: string; ray?: string }): Recipe {
  const p = (f: string) => join(opts.prep, f);
  return {
    format: 'steer-recipe',
    version: 1,
    ...(opts.ray ? { ray: opts.ray } : {}),
    stages: [
      { name: 'regression', kind: 'rm', loss: 'regression', ...(opts.base ? { init: opts.base } : {}), ratings: [p('ratings-train.jsonl')], pairs: [], valPairs: [p('pairs-val.jsonl')], attributes: ['helpfulness'], options: { epochs: 3 } },
      { name: 'scaled-bt', kind: 'rm', loss: 'scaled-bt', init: 'regression', pairs: [p('pairs-train.jsonl')], valPairs: [p('pairs-val.jsonl')], ratings: [], ...(opts.ray ? { engine: 'trl' as const } : {}), options: { epochs: 3, lr: 3e-4 } },
      { name: 'expo', kind: 'expo', weak: 'regression', strong: 'scaled-bt', alpha: EXPO_ALPHA },
      { name: 'reinforce', kind: 'reinforce', policy: opts.sft, reward: 'expo', prompts: [opts.prompts], options: { steps: 60 } },
      { name: 'rm-eval', kind: 'rm-eval', models: ['regression', 'scaled-bt', 'expo'], pairs: [p('pairs-val.jsonl')] },
    ],
  };
}
