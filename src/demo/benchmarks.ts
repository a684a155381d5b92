// The toy benchmarks: the paper's alignment table (Arena-Hard, AlpacaEval 2 LC, MT-Bench) in
// miniature, on the toy world's held-out prompts, with the world's annotator panel as the judge
// (src/evaluate/toyjudge.ts) and the real benchmarks' code doing everything else:
//   MT-Bench-style:  run.ts judgeMtBenchSingle (single grading 1–10, "[[rating]]") → mtbench.ts
//                    aggregateSingle (mean over valid rows); 95 % interval: bootstrap over questions.
//   AlpacaEval-style: run.ts annotateAlpaca (pairwise against the SFT baseline, positions switched as
//                    alpaca_eval does, preference from the "m"/"M" log-probs) → alpacaeval.ts
//                    alpacaEvalFromAnnotations (win rate and the length-controlled GLM);
//                    95 % interval: bootstrap over questions, C re-chosen by CV and the GLM refitted (lcBootstrapInterval).
//                    The GLM's side data are the toy's own: instruction difficulty
//                    d_i = logit((wrong_i + ½)/(k + 1)) from the baseline's k sampled answers to prompt i,
//                    and gamed rows = the baseline's answers rewritten verbose and concise
//                    (styles.ts gamedRewrites) judged against the baseline, Δlen standardised over them.
//   Arena-Hard-style: run.ts judgeArena (both position orders) → arenahard.ts battlesFromJudgment +
//                    arenaHardV01 (Bradley–Terry, score = 100·P(beats the baseline)); 95 % interval from
//                    100 bootstrap refits, percentiles of the win rate (arenaWinRateIntervals).
// Answers are the policies' greedy ones (arena-hard generates at temperature 0, and MT-Bench does for
// its math, reasoning and extraction questions, which the toy tasks are). Every file is written in the
// official layout and format, so the official scripts — and the e2e test — can read them back.
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { startProgress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { codePointLength, mean, percentile, std } from '../util/stats.js';
import { bootstrapMean, pairedBootstrapDiff, type BootstrapInterval } from '../util/bootstrap.js';
import { taskFromPrompt } from '../data/toy/tasks.js';
import { gamedRewrites } from '../data/toy/styles.js';
import { judgeMtBenchSingle, annotateAlpaca, judgeArena, judgmentRecordsToArena, type ProgressFn } from '../evaluate/run.js';
import { aggregateSingle, type MtBenchQuestion } from '../evaluate/mtbench.js';
import { alpacaEvalFromAnnotations, alpacaWinRate, lengthControlledWinRate, type AlpacaAnnotation, type GamedRows } from '../evaluate/alpacaeval.js';
import { arenaHardV01, battlesFromJudgment, computeMleElo, eloWinProbability, type Battle } from '../evaluate/arenahard.js';
import { MT19937 } from '../evaluate/mt19937.js';
import { toyJudgeClient, TOY_JUDGE_MODEL, TOY_JUDGE_PROMPTS } from '../evaluate/toyjudge.js';

export interface ToyBenchmarkInput {
  /** The world's seed (the panel's). */
  seed: number;
  /** Directory the benchmark files go to. */
  dir: string;
  /** Held-out prompts, in question order. */
  prompts: readonly string[];
  /** Per policy (report name): its answer to each prompt. */
  answers: Readonly<Record<string, readonly string[]>>;
  /** The policy every pairwise benchmark compares against (the SFT base). */
  baseline: string;
  /** Per prompt: how many of the baseline's sampled answers are wrong, out of `samples` (instruction difficulty). */
  baselineWrong: readonly number[];
  samples: number;
  quiet?: boolean;
}

export interface MtBenchToyResult {
  /** aggregateSingle's average: the MT-Bench score (1–10). */
  score: number;
  interval: BootstrapInterval;
  /** Paired difference to the baseline's score (absent for the baseline). */
  vsBaseline?: BootstrapInterval;
}

export interface AlpacaToyResult {
  /** Length-controlled win rate against the baseline, % (50 for the baseline itself). */
  lcWinRate: number;
  lcStandardError: number;
  lcLower: number;
  lcUpper: number;
  /** The raw (soft) win rate, % and its standard error. */
  winRate: number;
  standardError: number;
  /** Mean length of the policy's outputs (code points, truncated as alpaca_eval does). */
  avgLength: number;
  /** Every output pair differed in length by the same amount (e.g. all identical): no length to control for, LC = the raw win rate. */
  lcIsRawWinRate?: true;
}

export interface ArenaToyResult {
  /** 100·P(beats the baseline) (50 for the baseline). */
  score: number;
  lower: number;
  upper: number;
}

export interface ToyBenchmarks {
  judge: string;
  baseline: string;
  questions: number;
  mtBench: Record<string, MtBenchToyResult>;
  alpacaEval: Record<string, AlpacaToyResult>;
  arenaHard: Record<string, ArenaToyResult>;
}

/** File-system names of the policies ("SFT base" → "sft-base"). */
export const modelId = (policy: string) => policy.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** Where each benchmark's files go under the benchmark directory (also read by the e2e test). */
export const TOY_BENCHMARK_FILES = {
  results: 'results.json',
  judgeCache: 'judge-cache.jsonl',
  mtBenchQuestions: 'mt-bench/question.jsonl',
  mtBenchJudgments: `mt-bench/model_judgment/${TOY_JUDGE_MODEL}_single.jsonl`,
  alpacaAnnotations: (model: string) => `alpaca-eval/${model}/${TOY_JUDGE_MODEL}/annotations.json`,
  alpacaGamed: 'alpaca-eval/df_gamed.json',
  arenaJudgments: (model: string) => `arena-hard/model_judgment/${TOY_JUDGE_MODEL}/${model}.jsonl`,
} as const;

/**
 * 95 % intervals of Arena-Hard's score, 100·P(model beats the baseline): arena-hard v0.1's bootstrap
 * (100 rounds, battles resampled with replacement by a seeded MT19937, the BT model refitted), with
 * the win rate taken in each round and its 2.5 / 97.5 percentiles reported. (v0.1 itself takes the
 * percentiles of each model's Elo separately and converts them against the baseline's own
 * percentile, anchored only when the baseline is gpt-4-0314: with any other baseline its interval
 * says nothing — README, "Evaluating a policy".)
 */
export function arenaWinRateIntervals(battles: readonly Battle[], baseline: string, models: readonly string[], seed: number, rounds = 100): Record<string, { lower: number; upper: number }> {
  const rng = new MT19937(seed);
  const rates = new Map(models.map((m) => [m, [] as number[]]));
  for (let r = 0; r < rounds; r++) {
    const counts = new Int32Array(battles.length);
    for (let i = 0; i < battles.length; i++) counts[rng.randint(battles.length)]++;
    const elo = computeMleElo(battles, { anchor: baseline, counts });
    for (const m of models) rates.get(m)!.push(100 * eloWinProbability(elo.get(m)!, elo.get(baseline)!));
  }
  return Object.fromEntries(models.map((m) => [m, { lower: percentile(rates.get(m)!, 2.5), upper: percentile(rates.get(m)!, 97.5) }]));
}

/**
 * A 95 % interval for the length-controlled win rate: 100 bootstrap resamples of the questions (each
 * with its gamed rows), on each the whole official procedure again (the GLM's C chosen by its 5-fold
 * cross-validation, then the fit), percentiles 2.5 / 97.5. Refitting at the full fit's C instead
 * gives a zero-width interval whenever that C is so small that the L1 penalty zeroes the model's
 * terms (LC = 50 exactly in every resample), though the raw win rate still varies.
 * (alpaca_eval's lc_standard_error is the spread of the GLM's predictions over questions, not a
 * sampling error: when the fit puts no weight on instruction difficulty it is 0.)
 */
export function lcBootstrapInterval(ann: readonly AlpacaAnnotation[], gamed: GamedRows, seed: number, rounds = 100): { lower: number; upper: number } {
  const n = ann.length;
  const gamedOf = new Map<number, number[]>();
  gamed.index.forEach((idx, r) => gamedOf.set(idx, [...(gamedOf.get(idx) ?? []), r]));
  const rng = new Rng(seed, 'toy-benchmarks/lc-bootstrap');
  const rates: number[] = [];
  for (let b = 0; b < rounds; b++) {
    const pick = Array.from({ length: n }, () => rng.int(0, n));
    const g: GamedRows = { index: [], preference: [], stdDeltaLen: [], instructionDifficulty: [], notGamedBaseline: [] };
    pick.forEach((i, j) => {
      for (const r of gamedOf.get(i) ?? []) {
        g.index.push(j);
        g.preference.push(gamed.preference[r]);
        g.stdDeltaLen.push(gamed.stdDeltaLen[r]);
        g.instructionDifficulty.push(gamed.instructionDifficulty[r]);
        g.notGamedBaseline!.push(false);
      }
    });
    const rows = pick.map((i) => ann[i]);
    const lenModel = rows.map((a) => codePointLength(a.output_2));
    const lenBaseline = rows.map((a) => codePointLength(a.output_1));
    if (lenModel.every((l, j) => l - lenBaseline[j] === lenModel[0] - lenBaseline[0])) continue; // no length feature in this resample
    rates.push(lengthControlledWinRate({ preference: rows.map((a) => a.preference), lenBaseline, lenModel, gamed: g }).length_controlled_winrate);
  }
  return { lower: percentile(rates, 2.5), upper: percentile(rates, 97.5) };
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

export async function runToyBenchmarks(o: ToyBenchmarkInput): Promise<ToyBenchmarks> {
  const f = TOY_BENCHMARK_FILES;
  const client = toyJudgeClient(o.seed, { cachePath: join(o.dir, f.judgeCache) });
  const policies = Object.keys(o.answers);
  const others = policies.filter((p) => p !== o.baseline);
  const n = o.prompts.length;
  const progress = (label: string): ProgressFn => {
    let bar: ReturnType<typeof startProgress> | undefined;
    return (done, total) => {
      bar ??= startProgress(label, total, { quiet: o.quiet });
      bar.update(done);
      if (done === total) bar.stop();
    };
  };

  // MT-Bench-style: single grading of every policy's answer to every question
  const questions: MtBenchQuestion[] = o.prompts.map((p, i) => ({ questionId: i + 1, category: 'toy', turns: [p] }));
  writeFileAtomic(join(o.dir, f.mtBenchQuestions), jsonl(questions.map((q) => ({ question_id: q.questionId, category: q.category, turns: q.turns }))));
  const mtAnswers = new Map(policies.map((p) => [modelId(p), new Map(o.answers[p].map((a, i) => [String(i + 1), [a]]))]));
  const single = await judgeMtBenchSingle({ client, judgeName: TOY_JUDGE_MODEL, questions, prompts: new Map(TOY_JUDGE_PROMPTS), references: null, answers: mtAnswers, onProgress: progress('  MT-Bench-style grading') });
  writeFileAtomic(join(o.dir, f.mtBenchJudgments), jsonl(single));
  const mtScores = aggregateSingle(single.map((r) => ({ model: r.model, turn: r.turn, score: r.score })));
  const perQuestion = (p: string) => {
    const byId = new Map(single.filter((r) => r.model === modelId(p)).map((r) => [String(r.question_id), r.score]));
    return questions.map((q) => byId.get(String(q.questionId)) ?? -1);
  };
  const mtBench: Record<string, MtBenchToyResult> = {};
  const baseScores = perQuestion(o.baseline);
  policies.forEach((p, k) => {
    const scores = perQuestion(p);
    const valid = scores.map((s, i) => [s, baseScores[i]] as const).filter(([s, b]) => s !== -1 && b !== -1);
    mtBench[p] = {
      score: mtScores[modelId(p)].average,
      interval: bootstrapMean(scores.filter((s) => s !== -1), { seed: o.seed + k }),
      ...(p === o.baseline ? {} : { vsBaseline: pairedBootstrapDiff(valid.map(([s]) => s), valid.map(([, b]) => b), { seed: o.seed + k }) }),
    };
  });

  // AlpacaEval-style: each policy against the baseline; the LC GLM's side data from the baseline
  const difficulty = o.baselineWrong.map((w) => Math.log((w + 0.5) / (o.samples - w + 0.5)));
  const base = o.answers[o.baseline];
  const rewriteRng = Rng.derive(o.seed, 'toy-benchmarks/gamed');
  const rewrites = o.prompts.map((p, i) => gamedRewrites(taskFromPrompt(p)!, base[i], rewriteRng));
  const gamedRows: GamedRows = { index: [], preference: [], stdDeltaLen: [], instructionDifficulty: [], notGamedBaseline: [] };
  const deltas: number[] = [];
  for (const kind of ['verbose', 'concise'] as const) {
    const outputs = rewrites.map((r) => r[kind]);
    const ann = await annotateAlpaca({ client, annotator: TOY_JUDGE_MODEL, instructions: o.prompts, baselineOutputs: base, modelOutputs: outputs, baselineName: modelId(o.baseline), modelName: `${modelId(o.baseline)}-${kind}`, seed: 0, onProgress: progress(`  AlpacaEval-style: baseline, ${kind}`) });
    ann.forEach((a, i) => {
      gamedRows.index.push(i);
      gamedRows.preference.push(a.preference === null ? NaN : a.preference - 1);
      gamedRows.instructionDifficulty.push(difficulty[i]);
      gamedRows.notGamedBaseline!.push(false);
      deltas.push(codePointLength(a.output_1) - codePointLength(a.output_2));
    });
  }
  const sd = std(deltas, 1);
  gamedRows.stdDeltaLen = deltas.map((d) => (sd > 0 ? d / sd : 0));
  writeJsonAtomic(join(o.dir, f.alpacaGamed), { index: gamedRows.index, preference: gamedRows.preference.map((x) => (Number.isNaN(x) ? null : x)), std_delta_len: gamedRows.stdDeltaLen, instruction_difficulty: gamedRows.instructionDifficulty });
  const alpacaEval: Record<string, AlpacaToyResult> = {
    [o.baseline]: { lcWinRate: 50, lcStandardError: 0, lcLower: 50, lcUpper: 50, winRate: 50, standardError: 0, avgLength: Math.trunc(mean(base.map(codePointLength))) },
  };
  for (const p of others) {
    const ann = await annotateAlpaca({ client, annotator: TOY_JUDGE_MODEL, instructions: o.prompts, baselineOutputs: base, modelOutputs: o.answers[p], baselineName: modelId(o.baseline), modelName: modelId(p), seed: 0, onProgress: progress(`  AlpacaEval-style: ${p}`) });
    writeJsonAtomic(join(o.dir, f.alpacaAnnotations(modelId(p))), ann);
    const deltas = ann.map((a) => codePointLength(a.output_1) - codePointLength(a.output_2));
    if (deltas.every((d) => d === deltas[0])) {
      // every pair differs in length by the same amount (e.g. identical answers): the GLM's length
      // feature is undefined, so there is nothing to control for: LC is the raw win rate
      const w = alpacaWinRate(ann.map((a) => a.preference));
      alpacaEval[p] = { lcWinRate: w.win_rate, lcStandardError: w.standard_error, lcLower: w.win_rate - 1.96 * w.standard_error, lcUpper: w.win_rate + 1.96 * w.standard_error, winRate: w.win_rate, standardError: w.standard_error, avgLength: Math.trunc(mean(o.answers[p].map(codePointLength))), lcIsRawWinRate: true };
      continue;
    }
    const m = alpacaEvalFromAnnotations(ann, gamedRows, f.alpacaAnnotations(modelId(p)));
    const ci = lcBootstrapInterval(ann, gamedRows, o.seed);
    alpacaEval[p] = {
      lcWinRate: m.length_controlled_winrate,
      lcStandardError: m.lc_standard_error,
      lcLower: ci.lower,
      lcUpper: ci.upper,
      winRate: m.win_rate,
      standardError: m.standard_error,
      avgLength: m.avg_length,
    };
  }

  // Arena-Hard-style: every policy against the baseline in both orders, one Bradley–Terry fit
  const arenaAnswers = new Map(policies.map((p) => [modelId(p), new Map(o.answers[p].map((a, i) => [String(i + 1), a]))]));
  const arenaQuestions = o.prompts.map((p, i) => ({ questionId: String(i + 1), prompt: p }));
  const records = await judgeArena({ client, judgeName: TOY_JUDGE_MODEL, questions: arenaQuestions, answers: arenaAnswers, baseline: modelId(o.baseline), onProgress: progress('  Arena-Hard-style games') });
  for (const p of others) writeFileAtomic(join(o.dir, f.arenaJudgments(modelId(p))), jsonl(records.filter((r) => r.model === modelId(p))));
  const battles = judgmentRecordsToArena(records).flatMap((j) => battlesFromJudgment(j, modelId(o.baseline)));
  const arena = arenaHardV01(battles, { baseline: modelId(o.baseline), rounds: 0 });
  const arenaHard: Record<string, ArenaToyResult> = {};
  const boot = arenaWinRateIntervals(battles, modelId(o.baseline), others.map(modelId), o.seed);
  for (const p of policies) {
    arenaHard[p] = p === o.baseline ? { score: 50, lower: 50, upper: 50 } : { score: arena.models[modelId(p)].score, ...boot[modelId(p)] };
  }

  const result: ToyBenchmarks = { judge: TOY_JUDGE_MODEL, baseline: o.baseline, questions: n, mtBench, alpacaEval, arenaHard };
  writeJsonAtomic(join(o.dir, f.results), result);
  return result;
}
