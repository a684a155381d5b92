// Policy acceptance on the toy world (issue 8): from one SFT base, REINFORCE against a reward model
// (the combined recipe of src/reward/recipe.ts: helpfulness regression → Scaled BT initialised from
// it → ExPO, as the demo trains it) and the three DPO
// variants on the same preference data; each policy is judged by the reward model and by the toy
// world's ground truth (true task accuracy). Prints one line per stage, the table, the REINFORCE
// step-time split, and a JSON summary (also written to OUT/summary.json).
//   node --import tsx bench/policy/toy_acceptance.ts [--seed 0] [--size 1000] [--sft-steps 2000]
//        [--sft-lr 3e-3] [--layers 2] [--hidden 64] [--rl-steps 60] [--rl-lr 1e-4] [--k 4]
//        [--prompts-per-step 8] [--beta 0.1] [--dpo-steps 100] [--dpo-lr 1e-4] [--rm-epochs 2]
//        [--eval-prompts 200] [--out /tmp/steer-policy-acceptance] [--threads 2] [--sft-model DIR] [--rm-model DIR]
//        [--rm-init sft|scratch|DIR] [--rated-samples 4] [--only reinforce,oracle,dpo]   (--sft-model / --rm-model: reuse an existing SFT policy / reward model;
//        the default runs REINFORCE against the RM, REINFORCE* against the ground truth, and DPO;
//        --rated-samples N: the panel also rates N sampled answers of the SFT policy per rated and SFT
//        prompt, as the demo does (0: the world's ratings only))
// Every stage keeps its run directory under OUT and resumes, so a second invocation reuses them.
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateToyWorld } from '../../src/data/toy/world.js';
import { isHeldOut } from '../../src/data/prepare.js';
import { pairsFromPreferenceRows, ratedFromHelpSteer2 } from '../../src/reward/data.js';
import { trainCombinedRewardModel } from '../../src/reward/recipe.js';
import { evaluatePairs } from '../../src/reward/evaluate.js';
import { RewardScorer } from '../../src/reward/score.js';
import { initToyPolicy, loadPolicy, type PolicyModel } from '../../src/policy/model.js';
import { trainSft } from '../../src/policy/sft.js';
import { trainReinforce } from '../../src/policy/reinforce.js';
import { trainDpo } from '../../src/policy/dpo.js';
import { rewardModelSource, toyCorrectnessReward } from '../../src/policy/reward.js';
import { samplePolicy } from '../../src/policy/sample.js';
import { ratePolicySamples } from '../../src/policy/rate.js';
import { scorePromptAnswer, taskFromPrompt } from '../../src/data/toy/tasks.js';
import type { DpoLossKind } from '../../src/policy/losses.js';

const { values: a } = parseArgs({
  options: {
    seed: { type: 'string', default: '0' },
    size: { type: 'string', default: '1000' },
    'sft-steps': { type: 'string', default: '2000' },
    'sft-lr': { type: 'string', default: '3e-3' },
    layers: { type: 'string', default: '2' },
    hidden: { type: 'string', default: '64' },
    'rl-steps': { type: 'string', default: '60' },
    'rl-lr': { type: 'string', default: '1e-4' },
    k: { type: 'string', default: '4' },
    'prompts-per-step': { type: 'string', default: '8' },
    beta: { type: 'string', default: '0.1' },
    'dpo-steps': { type: 'string', default: '100' },
    'dpo-lr': { type: 'string', default: '1e-4' },
    'dpo-beta': { type: 'string', default: '0.1' },
    'rm-epochs': { type: 'string', default: '2' },
    'eval-prompts': { type: 'string', default: '200' },
    out: { type: 'string', default: '/tmp/steer-policy-acceptance' },
    threads: { type: 'string', default: '2' },
    only: { type: 'string' },
    'sft-model': { type: 'string' },
    'rm-model': { type: 'string' },
    'rm-init': { type: 'string', default: 'sft' },
    'rated-samples': { type: 'string', default: '4' },
  },
});
const seed = Number(a.seed);
const threads = Number(a.threads);
const out = a.out!;
mkdirSync(out, { recursive: true });
const t0 = performance.now();
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${s}`);

const world = generateToyWorld({ seed, size: Number(a.size) });
const evalPrompts = world.evalPrompts.map((p) => p.prompt).slice(0, Number(a['eval-prompts']));
const rlPrompts = world.rlPrompts.map((p) => p.prompt);
log(`toy world seed ${seed} size ${a.size}: ${world.sft.length} SFT rows, ${rlPrompts.length} RL prompts, ${evalPrompts.length} eval prompts`);

// 1. SFT base (from scratch: a char-level Llama)
const H = Number(a.hidden);
const sftDir = join(out, 'sft');
const sft = a['sft-model']
  ? { policy: loadPolicy(a['sft-model']), steps: 0, lastMetrics: {} as Record<string, number> }
  : await trainSft({
      policy: initToyPolicy(seed, { hiddenSize: H, numLayers: Number(a.layers), intermediateSize: Math.round((H * 11) / 4) }),
      data: world.sft, out: sftDir, steps: Number(a['sft-steps']), batchSize: 32, lr: Number(a['sft-lr']), schedule: 'cosine', warmupSteps: 30, seed, threads, quiet: true,
    });
log(`SFT: ${a['sft-model'] ?? `${sft.steps} steps, last loss ${sft.lastMetrics.loss?.toFixed(3)}`}`);

// 2. Reward model: helpfulness-only regression, then Scaled BT initialised from it (the recipe)
const held = (p: unknown) => isHeldOut(p as string, 0.1, seed);
const ratedSamples = Number(a['rated-samples']);
const onPolicy = ratedSamples > 0 ? await ratePolicySamples(sft.policy, world, { samplesPerPrompt: ratedSamples, seed: seed + 3, threads }) : null;
if (onPolicy) log(`the panel rated ${onPolicy.responses} sampled SFT answers (${onPolicy.prompts} prompts × ${ratedSamples}; ${(100 * onPolicy.correctShare).toFixed(1)} % right)`);
const pairs = pairsFromPreferenceRows([...world.preferences, ...(onPolicy?.preferences ?? [])]);
const trainPairs = pairs.filter((p) => !held(p.prompt));
const valPairs = pairs.filter((p) => held(p.prompt));
const rated = ratedFromHelpSteer2([...world.ratingsTrain, ...world.ratingsValidation, ...(onPolicy ? [...onPolicy.ratingsTrain, ...onPolicy.ratingsValidation] : [])]).filter((r) => !held(r.prompt));
const rmEpochs = Number(a['rm-epochs']);
async function trainRecipeRm(): Promise<string> {
  // --rm-init sft: the reward model starts from the SFT policy's trunk (the paper starts it from the instruct model)
  const init = a['rm-init'] === 'sft' ? (a['sft-model'] ?? join(sftDir, 'model')) : a['rm-init'] === 'scratch' ? undefined : a['rm-init'];
  const r = await trainCombinedRewardModel({ trainRatings: rated, trainPairs, valPairs, out: join(out, 'rm'), ratingEpochs: rmEpochs, pairEpochs: rmEpochs, common: { init, seed, threads, quiet: true } });
  return r.expo.dir;
}
const rm = { modelDir: a['rm-model'] ?? (await trainRecipeRm()) };
const rmEval = await evaluatePairs(rm.modelDir, valPairs, { threads });
log(`RM (regression → Scaled BT → ExPO): held-out pair accuracy ${(100 * rmEval.overall.accuracy).toFixed(1)} % on ${valPairs.length} pairs`);
const rmScorer = RewardScorer.load(rm.modelDir, { threads });

interface Judged { name: string; accGreedy: number; accSampled: number; byKind: Record<string, number>; rmSampled: number; rmGreedy: number; lengthChars: number; ended: number; samples: { prompt: string; response: string }[] }
async function judge(name: string, p: PolicyModel): Promise<Judged> {
  const greedy = await samplePolicy(p, evalPrompts, { maxNewTokens: 48, temperature: 0, threads });
  const sampled = await samplePolicy(p, evalPrompts, { maxNewTokens: 48, temperature: 1, seed: 1234, threads });
  const acc = (ss: typeof greedy) => ss.filter((s, i) => scorePromptAnswer(evalPrompts[i], s.response).correct).length / ss.length;
  const rmMean = async (ss: typeof greedy) => {
    const r = await rmScorer.rewards(ss.map((s, i) => ({ prompt: evalPrompts[i], response: s.response })));
    return r.reduce((x, y) => x + y, 0) / r.length;
  };
  const byKind: Record<string, number> = {};
  const count: Record<string, number> = {};
  greedy.forEach((s, i) => {
    const k = taskFromPrompt(evalPrompts[i])!.kind;
    count[k] = (count[k] ?? 0) + 1;
    byKind[k] = (byKind[k] ?? 0) + (scorePromptAnswer(evalPrompts[i], s.response).correct ? 1 : 0);
  });
  for (const k of Object.keys(byKind)) byKind[k] /= count[k];
  const j: Judged = {
    name,
    byKind,
    accGreedy: acc(greedy),
    accSampled: acc(sampled),
    rmGreedy: await rmMean(greedy),
    rmSampled: await rmMean(sampled),
    lengthChars: sampled.reduce((x, s) => x + s.response.length, 0) / sampled.length,
    ended: sampled.filter((s) => s.ended).length / sampled.length,
    samples: evalPrompts.slice(0, 7).map((prompt, i) => ({ prompt, response: greedy[i].response })),
  };
  log(`${name}: true accuracy ${(100 * j.accGreedy).toFixed(1)} % greedy / ${(100 * j.accSampled).toFixed(1)} % sampled; RM ${j.rmGreedy.toFixed(3)} greedy / ${j.rmSampled.toFixed(3)} sampled; ${j.lengthChars.toFixed(1)} chars; greedy by kind ${Object.entries(byKind).map(([k, v]) => `${k} ${(100 * v).toFixed(0)}`).join(' ')}`);
  return j;
}
const want = (x: string) => !a.only || a.only.split(',').includes(x);
const rows: Judged[] = [await judge('SFT base', sft.policy)];

// 3. REINFORCE against the RM
let split: Record<string, number> | null = null;
let rlKl: number[] = [];
if (want('reinforce')) {
  const rl = await trainReinforce({
    policy: sft.policy, reward: rewardModelSource(rm.modelDir, { threads }), prompts: rlPrompts, out: join(out, 'reinforce'),
    steps: Number(a['rl-steps']), lr: Number(a['rl-lr']), promptsPerStep: Number(a['prompts-per-step']), samplesPerPrompt: Number(a.k), beta: Number(a.beta), seed, threads, quiet: true,
  });
  const m = readFileSync(rl.metricsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.stage === 'reinforce' && !r.eval);
  const mean = (k: string, rs = m) => rs.reduce((x, r) => x + r[k], 0) / rs.length;
  const steady = m.slice(1); // step 1 pays the compiles
  split = { generation_ms: mean('generation_ms', steady), logprob_ms: mean('logprob_ms', steady), scoring_ms: mean('scoring_ms', steady), update_ms: mean('update_ms', steady), step_ms: mean('stepMs', steady), generation_share: mean('generation_share', steady) };
  rlKl = m.map((r) => r.kl);
  log(`REINFORCE: ${rl.steps} steps; reward ${m[0].reward_mean.toFixed(3)} → ${m.at(-1).reward_mean.toFixed(3)} (mean of first/last 5: ${mean('reward_mean', m.slice(0, 5)).toFixed(3)} → ${mean('reward_mean', m.slice(-5)).toFixed(3)}); KL max ${Math.max(...rlKl).toFixed(4)}`);
  rows.push(await judge('REINFORCE', rl.policy));
}

// 3b. REINFORCE against the toy world's ground truth (an oracle reward): what the optimizer does
// when the reward measures correctness exactly
if (want('oracle')) {
  const rl = await trainReinforce({
    policy: sft.policy, reward: toyCorrectnessReward(), prompts: rlPrompts, out: join(out, 'reinforce-oracle'),
    steps: Number(a['rl-steps']), lr: Number(a['rl-lr']), promptsPerStep: Number(a['prompts-per-step']), samplesPerPrompt: Number(a.k), beta: Number(a.beta), seed, threads, quiet: true,
  });
  const m = readFileSync(rl.metricsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.stage === 'reinforce' && !r.eval);
  const mean = (k: string, rs = m) => rs.reduce((x, r) => x + r[k], 0) / rs.length;
  log(`REINFORCE (oracle): reward (mean of first/last 5) ${mean('reward_mean', m.slice(0, 5)).toFixed(3)} → ${mean('reward_mean', m.slice(-5)).toFixed(3)}; KL max ${Math.max(...m.map((r) => r.kl)).toFixed(4)}`);
  rows.push(await judge('REINFORCE*', rl.policy));
}

// 4. DPO variants on the RM's training pairs
for (const loss of ['regular', 'margin', 'scaled'] as DpoLossKind[]) {
  if (!want(`dpo-${loss}`) && !want('dpo')) continue;
  const d = await trainDpo({ policy: sft.policy, pairs: trainPairs, evalPairs: valPairs, loss, out: join(out, `dpo-${loss}`), steps: Number(a['dpo-steps']), lr: Number(a['dpo-lr']), beta: Number(a['dpo-beta']), batchSize: 8, seed, threads, quiet: true });
  log(`DPO ${loss}: held-out implicit-reward accuracy ${(100 * (d.lastEval?.eval_reward_accuracy ?? NaN)).toFixed(1)} %`);
  rows.push(await judge(`DPO ${loss}`, d.policy));
}

console.log(`\n${'policy'.padEnd(14)} ${'true acc greedy'.padStart(16)} ${'true acc t=1'.padStart(13)} ${'RM greedy'.padStart(10)} ${'RM t=1'.padStart(8)} ${'chars'.padStart(6)}`);
for (const r of rows) console.log(`${r.name.padEnd(14)} ${(100 * r.accGreedy).toFixed(1).padStart(14)} % ${(100 * r.accSampled).toFixed(1).padStart(11)} % ${r.rmGreedy.toFixed(3).padStart(10)} ${r.rmSampled.toFixed(3).padStart(8)} ${r.lengthChars.toFixed(1).padStart(6)}`);
if (split) {
  console.log(`\nREINFORCE step (mean of steps 2…, ms): generation ${split.generation_ms.toFixed(0)}, log-probs ${split.logprob_ms.toFixed(0)}, RM scoring ${split.scoring_ms.toFixed(0)}, update ${split.update_ms.toFixed(0)}; total ${split.step_ms.toFixed(0)}; generation ${(100 * split.generation_share).toFixed(0)} % of a step`);
}
const summary = { bench: 'policy/toy_acceptance', args: a, minutes: (performance.now() - t0) / 60000, rmHeldOutAccuracy: rmEval.overall.accuracy, rows, reinforceStepSplit: split, reinforceKlMax: rlKl.length ? Math.max(...rlKl) : null, reinforceKlLast: rlKl.at(-1) ?? null };
writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2));
console.log(JSON.stringify({ ...summary, rows: rows.map(({ samples: _s, ...r }) => r) }));
