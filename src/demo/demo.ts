// `steer demo`: the Nemotron recipe end to end on the toy world, on a laptop's CPU.
//   world → SFT base policy → the panel rates the SFT policy's own sampled answers → reward models
//   (helpfulness regression, Scaled BT initialised from it, ExPO; --full: every Table-1 variant over
//   3 seeds) → DPO (for comparison) → REINFORCE with the reward model of best held-out accuracy
//   (k = 4, RLOO, β = 0.1, lr 1e-4) → evaluation (true accuracy from the world's
//   ground truth, RM reward, length, the strawberry probe) → knowledge check (held-out facts as
//   multiple choice, scored like MMLU-Pro: did alignment keep what SFT taught?) → report.html.
// Every stage writes into one run directory; running the demo again continues after the last
// finished stage (and a stage's trainer resumes from its last checkpoint).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { generateToyWorld, toyRatedFiles, toyWorldFiles, TOY_WORLD_FILES, type ToyWorld } from '../data/toy/world.js';
import { startProgress, type Progress } from '../util/progress.js';
import { isHeldOut } from '../data/prepare.js';
import { ratedFromHelpSteer2, pairsFromPreferenceRows, type RatedRow, type RewardPair } from '../reward/data.js';
import { readPairRecords, readRatedRecords } from '../data/load.js';
import { runRewardModelTable, type RewardTableRow } from '../reward/table.js';
import { RewardScorer } from '../reward/score.js';
import { initToyPolicy, loadPolicy, type PolicyModel } from '../policy/model.js';
import { trainSft } from '../policy/sft.js';
import { trainDpo } from '../policy/dpo.js';
import { trainReinforce } from '../policy/reinforce.js';
import { rewardModelSource } from '../policy/reward.js';
import { toyAccuracy } from '../policy/sample.js';
import { LlamaGenerator } from '../nn/generate.js';
import { ratePolicySamples } from '../policy/rate.js';
import { toyKnowledgeRows } from '../data/toy/knowledge.js';
import { makeResponse } from '../data/toy/styles.js';
import { taskFromPrompt } from '../data/toy/tasks.js';
import { Rng } from '../util/rng.js';
import { readMultipleChoice } from '../evaluate/mmlupro.js';
import { scoreByLikelihood } from '../evaluate/choice-likelihood.js';
import { runToyBenchmarks, type ToyBenchmarks } from './benchmarks.js';
import { runPipeline, type Stage, type StageRecord } from './stages.js';
import { renderDemoReport, type AlignmentRow, type DemoReportData, type Interval, type ProbeRow } from './report.js';
import { pairedBootstrapDiff, type BootstrapInterval } from '../util/bootstrap.js';

export type DemoPreset = 'quick' | 'default' | 'full';

export interface DemoOptions {
  out: string;
  seed: number;
  preset: DemoPreset;
  threads: number;
  quiet: boolean;
  /** Progress lines (stage starts/ends); defaults to stderr unless quiet. */
  log?: (line: string) => void;
}

/** Sizes per preset: `quick` is for CI (≤ 2 min), `default` ≤ 10 min on 2 cores, `full` the whole comparison. */
export interface DemoPlan {
  worldSize: number;
  /** Held-out prompts beyond the world's own 20 % of its size (drawn last, so the other sets stay as they are). */
  extraEvalPrompts: number;
  policy: { hiddenSize: number; numLayers: number };
  sftSteps: number;
  /**
   * SFT batch size. With 32 rows a step for 2,000 steps the policy answers "1" to nearly every
   * count and never spells, reverses or adds right (greedy 0–9 %), so REINFORCE has nothing to
   * reinforce; 128 rows a step over the same steps get it to 9–22 % on those (docs/demo.md).
   */
  sftBatchSize: number;
  /**
   * Samples per prompt the SFT policy answers for the panel to rate (its rated and SFT prompts):
   * the on-policy ratings the reward models learn the policy's own mistakes from. 0 = none.
   */
  ratedSamples: number;
  rmVariants: readonly string[];
  rmSeeds: number;
  rmEpochs: number;
  dpoLosses: readonly ('regular' | 'margin' | 'scaled')[];
  dpoSteps: number;
  rlSteps: number;
  rlPromptsPerStep: number;
  /** KL penalty β of REINFORCE (the paper's 0.01 over-optimises a policy this small within the demo's steps). */
  rlBeta: number;
  /**
   * REINFORCE learning rate. A gentle one: larger steps (2e-4, 3e-4) follow the reward models into
   * answer forms the policy garbles, and greedy accuracy falls (docs/policy.md).
   */
  rlLr: number;
  evalPrompts: number;
  /** Samples per held-out prompt (t = 1) behind the sampled accuracy. */
  samplesPerPrompt: number;
}

export const DEMO_PLANS: Record<DemoPreset, DemoPlan> = {
  quick: {
    worldSize: 400,
    extraEvalPrompts: 0,
    policy: { hiddenSize: 64, numLayers: 2 },
    sftSteps: 150,
    sftBatchSize: 32,
    ratedSamples: 2,
    rmVariants: ['reg-help', 'scaled-bt-init', 'scaled-bt-init-expo'],
    rmSeeds: 1,
    rmEpochs: 1,
    dpoLosses: ['regular'],
    dpoSteps: 20,
    rlSteps: 15,
    rlPromptsPerStep: 8,
    rlBeta: 0.1,
    rlLr: 1e-4,
    evalPrompts: 96,
    samplesPerPrompt: 16,
  },
  default: {
    worldSize: 1000,
    extraEvalPrompts: 400,
    policy: { hiddenSize: 64, numLayers: 2 },
    sftSteps: 2000,
    sftBatchSize: 128,
    ratedSamples: 4,
    rmVariants: ['reg-help', 'scaled-bt-init', 'scaled-bt-init-expo'],
    rmSeeds: 1,
    rmEpochs: 2,
    dpoLosses: ['regular'],
    dpoSteps: 60,
    rlSteps: 60,
    rlPromptsPerStep: 8,
    rlBeta: 0.1,
    rlLr: 1e-4,
    evalPrompts: 600,
    samplesPerPrompt: 8,
  },
  full: {
    worldSize: 1000,
    extraEvalPrompts: 400,
    policy: { hiddenSize: 64, numLayers: 2 },
    sftSteps: 2000,
    sftBatchSize: 128,
    ratedSamples: 4,
    rmVariants: ['reg5', 'reg5-help', 'reg-help', 'bt', 'margin-bt', 'scaled-bt', 'bt-init', 'margin-bt-init', 'scaled-bt-init', 'scaled-bt-init-expo'],
    rmSeeds: 3,
    rmEpochs: 2,
    dpoLosses: ['regular', 'margin', 'scaled'],
    dpoSteps: 60,
    // 60 like the default: 100 steps at lr 1e-4 trade greedy accuracy for sampled (docs/policy.md)
    rlSteps: 60,
    rlPromptsPerStep: 8,
    rlBeta: 0.1,
    rlLr: 1e-4,
    evalPrompts: 600,
    samplesPerPrompt: 16,
  },
};

interface Ctx {
  o: DemoOptions;
  plan: DemoPlan;
  runDir: string;
  log: (line: string) => void;
  /** The rate stage's files, read once. */
  policyRatings?: RatedData;
}

interface PolicyEval {
  /** Greedy answers. */
  accuracy: number;
  /** Sampled answers (temperature 1, the policy REINFORCE optimises), plan.samplesPerPrompt per prompt. */
  sampledAccuracy: number;
  /** The greedy answer to each held-out prompt (the toy benchmarks judge these). */
  greedy: { prompt: string; response: string; correct: boolean }[];
  /** Per held-out prompt: how many of its sampled answers are right. */
  sampledCorrect: number[];
  rewardScore: number;
  lengthChars: number;
  ended: number;
  /** Greedy answers to the probes. */
  probes: { prompt: string; response: string; correct: boolean }[];
  /** PROBE_SAMPLES sampled answers (t = 1) per probe, probe after probe (absent in runs from before they were kept). */
  probeSamples?: { prompt: string; response: string; correct: boolean }[];
}

export interface DemoResult {
  runDir: string;
  reportPath: string;
  summaryPath: string;
  summary: DemoSummary;
}

export interface DemoSummary {
  seed: number;
  preset: DemoPreset;
  rewardModels: { id: string; name: string; accuracies: number[] }[];
  /** Id of the reward model REINFORCE optimised (and every policy is scored with). */
  rlRewardModel: string;
  policies: Record<
    string,
    {
      trueAccuracy: number;
      sampledAccuracy: number;
      rewardScore: number;
      meanLengthChars: number;
      ended: number;
      /** Paired-bootstrap 95 % intervals of the accuracy difference to the SFT base (fractions; absent for the base). */
      greedyVsBase?: BootstrapInterval;
      sampledVsBase?: BootstrapInterval;
      /** The toy benchmarks' scores (absent in runs from before them). */
      arenaHard?: ToyBenchmarks['arenaHard'][string];
      alpacaEval?: ToyBenchmarks['alpacaEval'][string];
      mtBench?: ToyBenchmarks['mtBench'][string];
      knowledgeAccuracy?: number;
      /** Probe words answered right greedily (of the 7). */
      probesRight: number;
    }
  >;
  stageSeconds: Record<string, number>;
}

/** A policy's knowledge check: accuracy overall and per task kind (MMLU-Pro's tally). */
export interface KnowledgeResult {
  accuracy: number;
  correct: number;
  total: number;
  categories: Record<string, { corr: number; wrong: number; acc: number }>;
}

export interface KnowledgeStage {
  questions: number;
  chance: number;
  policies: Record<string, KnowledgeResult>;
}

/** Held-out prompts asked as multiple choice in the knowledge check (at most; the quick world has 100). */
const KNOWLEDGE_QUESTIONS = 120;

/** Sampled answers shown per probe in the report, beside the greedy one. */
const PROBE_SAMPLES = 3;

/** Longest answer sampled from a policy (toy answers take at most ~40 characters). */
const MAX_NEW_TOKENS = 48;


let worldCache: { key: string; world: ToyWorld } | null = null;
function world(ctx: Ctx): ToyWorld {
  const key = `${ctx.o.seed}/${ctx.plan.worldSize}/${ctx.plan.extraEvalPrompts}`;
  if (worldCache?.key !== key) worldCache = { key, world: generateToyWorld({ seed: ctx.o.seed, size: ctx.plan.worldSize, extraEvalPrompts: ctx.plan.extraEvalPrompts }) };
  return worldCache.world;
}

/** Share of the rated prompts held out for reward-model accuracy (by a hash of the prompt). */
const HELD_OUT = 0.2;
const heldOut = (w: ToyWorld, prompt: unknown) => isHeldOut(typeof prompt === 'string' ? prompt : JSON.stringify(prompt), HELD_OUT, w.seed);

/** Where the rate stage writes the panel's ratings of the SFT policy's samples (the world's HelpSteer2 file names). */
const POLICY_RATINGS_DIR = 'policy-ratings';
const policyRatingsFile = (ctx: Ctx, key: 'ratingsTrain' | 'ratingsValidation' | 'preferences') => join(ctx.runDir, POLICY_RATINGS_DIR, TOY_WORLD_FILES[key]);

/** The rated data the reward models and DPO learn from: the world's, plus the policy's answers rated by the panel. */
interface RatedData {
  ratings: RatedRow[];
  pairs: RewardPair[];
}

/** The rate stage's files, read back with the data layer's readers (pairs by the paper's rules). */
async function readPolicyRatings(ctx: Ctx): Promise<RatedData> {
  const data: RatedData = { ratings: [], pairs: [] };
  for (const key of ['ratingsTrain', 'ratingsValidation'] as const) for await (const r of readRatedRecords(policyRatingsFile(ctx, key))) data.ratings.push(r);
  for await (const { pair } of readPairRecords(policyRatingsFile(ctx, 'preferences'))) if (pair) data.pairs.push(pair);
  return data;
}

async function ratedData(ctx: Ctx): Promise<RatedData> {
  const w = world(ctx);
  const data: RatedData = { ratings: ratedFromHelpSteer2([...w.ratingsTrain, ...w.ratingsValidation]), pairs: pairsFromPreferenceRows(w.preferences) };
  if (ctx.plan.ratedSamples > 0) {
    ctx.policyRatings ??= await readPolicyRatings(ctx);
    data.ratings.push(...ctx.policyRatings.ratings);
    data.pairs.push(...ctx.policyRatings.pairs);
  }
  return data;
}

/** Preference pairs split by prompt: held-out pairs share no prompt with any training rating or pair. */
function splitPairs(w: ToyWorld, pairs: readonly RewardPair[]): { train: RewardPair[]; val: RewardPair[] } {
  return { train: pairs.filter((p) => !heldOut(w, p.prompt)), val: pairs.filter((p) => heldOut(w, p.prompt)) };
}

function trainRatings(w: ToyWorld, ratings: readonly RatedRow[]): RatedRow[] {
  return ratings.filter((r) => !heldOut(w, r.prompt));
}

const rmModelDir = (runDir: string, seed: number, id: string) =>
  id.endsWith('-expo') ? join(runDir, 'reward-models', `seed${seed}`, id) : join(runDir, 'reward-models', `seed${seed}`, id, 'model');

interface RewardModelResult {
  id: string;
  name: string;
  accuracies: number[];
  meanMargins: number[];
}

/**
 * The reward model REINFORCE optimises and every policy is scored with: the variant with the best
 * held-out pair accuracy (mean over the RM seeds; the first in table order on a tie), as the paper
 * took its best RewardBench model to align with. Its directory is the run seed's.
 */
function chosenRewardModel(ctx: Ctx, table: readonly RewardModelResult[]): { id: string; dir: string } {
  const rows = table.filter((r) => r.id !== 'reg5-help'); // reg5-help re-reads reg5's slots: no directory of its own
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const best = rows.reduce((b, r) => (mean(r.accuracies) > mean(b.accuracies) ? r : b), rows[0]);
  return { id: best.id, dir: rmModelDir(ctx.runDir, ctx.o.seed, best.id) };
}

async function evaluatePolicy(ctx: Ctx, policy: PolicyModel, scorer: RewardScorer): Promise<PolicyEval> {
  const w = world(ctx);
  const prompts = evalPrompts(ctx);
  const k = ctx.plan.samplesPerPrompt;
  // one generator for all of this policy's answers: its graphs are compiled once per shape
  const generator = new LlamaGenerator(policy.config, policy.weights, { threads: ctx.o.threads });
  try {
    const answer = (ps: readonly string[], temperature: number, seed: number) => toyAccuracy(policy, ps, { temperature, threads: ctx.o.threads, seed, generator });
    const acc = await answer(prompts, 0, ctx.o.seed);
    const sampled = await answer(prompts.flatMap((p) => Array.from({ length: k }, () => p)), 1, ctx.o.seed + 1);
    const sampledCorrect = prompts.map((_, i) => sampled.responses.slice(i * k, (i + 1) * k).filter((r) => r.correct).length);
    const rewards = await scorer.rewards(acc.responses.map((r) => ({ prompt: r.prompt, response: r.response })));
    const probePrompts = w.evalPrompts.filter((p) => p.probe).map((p) => p.prompt);
    const probes = await answer(probePrompts, 0, ctx.o.seed);
    const probeSamples = await answer(probePrompts.flatMap((p) => Array.from({ length: PROBE_SAMPLES }, () => p)), 1, ctx.o.seed + 2);
    return {
      accuracy: acc.accuracy,
      sampledAccuracy: sampled.accuracy,
      rewardScore: rewards.reduce((a, b) => a + b, 0) / Math.max(1, rewards.length),
      lengthChars: acc.lengthChars,
      ended: acc.ended,
      greedy: acc.responses,
      sampledCorrect,
      probes: probes.responses,
      probeSamples: probeSamples.responses,
    };
  } finally {
    await generator.release();
  }
}

/** The held-out (non-probe) prompts every policy is evaluated on, in the world's order. */
function evalPrompts(ctx: Ctx): string[] {
  return world(ctx).evalPrompts.filter((p) => !p.probe).slice(0, ctx.plan.evalPrompts).map((p) => p.prompt);
}

function stages(): Stage<Ctx>[] {
  return [
    {
      name: 'world',
      title: 'toy world: tasks, responses, a simulated annotator panel, aggregated ratings and preferences',
      run: async (ctx) => {
        const w = world(ctx);
        const dir = join(ctx.runDir, 'world');
        for (const [name, text] of Object.entries(toyWorldFiles(w))) writeFileAtomic(join(dir, name), text);
        const pairs = splitPairs(w, pairsFromPreferenceRows(w.preferences));
        return {
          ratings: w.ratingsTrain.length + w.ratingsValidation.length,
          preferenceTasks: w.preferences.length,
          pairsTrain: pairs.train.length,
          pairsValidation: pairs.val.length,
          sftExamples: w.sft.length,
          sftCorrectShare: w.sft.filter((r) => r.correct).length / Math.max(1, w.sft.length),
          rlPrompts: w.rlPrompts.length,
          evalPrompts: Math.min(ctx.plan.evalPrompts, w.evalPrompts.filter((p) => !p.probe).length),
          kappaBefore: w.agreement.preferences.before.kappaQuadratic,
          kappaAfter: w.agreement.preferences.after.kappaQuadratic,
        };
      },
    },
    {
      name: 'sft',
      title: 'SFT: a small char-level Llama learns the toy world from a mix of good and bad answers',
      run: async (ctx) => {
        const w = world(ctx);
        const r = await trainSft({
          policy: initToyPolicy(ctx.o.seed, ctx.plan.policy),
          data: w.sft,
          out: join(ctx.runDir, 'sft'),
          steps: ctx.plan.sftSteps,
          batchSize: ctx.plan.sftBatchSize,
          lr: 3e-3,
          schedule: 'cosine',
          warmupSteps: 30,
          seed: ctx.o.seed,
          threads: ctx.o.threads,
          quiet: ctx.o.quiet,
        });
        return { modelDir: r.modelDir, loss: r.lastMetrics.loss };
      },
    },
    {
      name: 'rate',
      title: 'the panel rates the SFT policy\'s own answers (several per rated and SFT prompt): HelpSteer2 ratings and preferences on-policy',
      run: async (ctx, results) => {
        const w = world(ctx);
        const k = ctx.plan.ratedSamples;
        if (k === 0) return { responses: 0 };
        const policy = loadPolicy((results.sft as { modelDir: string }).modelDir);
        let bar: Progress | undefined;
        const onBatch = (done: number, total: number) => (bar ??= startProgress('  sampling', total, { quiet: ctx.o.quiet })).update(done);
        const rated = await ratePolicySamples(policy, w, { samplesPerPrompt: k, seed: ctx.o.seed + 3, threads: ctx.o.threads, maxNewTokens: MAX_NEW_TOKENS, onBatch });
        bar?.stop();
        for (const [name, text] of Object.entries(toyRatedFiles(rated))) writeFileAtomic(join(ctx.runDir, POLICY_RATINGS_DIR, name), text);
        const pairs = splitPairs(w, pairsFromPreferenceRows(rated.preferences));
        return {
          prompts: rated.prompts,
          responses: rated.responses,
          correctShare: rated.correctShare,
          preferenceTasks: rated.preferences.length,
          pairsTrain: pairs.train.length,
          pairsValidation: pairs.val.length,
          kappaBefore: rated.agreement.preferences.before.kappaQuadratic,
          kappaAfter: rated.agreement.preferences.after.kappaQuadratic,
        };
      },
    },
    {
      name: 'reward-models',
      title: 'reward models, started from the SFT policy, on the world\'s and the policy answers\' ratings: helpfulness regression → Scaled BT initialised from it → ExPO',
      run: async (ctx, results) => {
        const w = world(ctx);
        const data = await ratedData(ctx);
        const pairs = splitPairs(w, data.pairs);
        const rows = await runRewardModelTable({
          trainPairs: pairs.train,
          trainRatings: trainRatings(w, data.ratings),
          valPairs: pairs.val,
          out: join(ctx.runDir, 'reward-models'),
          base: (results.sft as { modelDir: string }).modelDir,
          seeds: Array.from({ length: ctx.plan.rmSeeds }, (_, i) => ctx.o.seed + i),
          ratingEpochs: ctx.plan.rmEpochs,
          pairEpochs: ctx.plan.rmEpochs,
          threads: ctx.o.threads,
          quiet: ctx.o.quiet,
          only: ctx.plan.rmVariants,
          onResult: (r) => ctx.log(`  ${r.id} (seed ${r.seed}): held-out pair accuracy ${(100 * r.accuracy).toFixed(1)} %`),
        });
        return rows.map((r: RewardTableRow) => ({ id: r.id, name: r.name, accuracies: r.accuracies, meanMargins: r.meanMargins }));
      },
    },
    {
      name: 'dpo',
      title: 'DPO from the SFT policy on the same preference pairs (for comparison)',
      run: async (ctx, results) => {
        const sft = results.sft as { modelDir: string };
        const pairs = splitPairs(world(ctx), (await ratedData(ctx)).pairs);
        const out: Record<string, { modelDir: string; loss: number }> = {};
        for (const loss of ctx.plan.dpoLosses) {
          const r = await trainDpo({
            policy: sft.modelDir,
            pairs: pairs.train,
            evalPairs: pairs.val,
            loss,
            out: join(ctx.runDir, `dpo-${loss}`),
            steps: ctx.plan.dpoSteps,
            seed: ctx.o.seed,
            threads: ctx.o.threads,
            quiet: ctx.o.quiet,
          });
          out[loss] = { modelDir: r.modelDir, loss: r.lastMetrics.loss };
        }
        return out;
      },
    },
    {
      name: 'reinforce',
      title: 'REINFORCE from the SFT policy against the reward model of best held-out accuracy: k = 4 samples per prompt, leave-one-out baseline, KL penalty β',
      run: async (ctx, results) => {
        const sft = results.sft as { modelDir: string };
        const w = world(ctx);
        const rm = chosenRewardModel(ctx, results['reward-models'] as RewardModelResult[]);
        ctx.log(`  reward model: ${rm.id} (the best held-out pair accuracy)`);
        const reward = rewardModelSource(rm.dir, { threads: ctx.o.threads });
        const r = await trainReinforce({
          policy: sft.modelDir,
          reward,
          prompts: w.rlPrompts.map((p) => p.prompt),
          out: join(ctx.runDir, 'reinforce'),
          steps: ctx.plan.rlSteps,
          promptsPerStep: ctx.plan.rlPromptsPerStep,
          samplesPerPrompt: 4,
          beta: ctx.plan.rlBeta,
          lr: ctx.plan.rlLr,
          seed: ctx.o.seed,
          threads: ctx.o.threads,
          quiet: ctx.o.quiet,
        }).finally(() => reward.release?.());
        return { modelDir: r.modelDir, rewardModel: rm.id, lastMetrics: r.lastMetrics };
      },
    },
    {
      name: 'evaluate',
      title: 'evaluation: true accuracy (ground truth), RM reward and length for SFT, DPO, REINFORCE; the strawberry probe',
      run: async (ctx, results) => {
        const scorer = RewardScorer.load(chosenRewardModel(ctx, results['reward-models'] as RewardModelResult[]).dir, { threads: ctx.o.threads });
        const dirs = policyDirs(results);
        const evals: Record<string, PolicyEval> = {};
        for (const [name, dir] of Object.entries(dirs)) {
          evals[name] = await evaluatePolicy(ctx, loadPolicy(dir), scorer);
          const e = evals[name];
          ctx.log(`  ${name}: true accuracy ${(100 * e.accuracy).toFixed(1)} % greedy, ${(100 * e.sampledAccuracy).toFixed(1)} % sampled; RM reward ${e.rewardScore.toFixed(3)}`);
        }
        await scorer.release();
        writeJsonAtomic(join(ctx.runDir, 'evaluation.json'), evals);
        return evals;
      },
    },
    {
      name: 'benchmarks',
      title: "the toy benchmarks — MT-Bench-style grading, AlpacaEval-style length-controlled win rate, Arena-Hard-style Bradley–Terry score — with the world's annotator panel as the judge",
      run: async (ctx, results) => {
        const evals = results.evaluate as Record<string, PolicyEval>;
        const r = await runToyBenchmarks({
          seed: ctx.o.seed,
          dir: join(ctx.runDir, 'benchmarks'),
          prompts: evals['SFT base'].greedy.map((g) => g.prompt),
          answers: Object.fromEntries(Object.entries(evals).map(([name, e]) => [name, e.greedy.map((g) => g.response)])),
          baseline: 'SFT base',
          baselineWrong: evals['SFT base'].sampledCorrect.map((c) => ctx.plan.samplesPerPrompt - c),
          samples: ctx.plan.samplesPerPrompt,
          quiet: ctx.o.quiet,
        });
        for (const name of Object.keys(evals)) {
          ctx.log(`  ${name}: Arena-Hard-style ${r.arenaHard[name].score.toFixed(1)}, AlpacaEval-LC-style ${r.alpacaEval[name].lcWinRate.toFixed(1)}, MT-Bench-style ${r.mtBench[name].score.toFixed(2)}`);
        }
        return r;
      },
    },
    {
      name: 'knowledge',
      title: 'knowledge check: held-out facts as multiple choice (the likelihood of each option), scored like MMLU-Pro, for SFT, DPO, REINFORCE',
      run: async (ctx, results) => {
        const w = world(ctx);
        const dir = join(ctx.runDir, 'knowledge');
        const prompts = w.evalPrompts.filter((p) => !p.probe).slice(0, KNOWLEDGE_QUESTIONS).map((p) => p.prompt);
        // written in the generic multiple-choice format and read back as `steer eval mmlu-pro` reads it
        const questionsPath = join(dir, 'questions.jsonl');
        writeFileAtomic(questionsPath, toyKnowledgeRows(prompts, ctx.o.seed).map((r) => JSON.stringify(r) + '\n').join(''));
        const questions = await readMultipleChoice(questionsPath);
        const out: Record<string, KnowledgeResult> = {};
        for (const [name, modelDir] of Object.entries(policyDirs(results))) {
          const s = await scoreByLikelihood(loadPolicy(modelDir), questions, { threads: ctx.o.threads });
          out[name] = { accuracy: s.accuracy, correct: s.correct, total: s.total, categories: s.categories };
          ctx.log(`  ${name}: knowledge ${(100 * s.accuracy).toFixed(1)} % (${s.correct} / ${s.total})`);
        }
        // expected accuracy of a uniform guess: the mean of 1 / options
        const chance = questions.reduce((a, q) => a + 1 / q.options.length, 0) / questions.length;
        const result: KnowledgeStage = { questions: questions.length, chance, policies: out };
        writeJsonAtomic(join(dir, 'results.json'), result);
        return result;
      },
    },
  ];
}

/** The policies evaluated, by report name: the SFT base, each DPO loss, REINFORCE. */
function policyDirs(results: Record<string, unknown>): Record<string, string> {
  const dirs: Record<string, string> = { 'SFT base': (results.sft as { modelDir: string }).modelDir };
  for (const [loss, d] of Object.entries(results.dpo as Record<string, { modelDir: string }>)) dirs[loss === 'regular' ? 'DPO' : `DPO (${loss})`] = d.modelDir;
  dirs.REINFORCE = (results.reinforce as { modelDir: string }).modelDir;
  return dirs;
}

function readCurve(path: string, stage: string): Record<string, number>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, number | string | boolean>)
    .filter((r) => r.stage === stage && !r.eval) as Record<string, number>[];
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const runDir = resolve(o.out);
  mkdirSync(runDir, { recursive: true });
  const log = o.log ?? ((line: string) => (o.quiet ? undefined : process.stderr.write(line + '\n')));
  const plan = DEMO_PLANS[o.preset];
  const ctx: Ctx = { o, plan, runDir, log };
  const all = stages();
  const finished = await runPipeline(runDir, { seed: o.seed, preset: o.preset, plan }, all, ctx, {
    onStageStart: (name, title, i, n) => log(`[${i + 1}/${n}] ${name}: ${title}`),
    onStageSkip: (name, rec) => log(`      ${name}: done earlier (${rec.seconds.toFixed(1)} s), skipped`),
    onStageEnd: (name, rec) => log(`      ${name}: finished in ${rec.seconds.toFixed(1)} s`),
  });
  return writeReport(ctx, finished);
}

/** The world's statistics as the report labels them. */
const WORLD_LABELS: Record<string, string> = {
  ratings: "the world's responses rated by the panel (HelpSteer2 rows)",
  preferenceTasks: "the world's response pairs compared by the panel (HelpSteer2-Preference rows)",
  pairsTrain: 'preference pairs the reward models train on (after the paper\'s filtering)',
  pairsValidation: 'preference pairs held out for reward-model accuracy',
  sftExamples: 'SFT examples',
  sftCorrectShare: 'share of SFT examples whose answer is right',
  rlPrompts: 'REINFORCE prompts',
  evalPrompts: 'held-out evaluation prompts',
  kappaBefore: "annotator agreement on preferences before filtering (Cohen's κ, quadratic weights)",
  kappaAfter: "annotator agreement on preferences after the paper's filtering (Cohen's κ, quadratic weights)",
};

/** The rate stage's statistics as the report labels them. */
const RATED_LABELS: Record<string, string> = {
  prompts: 'SFT-policy answers rated: prompts',
  responses: 'SFT-policy answers rated: answers',
  correctShare: 'SFT-policy answers rated: share that is right',
  preferenceTasks: 'SFT-policy answers rated: pairs compared',
  pairsTrain: 'SFT-policy answers rated: preference pairs to train on (after filtering)',
  pairsValidation: 'SFT-policy answers rated: preference pairs held out',
  kappaBefore: "SFT-policy answers rated: agreement before filtering (Cohen's κ)",
  kappaAfter: "SFT-policy answers rated: agreement after filtering (Cohen's κ)",
};

/** Per aligned policy: paired-bootstrap 95 % intervals of its greedy and sampled accuracy minus the SFT base's, over the held-out prompts. */
function policyGains(ctx: Ctx, evals: Record<string, PolicyEval>): Record<string, { greedy: BootstrapInterval; sampled: BootstrapInterval }> {
  const base = evals['SFT base'];
  const out: Record<string, { greedy: BootstrapInterval; sampled: BootstrapInterval }> = {};
  if (!base?.greedy) return out; // a run from before the per-prompt answers were kept
  const k = ctx.plan.samplesPerPrompt;
  const greedy = (e: PolicyEval) => e.greedy.map((g) => (g.correct ? 1 : 0));
  const sampled = (e: PolicyEval) => e.sampledCorrect.map((c) => c / k);
  for (const [name, e] of Object.entries(evals)) {
    if (name === 'SFT base') continue;
    out[name] = { greedy: pairedBootstrapDiff(greedy(e), greedy(base), { seed: ctx.o.seed }), sampled: pairedBootstrapDiff(sampled(e), sampled(base), { seed: ctx.o.seed }) };
  }
  return out;
}

const interval = (b: BootstrapInterval | undefined): Interval | undefined => (b ? { value: b.estimate, lower: b.lower, upper: b.upper } : undefined);

async function writeReport(ctx: Ctx, finished: Record<string, StageRecord>): Promise<DemoResult> {
  const r = (name: string) => finished[name].result;
  const worldStats = r('world') as Record<string, number>;
  const rateStats = (finished.rate?.result ?? {}) as Record<string, number>;
  const rms = r('reward-models') as RewardModelResult[];
  const chosen = chosenRewardModel(ctx, rms);
  const evals = r('evaluate') as Record<string, PolicyEval>;
  const knowledgeStage = finished.knowledge?.result as KnowledgeStage | undefined;
  const knowledge = knowledgeStage?.policies ?? {};
  const rl = readCurve(join(ctx.runDir, 'reinforce', 'metrics.jsonl'), 'reinforce');
  const dpo = readCurve(join(ctx.runDir, 'dpo-regular', 'metrics.jsonl'), 'dpo');
  const w = world(ctx);
  const truth = new Map(w.groundTruth.map((g) => [g.prompt, g.answer]));
  const probes: ProbeRow[] = (evals['SFT base']?.probes ?? []).map((p, i) => ({
    prompt: p.prompt,
    answer: truth.get(p.prompt) ?? '?',
    // the right answer worked out, as the world's worked style writes it ("r at 3, 8, 9, so 3.")
    worked: makeResponse(taskFromPrompt(p.prompt)!, 'worked', Rng.derive(ctx.o.seed, 'report/worked')).text,
    samples: Object.entries(evals).map(([policy, e]) => ({
      policy,
      text: e.probes[i].response,
      correct: e.probes[i].correct,
      sampled: e.probeSamples?.slice(i * PROBE_SAMPLES, (i + 1) * PROBE_SAMPLES).map((x) => ({ text: x.response, correct: x.correct })),
    })),
  }));
  const stageSeconds: Record<string, number> = {};
  for (const [k, v] of Object.entries(finished)) stageSeconds[k] = v.seconds;
  const benchmarks = finished.benchmarks?.result as ToyBenchmarks | undefined;
  const gains = policyGains(ctx, evals);
  const alignment: AlignmentRow[] | undefined = benchmarks
    ? Object.entries(evals).map(([policy, e]) => ({
        policy,
        arenaHard: { value: benchmarks.arenaHard[policy].score, lower: benchmarks.arenaHard[policy].lower, upper: benchmarks.arenaHard[policy].upper },
        alpacaLc: { value: benchmarks.alpacaEval[policy].lcWinRate, lower: benchmarks.alpacaEval[policy].lcLower, upper: benchmarks.alpacaEval[policy].lcUpper },
        mtBench: { value: benchmarks.mtBench[policy].score, lower: benchmarks.mtBench[policy].interval.lower, upper: benchmarks.mtBench[policy].interval.upper },
        mtBenchVsBase: interval(benchmarks.mtBench[policy].vsBaseline),
        lengthChars: e.lengthChars,
        greedy: e.accuracy,
        greedyVsBase: interval(gains[policy]?.greedy),
        sampled: e.sampledAccuracy,
        sampledVsBase: interval(gains[policy]?.sampled),
      }))
    : undefined;
  const data: DemoReportData = {
    title: `steer demo — the Nemotron recipe on the toy world (${ctx.o.preset})`,
    seed: ctx.o.seed,
    createdAt: new Date().toISOString(),
    world: [
      ...Object.entries(worldStats).map(([k, v]) => ({ label: WORLD_LABELS[k] ?? k, value: v })),
      ...Object.entries(rateStats).map(([k, v]) => ({ label: RATED_LABELS[k] ?? `SFT-policy answers rated: ${k}`, value: v })),
    ],
    alignment,
    benchmarkQuestions: benchmarks?.questions,
    rewardModels: rms.map((m) => ({ variant: m.name, accuracies: m.accuracies, note: m.id === chosen.id ? 'the RM REINFORCE optimises (best held-out accuracy)' : undefined })),
    samplesPerPrompt: ctx.plan.samplesPerPrompt,
    policies: Object.entries(evals).map(([policy, e]) => ({ policy, trueAccuracy: e.accuracy, sampledAccuracy: e.sampledAccuracy, rewardScore: e.rewardScore, meanLengthChars: e.lengthChars })),
    reinforce: rl.map((m) => ({ step: m.step, reward: m.reward_mean, kl: m.kl, lengthChars: m.response_chars })),
    dpo: dpo.map((m) => ({ step: m.step, loss: m.loss })),
    probes,
    knowledgeChance: knowledgeStage?.chance,
    knowledge: Object.entries(knowledge).map(([policy, k]) => ({ policy, accuracy: k.accuracy, correct: k.correct, total: k.total, categories: Object.fromEntries(Object.entries(k.categories).map(([c, v]) => [c, v.acc])) })),
    stageSeconds,
  };
  const reportPath = join(ctx.runDir, 'report.html');
  writeFileAtomic(reportPath, await renderDemoReport(data));
  const summary: DemoSummary = {
    seed: ctx.o.seed,
    preset: ctx.o.preset,
    rewardModels: rms.map((m) => ({ id: m.id, name: m.name, accuracies: m.accuracies })),
    rlRewardModel: chosen.id,
    policies: Object.fromEntries(
      Object.entries(evals).map(([k, e]) => [
        k,
        {
          trueAccuracy: e.accuracy,
          sampledAccuracy: e.sampledAccuracy,
          rewardScore: e.rewardScore,
          meanLengthChars: e.lengthChars,
          ended: e.ended,
          ...(gains[k] ? { greedyVsBase: gains[k].greedy, sampledVsBase: gains[k].sampled } : {}),
          ...(benchmarks ? { arenaHard: benchmarks.arenaHard[k], alpacaEval: benchmarks.alpacaEval[k], mtBench: benchmarks.mtBench[k] } : {}),
          ...(knowledge[k] ? { knowledgeAccuracy: knowledge[k].accuracy } : {}),
          probesRight: e.probes.filter((p) => p.correct).length,
        },
      ]),
    ),
    stageSeconds,
  };
  const summaryPath = join(ctx.runDir, 'summary.json');
  writeJsonAtomic(summaryPath, summary);
  return { runDir: ctx.runDir, reportPath, summaryPath, summary };
}
