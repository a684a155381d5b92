// `steer rm train|expo|eval|score`: reward models. A thin shell: each command validates its config
// and calls the library in src/reward (RewardBench sections come from src/evaluate).
import { Command } from 'commander';
import { z } from 'zod';
import { addCommonOptions, announce, commonSchema, resolveConfig } from './command.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { checkOutputFile, prepareOutputDir } from '../io/output.js';
import { REWARD_LOSSES } from '../reward/losses.js';
import { rewardTrainSchema, trainRewardModel } from '../reward/train.js';
import { scratchModelSchema } from '../reward/start.js';
import { addTrainerOptions, commandSchema, defaultOf, trainerOptions } from './sft.js';
import { EXPO_ALPHA, expo } from '../reward/expo.js';
import { COMBINED_RECIPE, trainCombinedRewardModel } from '../reward/recipe.js';
import { RewardScorer } from '../reward/score.js';
import { evaluatePairs, summarizePairScores, type PairScoreRow } from '../reward/evaluate.js';
import { readPairFile } from '../reward/data.js';
import { readRecords } from '../data/read.js';
import { parseRecord } from '../data/schema.js';
import { REWARDBENCH_SECTIONS, rewardBenchScore, scoreRewardBench, sectionScores } from '../evaluate/rewardbench.js';
import { rewardBenchTable } from '../evaluate/report.js';
import { httpRewardSource } from '../policy/reward.js';

const collect = (v: string, prev: string[]) => [...prev, v];
const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)} %`);
const num = z.coerce.number();
const int = z.coerce.number().int();
const scratch = Object.fromEntries(Object.entries(scratchModelSchema.parse({})).map(([k, v]) => [k, String(v)]));

export function registerRm(program: Command): void {
  const rm = program
    .command('rm')
    .description('reward models: train (SteerLM regression, Bradley-Terry, margin BT, Scaled BT), ExPO, evaluate, score')
    .addHelpText(
      'after',
      '\nThe paper\'s best recipe on the toy world (`steer rm recipe` runs its three steps):\n' +
        '  steer data toy --out toy && steer data prepare --preferences toy/helpsteer2/preference.jsonl --ratings toy/helpsteer2/train.jsonl --ratings-val toy/helpsteer2/validation.jsonl --out prep\n' +
        '  steer rm recipe --ratings prep/ratings-train.jsonl --pairs prep/pairs-train.jsonl --val-pairs prep/pairs-val.jsonl --out rm\n' +
        '  steer rm eval --model rm/expo prep/pairs-val.jsonl',
    );

  const train = rm
    .command('train')
    .description('train a reward model; writes OUT/metrics.jsonl, OUT/checkpoints/ (resumable: rerun the same command) and the model in OUT/model')
    .requiredOption('--loss <kind>', `${REWARD_LOSSES.join(' | ')}: regression = SteerLM multi-attribute MSE on ratings; the others train on preference pairs`)
    .option('--pairs <file>', 'training preference pairs (repeatable): pairs {prompt, chosen, rejected, strength?}, HelpSteer2-Preference, HH-RLHF, LLMBar', collect, [])
    .option('--ratings <file>', 'training ratings (repeatable): HelpSteer2 rows, per-annotator rows or SteerLM rows', collect, [])
    .option('--val-pairs <file>', 'validation pairs (repeatable): accuracy and mean margin every --eval-every steps', collect, [])
    .option('--val-ratings <file>', 'validation ratings (repeatable): masked MSE', collect, [])
    .option('--init <path>', 'start from a reward model directory (its head is kept), a model directory or a llama2.c .bin (new head); default: from scratch')
    .option('--tokenizer <path>', 'tokenizer (default: the init model\'s, or the toy world\'s char tokenizer)')
    .option('--attributes <list>', 'head slots of a new regression head, comma-separated (default: the five HelpSteer2 attributes)')
    .option('--read-slot <name>', 'slot the reward reads and a pair loss trains ("nemotron" = Nemotron-4-340B weights); default helpfulness for a multi-slot --init')
    .option('--max-length <n>', 'longest sequence in tokens; longer ones keep their last tokens (default: the longest in the data)')
    .option('--hidden-size <n>', 'from scratch: model width', scratch.hiddenSize)
    .option('--layers <n>', 'from scratch: decoder layers', scratch.numLayers)
    .option('--heads <n>', 'from scratch: attention heads', scratch.numHeads)
    .option('--kv-heads <n>', 'from scratch: key/value heads', scratch.numKvHeads)
    .option('--intermediate-size <n>', 'from scratch: SwiGLU width', scratch.intermediateSize)
    .option('--epochs <x>', 'passes over the training data when --steps is not given', defaultOf(rewardTrainSchema, 'epochs'))
    .option('--batch-size <n>', 'pairs (or rated rows) per micro-batch; a pair\'s two sequences are always in the same one', defaultOf(rewardTrainSchema, 'batchSize'))
    .option('--grad-accum <n>', 'micro-batches per optimizer step', defaultOf(rewardTrainSchema, 'gradAccum'))
    .option('--bucket-width <n>', 'sequence-length bucket width in tokens (one compiled graph per bucket)', defaultOf(rewardTrainSchema, 'bucketWidth'));
  addTrainerOptions(train, rewardTrainSchema);
  addCommonOptions(train, { out: 'rm' });
  train.action(async () => {
    const cfg = resolveConfig(
      train,
      commandSchema(rewardTrainSchema, {
        pairs: z.array(z.string()),
        ratings: z.array(z.string()),
        valPairs: z.array(z.string()),
        valRatings: z.array(z.string()),
        attributes: z.string().min(1).optional(),
        hiddenSize: int.min(1),
        layers: int.min(1),
        heads: int.min(1),
        kvHeads: int.min(1),
        intermediateSize: int.min(1),
      }),
    );
    announce('rm train', cfg, cfg.quiet);
    const r = await trainRewardModel({
      ...trainerOptions(rewardTrainSchema, cfg, { dropout: false }),
      trainPairs: cfg.pairs,
      trainRatings: cfg.ratings,
      valPairs: cfg.valPairs,
      valRatings: cfg.valRatings,
      attributes: cfg.attributes?.split(',').map((x) => x.trim()),
      scratch: { hiddenSize: cfg.hiddenSize, numLayers: cfg.layers, numHeads: cfg.heads, numKvHeads: cfg.kvHeads, intermediateSize: cfg.intermediateSize },
    });
    const lines = [`reward model (${cfg.loss}) written to ${r.modelDir} after ${r.steps} steps${r.resumedFrom !== null ? ` (resumed from step ${r.resumedFrom})` : ''}`];
    if (r.eval) lines.push(`  validation pairs: ${r.eval.n}, accuracy ${pct(r.eval.accuracy)}, mean margin ${r.eval.meanMargin.toFixed(3)}`);
    if (r.valMse !== null) lines.push(`  validation ratings: masked MSE ${r.valMse.toFixed(4)}`);
    lines.push(`  training: ${Math.round(r.tokensPerSecond)} tokens/s (${Math.round(r.paddedTokensPerSecond)} with padding); metrics ${r.metricsPath}`);
    process.stdout.write(lines.join('\n') + '\n');
  });

  const rc = rm
    .command('recipe')
    .description(`the combined recipe (src/reward/recipe.ts): helpfulness-only regression (lr ${COMBINED_RECIPE.regressionLr}) → Scaled BT initialised from it (lr ${COMBINED_RECIPE.scaledBtLr}) → ExPO α = ${COMBINED_RECIPE.alpha}; writes OUT/regression, OUT/scaled-bt and OUT/expo (the one to use)`)
    .option('--ratings <file>', 'training ratings (repeatable)', collect, [])
    .option('--pairs <file>', 'training preference pairs with strengths (repeatable)', collect, [])
    .option('--val-pairs <file>', 'validation pairs: accuracy of each model', collect, [])
    .option('--init <path>', 'language model the regression starts from (default: from scratch)')
    .option('--epochs <x>', 'passes over the ratings and over the pairs', String(COMBINED_RECIPE.epochs))
    .option('--batch-size <n>', 'pairs (or rated rows) per micro-batch', defaultOf(rewardTrainSchema, 'batchSize'))
    .option('--no-resume', 'start each run over even if it holds a checkpoint');
  addCommonOptions(rc, { out: 'rm' });
  rc.action(async () => {
    const cfg = resolveConfig(rc, z.strictObject({ ...commonSchema, out: z.string().min(1), ratings: z.array(z.string()).min(1, { error: 'pass --ratings FILE' }), pairs: z.array(z.string()).min(1, { error: 'pass --pairs FILE' }), valPairs: z.array(z.string()), init: z.string().min(1).optional(), epochs: num.positive(), batchSize: int.min(1), resume: z.boolean() }));
    announce('rm recipe', cfg, cfg.quiet);
    const valPairs = (await Promise.all(cfg.valPairs.map((f) => readPairFile(f)))).flat();
    const r = await trainCombinedRewardModel({
      trainRatings: cfg.ratings, trainPairs: cfg.pairs, valPairs, out: cfg.out, ratingEpochs: cfg.epochs, pairEpochs: cfg.epochs,
      common: { init: cfg.init, seed: cfg.seed, threads: cfg.threads, quiet: cfg.quiet, batchSize: cfg.batchSize, resume: cfg.resume },
    });
    for (const [name, st] of [['regression', r.regression], ['scaled-bt', r.scaledBt], ['expo', r.expo]] as const) {
      process.stdout.write(`${name.padEnd(11)} ${st.dir}${st.eval ? `  held-out accuracy ${pct(st.eval.accuracy)} (${st.eval.n} pairs)` : ''}\n`);
    }
  });

  const ex = rm
    .command('expo')
    .description('ExPO model extrapolation: θ = θ_weak + α (θ_strong − θ_weak) over every tensor, streamed shard by shard (memory: a few chunks, not the models); the output keeps the strong model\'s dtype and shard size')
    .requiredOption('--weak <dir>', 'the weak reward model (e.g. the regression model the strong one started from)')
    .requiredOption('--strong <dir>', 'the strong reward model (e.g. Scaled BT initialised from --weak)')
    .option('--alpha <x>', 'extrapolation factor (HelpSteer2-Preference: 1.52)', String(EXPO_ALPHA))
    .option('--quiet', 'no announcement', false)
    .requiredOption('--out <dir>', 'output reward model directory');
  ex.action(() => {
    const cfg = resolveConfig(ex, z.strictObject({ weak: z.string().min(1), strong: z.string().min(1), alpha: num, out: z.string().min(1), quiet: z.boolean() }));
    prepareOutputDir(cfg.out, '--out', { create: false });
    announce('rm expo', cfg, cfg.quiet);
    let shown = -1;
    const dir = expo(cfg.weak, cfg.strong, cfg.alpha, cfg.out, {
      onProgress: (done, total) => {
        const pctDone = Math.floor((100 * done) / total / 10) * 10;
        if (!cfg.quiet && pctDone > shown) process.stderr.write(`rm expo: ${pctDone}% of ${(total / 1e6).toFixed(1)}M values\n`);
        shown = Math.max(shown, pctDone);
      },
    });
    process.stdout.write(`ExPO (alpha ${cfg.alpha}) written to ${dir}\n`);
  });

  const ev = rm
    .command('eval')
    .description('pairwise accuracy of a reward model per file and subset (strict: ties are wrong), and RewardBench sections when the subsets are RewardBench\'s')
    .argument('<files...>', 'pair files: pairs (with optional "subset"), HelpSteer2-Preference, HH-RLHF, LLMBar (mapped to RewardBench\'s llmbar subsets)')
    .option('--model <dir>', 'reward model directory')
    .option('--reward-url <url>', 'or an HTTP reward endpoint: POST {"prompts": [...], "responses": [...]} → {"rewards": [...]} (as `steer rl reinforce` uses), scored in batches of 64 pairs')
    .option('--json', 'print one JSON object', false)
    .option('--results <file>', 'also write the results as JSON here (atomically)')
    .option('--rewardbench', "the files are RewardBench prompts ({id, subset, prompt, chosen, rejected}, allenai/reward-bench's filtered split): every subset must be one of RewardBench's, and the report is RewardBench's — per-subset accuracy, the four sections weighted by its example counts, the score — with per-example results in --results", false)
    .option('--threads <n>', 'CPU threads', '2')
    .option('--quiet', 'no announcement', false);
  ev.action(async (files: string[]) => {
    const cfg = resolveConfig(ev, z.strictObject({ model: z.string().min(1).optional(), rewardUrl: z.string().min(1).optional(), json: z.boolean(), results: z.string().optional(), rewardbench: z.boolean(), threads: int.min(1), quiet: z.boolean() }));
    if (!cfg.model === !cfg.rewardUrl) throw new UserError({ what: cfg.model ? 'pass --model or --reward-url, not both' : 'no reward model to evaluate', where: '--model / --reward-url', fix: 'pass --model <reward model directory> or --reward-url <endpoint>' });
    if (cfg.results) checkOutputFile(cfg.results, '--results');
    if (!cfg.json) announce('rm eval', { ...cfg, files }, cfg.quiet);
    // every file is read (and validated) before the model does any work
    const byFile: [string, Awaited<ReturnType<typeof readPairFile>>][] = [];
    for (const f of files) byFile.push([f, await readPairFile(f)]);
    const scorer = cfg.model ? RewardScorer.load(cfg.model, { threads: cfg.threads }) : null;
    const endpoint = cfg.rewardUrl ? httpRewardSource(cfg.rewardUrl) : null;
    const perFile: Record<string, unknown> = {};
    const rows: PairScoreRow[] = [];
    for (const [f, pairs] of byFile) {
      let e;
      if (scorer) e = await evaluatePairs(scorer, pairs);
      else {
        const scored: PairScoreRow[] = [];
        for (let i = 0; i < pairs.length; i += 64) {
          const chunk = pairs.slice(i, i + 64);
          const r = await endpoint!.score([...chunk.map((p) => ({ prompt: p.prompt, response: p.chosen })), ...chunk.map((p) => ({ prompt: p.prompt, response: p.rejected }))]);
          chunk.forEach((p, j) => scored.push({ subset: p.subset ?? 'all', chosen: r[j], rejected: r[chunk.length + j] }));
        }
        e = summarizePairScores(scored);
      }
      perFile[f] = e.overall;
      rows.push(...e.rows);
    }
    const all = summarizePairScores(rows);
    const known = new Set<string>(Object.values(REWARDBENCH_SECTIONS).flat());
    if (cfg.rewardbench) {
      const unknown = Object.keys(all.bySubset).filter((s) => !known.has(s));
      if (unknown.length) throw new UserError({ what: `subsets that are not RewardBench's: ${unknown.join(', ')}`, where: files.join(', '), expected: `"subset" one of ${[...known].join(', ')}`, fix: 'pass RewardBench rows with their subset field, or drop --rewardbench for pairwise accuracy on any pairs' });
      const report = scoreRewardBench(rows);
      const result = { model: cfg.model ?? cfg.rewardUrl, ...report, perExample: rows.map((r) => ({ subset: r.subset, scores_chosen: r.chosen, scores_rejected: r.rejected, results: r.chosen > r.rejected ? 1 : 0 })) };
      if (cfg.results) writeJsonAtomic(cfg.results, result);
      const { perExample: _rows, ...summary } = result;
      process.stdout.write(cfg.json ? JSON.stringify(summary) + '\n' : rewardBenchTable(report) + '\n');
      return;
    }
    const rbSubsets = Object.keys(all.bySubset).filter((s) => known.has(s));
    let rewardbench: { sections: Record<string, number>; score: number; subsets: string[] } | undefined;
    if (rbSubsets.length > 0) {
      const metrics: Record<string, number> = {};
      for (const s of rbSubsets) metrics[s] = all.bySubset[s].accuracy;
      const sections = sectionScores(metrics);
      rewardbench = { sections, score: rewardBenchScore(sections), subsets: rbSubsets };
    }
    const result = { model: cfg.model ?? cfg.rewardUrl, overall: all.overall, files: perFile, subsets: all.bySubset, ...(rewardbench ? { rewardbench } : {}) };
    if (cfg.results) writeJsonAtomic(cfg.results, result);
    if (cfg.json) {
      process.stdout.write(JSON.stringify(result) + '\n');
      return;
    }
    const w = Math.max(12, ...Object.keys(perFile).map((k) => k.length), ...Object.keys(all.bySubset).map((k) => k.length));
    const line = (name: string, s: { n: number; accuracy: number; meanMargin: number }) => `  ${name.padEnd(w)}  ${String(s.n).padStart(6)}  ${pct(s.accuracy).padStart(8)}  ${s.meanMargin.toFixed(3).padStart(8)}`;
    const out = [`${'  '.padEnd(w + 2)}  ${'pairs'.padStart(6)}  ${'accuracy'.padStart(8)}  ${'margin'.padStart(8)}`, line('all', all.overall), 'per file:', ...Object.entries(perFile).map(([k, s]) => line(k, s as typeof all.overall))];
    if (Object.keys(all.bySubset).length > 1) out.push('per subset:', ...Object.entries(all.bySubset).map(([k, s]) => line(k, s)));
    if (rewardbench) {
      out.push(`RewardBench sections (example-count weighted over the ${rbSubsets.length} subsets present; absent sections count 0):`);
      for (const [k, v] of Object.entries(rewardbench.sections)) out.push(`  ${k.padEnd(10)} ${pct(v)}`);
      out.push(`  score      ${pct(rewardbench.score)}`);
    }
    process.stdout.write(out.join('\n') + '\n');
  });

  const sc = rm
    .command('score')
    .description('score responses: JSONL rows {prompt, response} in, the same rows with "reward" and per-slot "scores" out')
    .argument('<file>', 'rows {prompt, response} (jsonl, jsonl.gz, json or parquet); prompt is a string or chat turns')
    .requiredOption('--model <dir>', 'reward model directory')
    .option('--out <file>', 'output JSONL (default: stdout)')
    .option('--threads <n>', 'CPU threads', '2');
  sc.action(async (file: string) => {
    const cfg = resolveConfig(sc, z.strictObject({ model: z.string().min(1), out: z.string().optional(), threads: int.min(1) }));
    if (cfg.out) checkOutputFile(cfg.out);
    const rowSchema = z.object({ prompt: z.union([z.string(), z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(1)], { error: 'a string, or an array of {role, content} turns' }), response: z.string({ error: 'a string' }) });
    const rows: { value: Record<string, unknown>; prompt: z.output<typeof rowSchema>['prompt']; response: string }[] = [];
    for await (const rec of readRecords(file)) {
      const r = parseRecord(rowSchema, rec, 'scoring row');
      rows.push({ value: rec.value, prompt: r.prompt, response: r.response });
    }
    if (rows.length === 0) throw new UserError({ what: 'no rows to score', where: file, fix: 'write one {"prompt": ..., "response": ...} object per line' });
    const scorer = RewardScorer.load(cfg.model, { threads: cfg.threads });
    const scored = await scorer.score(rows);
    const lines = rows.map((r, i) => JSON.stringify({ ...r.value, reward: scored[i].reward, scores: scored[i].slots }) + '\n').join('');
    if (cfg.out) writeFileAtomic(cfg.out, lines);
    else process.stdout.write(lines);
  });
}
