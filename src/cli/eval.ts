// `steer eval rewardbench|mtbench|alpaca|arena`: score existing judgments, or judge model answers
// with any OpenAI-compatible endpoint first. A thin shell over src/evaluate: validate the config,
// read inputs, call the library, write OUT/results.json + OUT/results.txt (atomically), print.
import { Command } from 'commander';
import { join } from 'node:path';
import { z } from 'zod';
import { addCommonOptions, announce, commonSchema, resolveConfig } from './command.js';
import { UserError } from '../util/errors.js';
import { startProgress } from '../util/progress.js';
import { writeFileAtomic, writeJsonAtomic, writeLinesAtomic } from '../io/atomic.js';
import { JudgeClient } from '../evaluate/judge.js';
import { readJson } from '../evaluate/files.js';
import { legacyRewardBenchAverage, scoreRewardBench, scoreRewardBenchResults, type RewardBenchReport } from '../evaluate/rewardbench.js';
import { aggregatePairwise, aggregateSingle, readJudgePrompts, readMtBenchAnswers, readMtBenchQuestions, type PairJudgmentRow } from '../evaluate/mtbench.js';
import { alpacaEvalFromAnnotations, parseAnnotations, predictLcWinRate, type GlmWeights } from '../evaluate/alpacaeval.js';
import { checkDifficultyMatchesGamed, readGamedRows, readInstructionDifficulty } from '../evaluate/alpacaeval-io.js';
import { arenaHardV01, arenaHardV2, arenaHardV2StyleControl, battlesFromJudgment, markdownCounts, v2Scores, type ArenaJudgment, type ArenaStyle, type Battle, type StyleControl } from '../evaluate/arenahard.js';
import { annotateAlpaca, judgeArena, judgeMtBenchPairwise, judgeMtBenchSingle, judgeRewardBenchPairs, judgmentRecordsToArena } from '../evaluate/run.js';
import { readAlpacaOutputs, readArenaAnswers, readArenaJudgments, readArenaQuestions, readMtBenchJudgments, readRewardBenchPairs, readRewardBenchScores, type ArenaAnswers } from '../evaluate/inputs.js';
import { lengthStats, type LengthStats } from '../data/stats.js';
import { table, alpacaTable, arenaV01Table, arenaV2StyleTable, arenaV2Table, judgeStatsLine, lengthTable, mtBenchPairwiseTable, mtBenchTable, rewardBenchTable } from '../evaluate/report.js';
import { loadTokenizer, type TextTokenizer } from '../text/tokenizer.js';
import { basename, resolve } from 'node:path';
import { readdirSync } from 'node:fs';
import { loadPolicy } from '../policy/model.js';
import { EndpointAnswerPolicy, LocalAnswerPolicy, answerProbes, generateAlpacaOutputs, generateArenaAnswers, generateMtBenchAnswers, type AnswerPolicy, type ProbeAnswer } from '../evaluate/answers.js';
import { readTextPrompts } from '../policy/generate.js';
import { joinAlpacaOutputs } from '../evaluate/run.js';

const collect = (v: string, prev: string[]) => [...prev, v];
const int = z.coerce.number().int();

const judgeSchema = {
  judgeUrl: z.string().min(1).optional(),
  judgeModel: z.string().min(1).optional(),
  judgeApiKey: z.string().optional(),
  concurrency: int.min(1),
  maxRetries: int.min(0),
  timeoutMs: int.min(1),
};

function addJudgeOptions(cmd: Command): Command {
  return cmd
    .option('--judge-url <url>', 'OpenAI-compatible base URL of the judge (…/v1); judgments are cached in OUT/judge-cache.jsonl, so a rerun resumes')
    .option('--judge-model <name>', 'judge model name sent to the endpoint')
    .option('--judge-api-key <key>', 'API key (default: the OPENAI_API_KEY environment variable)')
    .option('--concurrency <n>', 'judge requests in flight', '4')
    .option('--max-retries <n>', 'retries on 429/5xx/timeouts, with exponential backoff', '6')
    .option('--timeout-ms <n>', 'per-request timeout', '120000');
}

type JudgeCfg = { judgeUrl?: string; judgeModel?: string; judgeApiKey?: string; concurrency: number; maxRetries: number; timeoutMs: number; out: string };

function makeClient(cfg: JudgeCfg): JudgeClient {
  if (!cfg.judgeUrl || !cfg.judgeModel) {
    throw new UserError({ what: 'judging needs both --judge-url and --judge-model', where: cfg.judgeUrl ? '--judge-model' : '--judge-url', fix: 'pass e.g. --judge-url https://api.openai.com/v1 --judge-model gpt-4-0613, or pass existing judgments instead' });
  }
  return new JudgeClient({
    baseUrl: cfg.judgeUrl,
    model: cfg.judgeModel,
    apiKey: cfg.judgeApiKey ?? process.env.OPENAI_API_KEY,
    concurrency: cfg.concurrency,
    maxRetries: cfg.maxRetries,
    timeoutMs: cfg.timeoutMs,
    cachePath: join(cfg.out, 'judge-cache.jsonl'),
  });
}

const policySchema = {
  model: z.string().min(1).optional(),
  policyUrl: z.string().min(1).optional(),
  policyModel: z.string().min(1).optional(),
  policyApiKey: z.string().optional(),
  modelId: z.string().min(1).optional(),
  limit: int.min(1).optional(),
  maxNewTokens: int.min(1).optional(),
  batchSize: int.min(1),
  answersOnly: z.boolean(),
  probes: z.string().min(1).optional(),
};

/** --model | --policy-url: generate the answers first (resumable), then judge and score them. */
function addPolicyOptions(cmd: Command, what: string, maxNewTokens: number | null): Command {
  return cmd
    .option('--model <path>', `the policy to evaluate: a steer model directory or a llama2.c .bin (with --tokenizer): ${what} are generated into OUT first, resuming answer by answer when rerun`)
    .option('--policy-url <url>', 'or an OpenAI-compatible base URL of the policy (…/v1; vLLM, steer serve, an API); its answers are cached in OUT/policy-cache.jsonl')
    .option('--policy-model <name>', 'model name sent to --policy-url')
    .option('--policy-api-key <key>', 'API key for --policy-url (default: the POLICY_API_KEY environment variable)')
    .option('--model-id <name>', 'model_id written into the answer files (default: the model directory name or --policy-model)')
    .option('--limit <n>', 'only the first N questions (a quick run; the score is then not comparable with published ones)')
    .option('--max-new-tokens <n>', maxNewTokens === null ? "longest answer in tokens (default: each benchmark's official length)" : `longest answer in tokens (official: ${maxNewTokens})`)
    .option('--batch-size <n>', 'questions answered per step (a local model generates them as one batch; answers are saved after each step)', '16')
    .option('--answers-only', 'stop after writing the answers (e.g. to make a baseline answer file)', false)
    .option('--probes <file>', 'probe prompts (one per line, or JSONL {"prompt"}), e.g. "How many r in strawberry?": answered greedily and reported beside the score');
}

/** The probe set's greedy answers (null without --probes). */
async function runProbes(policy: AnswerPolicy, cfg: { probes?: string; maxNewTokens?: number }): Promise<ProbeAnswer[] | null> {
  if (!cfg.probes) return null;
  const prompts = (await readTextPrompts(cfg.probes)).map((p, i) => {
    if (typeof p !== 'string') throw new UserError({ what: `probe ${i + 1} is a conversation; probes are single prompts`, where: cfg.probes, fix: 'write one prompt per line, or {"prompt": "..."} per JSONL line' });
    return p;
  });
  return answerProbes(policy, prompts, Math.min(cfg.maxNewTokens ?? 256, 256));
}

function probeTable(probes: readonly ProbeAnswer[]): string {
  return ['probe answers (greedy):', ...probes.map((p) => `  ${JSON.stringify(p.prompt)} → ${JSON.stringify(p.answer.length > 200 ? p.answer.slice(0, 200) + '…' : p.answer)}`)].join('\n');
}

type PolicyCfg = z.output<z.ZodObject<typeof policySchema>> & { judgeUrl?: string; concurrency: number; maxRetries: number; timeoutMs: number; out: string; threads: number; tokenizer?: string };

/** The policy to generate answers with, or null when answers are given as files. */
function makePolicy(cfg: PolicyCfg): AnswerPolicy | null {
  if (cfg.model && cfg.policyUrl) throw new UserError({ what: 'pass --model or --policy-url, not both', where: '--model / --policy-url', fix: 'evaluate one policy per run' });
  if (cfg.model) {
    const full = resolve(cfg.model);
    const dir = basename(full).replace(/\.bin$/i, '');
    const id = cfg.modelId ?? (['final', 'model', 'last'].includes(dir) ? `${basename(resolve(full, '..'))}-${dir}` : dir);
    return new LocalAnswerPolicy(loadPolicy(cfg.model, { tokenizer: cfg.tokenizer }), id, { threads: cfg.threads, batchSize: cfg.batchSize });
  }
  if (cfg.policyUrl) {
    if (!cfg.policyModel) throw new UserError({ what: '--policy-url needs the model name to send', where: '--policy-model', fix: 'pass --policy-model NAME (what the server calls the model)' });
    const client = new JudgeClient({
      baseUrl: cfg.policyUrl,
      model: cfg.policyModel,
      apiKey: cfg.policyApiKey ?? process.env.POLICY_API_KEY,
      concurrency: cfg.concurrency,
      maxRetries: cfg.maxRetries,
      timeoutMs: cfg.timeoutMs,
      cachePath: join(cfg.out, 'policy-cache.jsonl'),
      role: 'policy',
      urlFlag: '--policy-url',
    });
    return new EndpointAnswerPolicy(client, cfg.modelId ?? cfg.policyModel);
  }
  return null;
}

/** Token counts for length statistics: --tokenizer, else the local policy's own tokenizer. */
function lengthTokenizer(cfg: { tokenizer?: string }, policy: AnswerPolicy | null): Pick<TextTokenizer, 'encode'> | undefined {
  if (cfg.tokenizer) return loadTokenizer(cfg.tokenizer);
  if (policy instanceof LocalAnswerPolicy) return policy.tokenCounter();
  return undefined;
}

/**
 * Generate a benchmark's answers with `policy` (progress bar), then the probe set; close the policy
 * whatever happens, report truncated prompts and where the answers went.
 */
async function answerThenProbe<T>(policy: AnswerPolicy, cfg: { quiet: boolean; probes?: string }, path: string, what: string, generate: (onProgress: (done: number, total: number) => void) => Promise<T>): Promise<{ result: T; probes: ProbeAnswer[] | null }> {
  const bar = progressFor(`answering (${policy.name})`, cfg.quiet);
  let result: T;
  let probes: ProbeAnswer[] | null;
  try {
    result = await generate(bar.update);
    probes = await runProbes(policy, cfg);
  } finally {
    bar.stop();
    await policy.close();
  }
  truncationNote(policy, cfg.quiet);
  if (!cfg.quiet) process.stderr.write(`${what} written to ${path}\n`);
  return { result, probes };
}

function truncationNote(policy: AnswerPolicy | null, quiet: boolean): void {
  if (!policy || quiet) return;
  if (policy instanceof LocalAnswerPolicy && policy.clampedMaxTokens !== null) process.stderr.write(`note: the answer length asked for does not fit the model's context; answers were capped at ${policy.clampedMaxTokens} tokens (half the context)\n`);
  if (policy.truncatedPrompts > 0) process.stderr.write(`note: ${policy.truncatedPrompts} prompts were longer than the model's context and kept their last tokens\n`);
}

function progressFor(label: string, quiet: boolean) {
  let bar: ReturnType<typeof startProgress> | null = null;
  return {
    update: (done: number, total: number) => {
      bar ??= startProgress(label, total, { quiet });
      bar.update(done);
    },
    stop: () => bar?.stop(),
  };
}

/** Write results.json and results.txt; print the JSON (--json) or the table. */
/** A benchmark's results with what every benchmark reports beside its score: the answer lengths, the probe answers and the judge's statistics line. */
function finishBenchmark(cfg: { out: string; json: boolean; quiet: boolean }, results: Record<string, unknown>, text: string, extras: { lengths?: Parameters<typeof lengthTable>[0] | null; probes?: readonly ProbeAnswer[] | null; stats?: string | null }): void {
  if (extras.lengths) {
    results.lengths = extras.lengths;
    text += '\n\n' + lengthTable(extras.lengths);
  }
  if (extras.probes) {
    results.probes = extras.probes;
    text += '\n\n' + probeTable(extras.probes);
  }
  finish(cfg.out, results, text + (extras.stats ? '\n' + extras.stats : ''), cfg.json, cfg.quiet);
}

function finish(out: string, results: unknown, text: string, json: boolean, quiet: boolean): void {
  writeJsonAtomic(join(out, 'results.json'), results);
  writeFileAtomic(join(out, 'results.txt'), text + '\n');
  if (json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else process.stdout.write(text + '\n');
  if (!quiet) process.stderr.write(`results written to ${join(out, 'results.json')} and results.txt\n`);
}

function requireOne(cfg: Record<string, unknown>, a: string, b: string, fix: string): void {
  const has = (k: string) => (Array.isArray(cfg[k]) ? (cfg[k] as unknown[]).length > 0 : cfg[k] !== undefined);
  if (has(a) === has(b)) {
    const flag = (k: string) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    throw new UserError({ what: has(a) ? `pass ${flag(a)} or ${flag(b)}, not both` : `nothing to evaluate: pass ${flag(a)} or ${flag(b)}`, where: `${flag(a)} / ${flag(b)}`, fix });
  }
}

export function registerEval(program: Command): void {
  const ev = program
    .command('eval')
    .description('evaluations: RewardBench, MT-Bench, AlpacaEval 2 (length-controlled), Arena-Hard — from judgments, or judging answers with an OpenAI-compatible endpoint')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  steer eval alpaca --annotations annotations.json --instruction-difficulty instruction_difficulty.csv --gamed df_gamed.csv --json\n' +
        '  steer eval mtbench --judgments gpt-4_single.jsonl\n' +
        '  steer eval mtbench --answers my-model.jsonl --questions question.jsonl --judge-prompts judge_prompts.jsonl --reference gpt-4.jsonl --judge-url https://api.openai.com/v1 --judge-model gpt-4\n' +
        '  steer eval arena --judgments model_judgment/gpt-4-1106-preview/my-model.jsonl --baseline gpt-4-0314\n' +
        '  steer eval rewardbench --scores scored-pairs.jsonl',
    );

  // --- rewardbench ---------------------------------------------------------------------------
  const rb = ev
    .command('rewardbench')
    .description('RewardBench: per-subset accuracy, the four sections (math-prm weighted as the official code) and the score')
    .option('--scores <file>', 'JSONL of scored pairs {subset, chosen, rejected} (or score_chosen/score_rejected), or per-example results {subset, result}')
    .option('--pairs <file>', 'JSONL of pairs to judge {id?, subset, prompt, chosen, rejected} (generative judge, needs --judge-prompts)')
    .option('--judge-prompts <file>', "FastChat's judge_prompts.jsonl (the pair-v2 prompt judges the pairs)")
    .option('--prior-sets <file>', 'JSON {anthropic_helpful, anthropic_hhh, shp, summarize} accuracies for the legacy v1 average')
    .option('--json', 'print the results as JSON', false);
  addJudgeOptions(rb);
  addCommonOptions(rb, { out: 'runs/eval-rewardbench' });
  rb.action(async () => {
    const cfg = resolveConfig(rb, z.strictObject({ ...commonSchema, ...judgeSchema, out: z.string().min(1), scores: z.string().min(1).optional(), pairs: z.string().min(1).optional(), judgePrompts: z.string().min(1).optional(), priorSets: z.string().min(1).optional(), json: z.boolean() }));
    announce('eval rewardbench', cfg, cfg.quiet);
    requireOne(cfg, 'scores', 'pairs', 'pass --scores with reward-model scores (steer rm score), or --pairs with a judge');
    let report: RewardBenchReport;
    let stats = '';
    if (cfg.scores) {
      const { pairs, results } = readRewardBenchScores(cfg.scores);
      report = pairs.length ? scoreRewardBench(pairs) : scoreRewardBenchResults(results);
    } else {
      if (!cfg.judgePrompts) throw new UserError({ what: 'judging pairs needs the judge prompts', where: '--judge-prompts', fix: "pass FastChat's data/judge_prompts.jsonl" });
      const prompt = readJudgePrompts(cfg.judgePrompts).get('pair-v2');
      if (!prompt) throw new UserError({ what: 'the judge prompts have no "pair-v2"', where: cfg.judgePrompts, fix: "pass FastChat's data/judge_prompts.jsonl" });
      const client = makeClient(cfg);
      const bar = progressFor('judging pairs', cfg.quiet);
      const recs = await judgeRewardBenchPairs({ client, prompt, pairs: readRewardBenchPairs(cfg.pairs!), seed: cfg.seed, onProgress: bar.update });
      bar.stop();
      writeLinesAtomic(join(cfg.out, 'judgments.jsonl'), recs.map((r) => JSON.stringify(r)));
      report = scoreRewardBenchResults(recs);
      stats = judgeStatsLine(client.stats);
    }
    const prior = cfg.priorSets ? (readJson(cfg.priorSets) as Record<string, number>) : undefined;
    const legacy = legacyRewardBenchAverage(report.sections, prior);
    const results = { ...report, legacyAverage: legacy.average, priorSets: prior ? legacy.priorSets : null };
    finish(cfg.out, results, rewardBenchTable({ ...report, legacyAverage: prior ? legacy.average : undefined }) + (stats ? '\n' + stats : ''), cfg.json, cfg.quiet);
  });

  // --- mtbench -------------------------------------------------------------------------------
  const mt = ev
    .command('mtbench')
    .description('MT-Bench: single-answer grading (score 1–10 per turn) or pairwise against a baseline, as FastChat llm_judge')
    .option('--judgments <file>', "existing judgments: FastChat's model_judgment/<judge>_single.jsonl or _pair.jsonl")
    .option('--answers <file>', "model answers to judge (repeatable): FastChat's model_answer/<model>.jsonl", collect, [])
    .option('--questions <file>', "FastChat's data/mt_bench/question.jsonl")
    .option('--judge-prompts <file>', "FastChat's data/judge_prompts.jsonl")
    .option('--reference <file>', "reference answers for math/reasoning/coding: FastChat's reference_answer/gpt-4.jsonl")
    .option('--mode <mode>', 'single | pairwise (against --baseline)', 'single')
    .option('--baseline <model>', 'pairwise baseline (one of the --answers models, e.g. gpt-3.5-turbo)')
    .option('--tokenizer <path>', 'tokenizer for answer lengths in tokens (characters are always reported), and for a --model without one')
    .option('--json', 'print the results as JSON', false);
  addPolicyOptions(mt, "FastChat's model_answer/<model>.jsonl answers (per-category temperatures, two turns)", 1024);
  addJudgeOptions(mt);
  addCommonOptions(mt, { out: 'runs/eval-mtbench' });
  mt.action(async () => {
    const cfg = resolveConfig(mt, z.strictObject({ ...commonSchema, ...judgeSchema, ...policySchema, out: z.string().min(1), judgments: z.string().min(1).optional(), answers: z.array(z.string()), questions: z.string().min(1).optional(), judgePrompts: z.string().min(1).optional(), reference: z.string().min(1).optional(), mode: z.enum(['single', 'pairwise']), baseline: z.string().min(1).optional(), tokenizer: z.string().min(1).optional(), json: z.boolean() }));
    announce('eval mtbench', cfg, cfg.quiet);
    const policy = makePolicy(cfg);
    if (cfg.judgments && (cfg.answers.length || policy)) throw new UserError({ what: 'pass --judgments, or answers to judge (--answers / --model / --policy-url), not both', where: '--judgments', fix: 'score existing judgments alone, or judge answers' });
    if (!cfg.judgments && !cfg.answers.length && !policy) throw new UserError({ what: 'nothing to evaluate', where: '--judgments / --answers / --model', fix: 'pass --judgments to score existing judgments, --answers with a judge to judge them, or --model/--policy-url to generate answers first' });
    let single = [] as ReturnType<typeof readMtBenchJudgments>['single'];
    let pairs: PairJudgmentRow[] = [];
    let stats = '';
    let lengths: Record<string, LengthStats> | null = null;
    let probes: ProbeAnswer[] | null = null;
    if (cfg.judgments) {
      ({ single, pairs } = readMtBenchJudgments(cfg.judgments));
    } else {
      for (const [flag, v] of [['--questions', cfg.questions], ['--judge-prompts', cfg.judgePrompts]] as const) {
        if (!v && (flag === '--questions' || !cfg.answersOnly)) throw new UserError({ what: `${policy && flag === '--questions' ? 'answering' : 'judging'} MT-Bench needs ${flag}`, where: flag, fix: `pass FastChat's ${flag === '--questions' ? 'data/mt_bench/question.jsonl' : 'data/judge_prompts.jsonl'}` });
      }
      const questions = readMtBenchQuestions(cfg.questions!).slice(0, cfg.limit);
      const answers = new Map<string, Map<string, string[]>>();
      for (const f of cfg.answers) {
        const a = readMtBenchAnswers(f);
        answers.set(a.model ?? f.replace(/^.*\//, '').replace(/\.jsonl?$/, ''), a.answers);
      }
      if (policy) {
        const path = join(cfg.out, 'model_answer', `${policy.name}.jsonl`);
        const r = await answerThenProbe(policy, cfg, path, 'answers', (onProgress) => generateMtBenchAnswers(questions, { policy, path, maxNewTokens: cfg.maxNewTokens ?? 1024, seed: cfg.seed, chunk: cfg.batchSize, onProgress }));
        answers.set(policy.name, r.result);
        probes = r.probes;
        if (cfg.answersOnly) return;
      }
      const tok = cfg.tokenizer ? loadTokenizer(cfg.tokenizer) : undefined;
      lengths = Object.fromEntries([...answers].map(([m, a]) => [m, lengthStats([...a.values()].flat(), policy && m === policy.name ? lengthTokenizer(cfg, policy) : tok)]));
      const client = makeClient(cfg);
      const common = { client, judgeName: cfg.judgeModel!, questions, prompts: readJudgePrompts(cfg.judgePrompts!), references: cfg.reference ? readMtBenchAnswers(cfg.reference).answers : null, answers };
      const bar = progressFor('judging', cfg.quiet);
      if (cfg.mode === 'single') {
        const recs = await judgeMtBenchSingle({ ...common, onProgress: bar.update });
        writeLinesAtomic(join(cfg.out, `${cfg.judgeModel}_single.jsonl`), recs.map((r) => JSON.stringify(r)));
        single = recs.map((r) => ({ model: r.model, turn: r.turn, score: r.score }));
      } else {
        if (!cfg.baseline || !answers.has(cfg.baseline)) throw new UserError({ what: 'pairwise mode needs --baseline naming one of the --answers models', where: '--baseline', received: cfg.baseline ?? '(none)', fix: `pass --answers for the baseline too and --baseline <its model id>; models: ${[...answers.keys()].join(', ')}` });
        const recs = await judgeMtBenchPairwise({ ...common, baseline: cfg.baseline, onProgress: bar.update });
        writeLinesAtomic(join(cfg.out, `${cfg.judgeModel}_pair.jsonl`), recs.map((r) => JSON.stringify(r)));
        pairs = recs.map((r) => ({ model1: r.model_1, model2: r.model_2, g1Winner: r.g1_winner as PairJudgmentRow['g1Winner'], g2Winner: r.g2_winner as PairJudgmentRow['g2Winner'] }));
      }
      bar.stop();
      stats = judgeStatsLine(client.stats);
    }
    let results: Record<string, unknown>;
    let text: string;
    if (single.length) {
      const scores = aggregateSingle(single);
      results = { mode: 'single', models: scores };
      text = mtBenchTable(scores);
    } else {
      const baseline = cfg.baseline ?? mostCommonOpponent(pairs);
      const scores = aggregatePairwise(pairs, baseline);
      results = { mode: 'pairwise', baseline, models: scores };
      text = mtBenchPairwiseTable(scores, baseline);
    }
    finishBenchmark(cfg, results, text, { lengths, probes, stats });
  });

  // --- alpaca --------------------------------------------------------------------------------
  const al = ev
    .command('alpaca')
    .description('AlpacaEval 2: win rate, standard error, discrete win rate and the length-controlled win rate (GLM refit per model)')
    .option('--annotations <file>', "alpaca_eval's annotations.json for one model (results/<model>/<annotator>/annotations.json)")
    .option('--outputs <file>', 'model outputs to annotate with the judge: JSON array of {instruction, output, generator}')
    .option('--reference-outputs <file>', 'the baseline outputs, same format and order (AlpacaEval 2: gpt4_1106_preview)')
    .option('--instruction-difficulty <file>', "instruction_difficulty.csv (official) or a JSON array of difficulties in eval-set order")
    .option('--gamed <file>', 'df_gamed.csv (official) or JSON {index, preference, std_delta_len, instruction_difficulty}')
    .option('--baseline-weights <file>', 'JSON {model: glm_weights} of other models: also report LC against each of them')
    .option('--join <mode>', "pairing of model and baseline outputs by instruction: strict (every instruction answered, else stop) | inner (alpaca_eval's merge: score the common ones, with a warning)", 'strict')
    .option('--temperature <t>', 'sampling temperature of --model / --policy-url (0 = greedy)', '0.7')
    .option('--tokenizer <path>', 'tokenizer for a --model without one beside it')
    .option('--json', 'print the results as JSON', false);
  addPolicyOptions(al, 'model_outputs.json outputs for the instructions of --reference-outputs', 2048);
  addJudgeOptions(al);
  addCommonOptions(al, { out: 'runs/eval-alpaca' });
  al.action(async () => {
    const cfg = resolveConfig(al, z.strictObject({ ...commonSchema, ...judgeSchema, ...policySchema, out: z.string().min(1), annotations: z.string().min(1).optional(), outputs: z.string().min(1).optional(), referenceOutputs: z.string().min(1).optional(), instructionDifficulty: z.string().min(1).optional(), gamed: z.string().min(1).optional(), baselineWeights: z.string().min(1).optional(), join: z.enum(['strict', 'inner']), temperature: z.coerce.number().min(0), tokenizer: z.string().min(1).optional(), json: z.boolean() }));
    announce('eval alpaca', cfg, cfg.quiet);
    const policy = makePolicy(cfg);
    const sources = [cfg.annotations, cfg.outputs, policy].filter((x) => x).length;
    if (sources !== 1) throw new UserError({ what: sources ? 'pass one of --annotations, --outputs, --model / --policy-url' : 'nothing to evaluate', where: '--annotations / --outputs / --model', fix: 'pass --annotations (already judged), --outputs and --reference-outputs with a judge, or --model/--policy-url to generate the outputs first' });
    let generated: { instructions: string[]; outputs: string[]; generator: string } | null = null;
    let lengths: Record<string, LengthStats> | null = null;
    let probes: ProbeAnswer[] | null = null;
    if (policy) {
      if (!cfg.referenceOutputs) throw new UserError({ what: 'generating AlpacaEval outputs needs the eval set', where: '--reference-outputs', fix: "pass the baseline's model_outputs.json (AlpacaEval 2: gpt4_1106_preview); its instructions are the ones answered" });
      const ref = readAlpacaOutputs(cfg.referenceOutputs);
      const items = ref.instructions.map((instruction, i) => ({ instruction, dataset: ref.datasets[i] })).slice(0, cfg.limit);
      const path = join(cfg.out, 'model_outputs.json');
      const r = await answerThenProbe(policy, cfg, path, 'outputs', (onProgress) => generateAlpacaOutputs(items, { policy, path, maxNewTokens: cfg.maxNewTokens ?? 2048, temperature: cfg.temperature, seed: cfg.seed, chunk: cfg.batchSize, onProgress }));
      const rows = r.result;
      probes = r.probes;
      if (cfg.answersOnly) return;
      generated = { instructions: rows.map((r) => r.instruction), outputs: rows.map((r) => r.output), generator: policy.name };
      lengths = { [policy.name]: lengthStats(generated.outputs, lengthTokenizer(cfg, policy)) };
    }
    if (!cfg.gamed) throw new UserError({ what: 'the length-controlled win rate needs the gamed regularisation rows', where: '--gamed', fix: "pass alpaca_eval's df_gamed.csv (HF dataset tatsu-lab/alpaca_eval)" });
    if (!cfg.instructionDifficulty) throw new UserError({ what: 'the length-controlled win rate needs the instruction difficulties', where: '--instruction-difficulty', fix: "pass alpaca_eval's instruction_difficulty.csv (HF dataset tatsu-lab/alpaca_eval)" });
    const gamed = readGamedRows(cfg.gamed);
    const difficulty = readInstructionDifficulty(cfg.instructionDifficulty);
    checkDifficultyMatchesGamed(difficulty, gamed, `${cfg.instructionDifficulty} vs ${cfg.gamed}`);
    let annotations;
    let stats = '';
    let where: string;
    if (cfg.annotations) {
      annotations = parseAnnotations(readJson(cfg.annotations), cfg.annotations);
      where = cfg.annotations;
    } else {
      if (!cfg.referenceOutputs) throw new UserError({ what: 'annotating needs the baseline outputs', where: '--reference-outputs', fix: "pass the baseline's outputs (AlpacaEval 2: gpt4_1106_preview) in the same instruction order" });
      const model = generated ?? readAlpacaOutputs(cfg.outputs!);
      const ref = readAlpacaOutputs(cfg.referenceOutputs);
      // a --limit run answers the first N instructions: judge those against their baseline rows
      const refRows = generated && cfg.limit ? { instructions: ref.instructions.slice(0, cfg.limit), outputs: ref.outputs.slice(0, cfg.limit) } : ref;
      const joined = joinAlpacaOutputs(refRows, model, cfg.join, { baseline: cfg.referenceOutputs, model: cfg.outputs ?? join(cfg.out, 'model_outputs.json') });
      if ((joined.droppedBaseline || joined.droppedModel) && !cfg.quiet) {
        process.stderr.write(`warning: ${refRows.instructions.length} baseline and ${model.instructions.length} model outputs, ${joined.instructions.length} after the inner join on the instruction (as alpaca_eval: its LC then reads instruction difficulties by row position)\n`);
      }
      const client = makeClient(cfg);
      const bar = progressFor('annotating', cfg.quiet);
      annotations = await annotateAlpaca({ client, annotator: `steer_judge_${cfg.judgeModel}`, instructions: joined.instructions, baselineOutputs: joined.baselineOutputs, modelOutputs: joined.modelOutputs, baselineName: ref.generator, modelName: model.generator, seed: cfg.seed, onProgress: bar.update });
      bar.stop();
      writeJsonAtomic(join(cfg.out, 'annotations.json'), annotations);
      stats = judgeStatsLine(client.stats);
      where = join(cfg.out, 'annotations.json');
    }
    const r = alpacaEvalFromAnnotations(annotations, gamed, where);
    const { glm_preference: _perRow, ...rest } = r;
    const results: Record<string, unknown> = { ...rest };
    let text = alpacaTable(r);
    if (cfg.baselineWeights) {
      const others = readJson(cfg.baselineWeights) as Record<string, GlmWeights>;
      const vs = Object.fromEntries(Object.entries(others).map(([m, w]) => [m, predictLcWinRate(r.glm_weights, w, difficulty)]));
      results.length_controlled_winrate_vs = vs;
      text += '\n' + Object.entries(vs).map(([m, v]) => `LC vs ${m}: ${v.toFixed(2)}`).join('\n');
    }
    finishBenchmark(cfg, results, text, { lengths, probes, stats });
  });

  // --- arena ---------------------------------------------------------------------------------
  const ar = ev
    .command('arena')
    .description('Arena-Hard: Bradley-Terry win rate against the baseline with bootstrap CIs (v0.1 or v2 scoring), optional style control')
    .option('--judgments <file>', "existing judgments (repeatable): arena-hard's model_judgment/<judge>/<model>.jsonl", collect, [])
    .option('--answers <file>', "model answers (repeatable): arena-hard's model_answer/<model>.jsonl — judged with --judge-url, and the source of style metadata", collect, [])
    .option('--questions <file>', "arena-hard's question.jsonl (needed to judge)")
    .option('--baseline <model>', 'the baseline model (v0.1: gpt-4-0314)', 'gpt-4-0314')
    .option('--scoring <version>', 'scoring code: v0.1 (Bradley-Terry, 95% CI) | v2 (bootstrap of mean scores, 90% CI)', 'v0.1')
    .option('--style-control <kind>', 'v0.1: none | style | length | markdown; v2: none | length | markdown | both', 'none')
    .option('--rounds <n>', 'bootstrap rounds', '100')
    .option('--weight <n>', 'how many battles a ">>" verdict counts', '3')
    .option('--tokenizer <path>', 'tokenizer for token lengths (style control without token_len metadata, and length statistics), and for a --model without one')
    .option('--temperature <t>', 'sampling temperature of --model / --policy-url (official: 0, greedy)', '0')
    .option('--json', 'print the results as JSON', false);
  addPolicyOptions(ar, "arena-hard's model_answer/<model>.jsonl answers", 4096);
  addJudgeOptions(ar);
  addCommonOptions(ar, { out: 'runs/eval-arena' });
  // the official scripts seed numpy with 42; the same seed reproduces their bootstrap draws
  ar.options.find((o) => o.long === '--seed')!.default('42');
  ar.action(async () => {
    const cfg = resolveConfig(ar, z.strictObject({ ...commonSchema, ...judgeSchema, ...policySchema, out: z.string().min(1), judgments: z.array(z.string()), answers: z.array(z.string()), questions: z.string().min(1).optional(), baseline: z.string().min(1), scoring: z.enum(['v0.1', 'v2']), styleControl: z.enum(['none', 'style', 'length', 'markdown', 'both']), rounds: int.min(1), weight: int.min(1), tokenizer: z.string().min(1).optional(), temperature: z.coerce.number().min(0), json: z.boolean() }));
    announce('eval arena', cfg, cfg.quiet);
    const policy = makePolicy(cfg);
    if (policy && cfg.judgments.length) throw new UserError({ what: 'pass --judgments, or a policy to answer and judge, not both', where: '--judgments / --model', fix: 'score existing judgments alone, or generate and judge' });
    if (cfg.scoring === 'v0.1' && cfg.styleControl === 'both') throw new UserError({ what: 'v0.1 style control is none | style | length | markdown', where: '--style-control', received: cfg.styleControl, fix: 'use --style-control style (length and markdown together) with --scoring v0.1' });
    if (cfg.scoring === 'v2' && cfg.styleControl === 'style') throw new UserError({ what: 'v2 style control is none | length | markdown | both', where: '--style-control', received: cfg.styleControl, fix: 'use --style-control both with --scoring v2' });
    const answerSets: ArenaAnswers[] = cfg.answers.map(readArenaAnswers);
    let questions = cfg.questions ? readArenaQuestions(cfg.questions).slice(0, cfg.limit) : null;
    let probes: ProbeAnswer[] | null = null;
    if (policy) {
      if (!questions) throw new UserError({ what: 'answering Arena-Hard needs the questions', where: '--questions', fix: "pass arena-hard's data/arena-hard-v0.1/question.jsonl" });
      const path = join(cfg.out, 'model_answer', `${policy.name}.jsonl`);
      const toAnswer = questions;
      probes = (await answerThenProbe(policy, cfg, path, 'answers', (onProgress) => generateArenaAnswers(toAnswer, { policy, path, maxNewTokens: cfg.maxNewTokens ?? 4096, temperature: cfg.temperature, seed: cfg.seed, chunk: cfg.batchSize, onProgress }))).probes;
      if (cfg.answersOnly) return;
      answerSets.push(readArenaAnswers(path));
      // judge only the questions every answer file covers (a --limit run answers the first N)
      questions = questions.filter((q) => answerSets.every((a) => a.answers.has(q.questionId)));
    }
    const byModel = new Map(answerSets.map((a) => [a.model, a]));
    let judgments: ArenaJudgment[] = [];
    let stats = '';
    if (cfg.judgments.length) {
      for (const f of cfg.judgments) judgments.push(...readArenaJudgments(f));
    } else {
      if (!answerSets.length || !questions) throw new UserError({ what: 'nothing to score: pass --judgments, or --answers (or --model) and --questions with a judge', where: '--judgments / --answers', fix: 'steer eval arena --judgments model_judgment/<judge>/<model>.jsonl --baseline gpt-4-0314' });
      const client = makeClient(cfg);
      const bar = progressFor('judging', cfg.quiet);
      const recs = await judgeArena({ client, judgeName: cfg.judgeModel!, questions, answers: new Map(answerSets.map((a) => [a.model, a.answers])), baseline: cfg.baseline, onProgress: bar.update });
      bar.stop();
      for (const m of new Set(recs.map((r) => r.model))) writeLinesAtomic(join(cfg.out, 'model_judgment', `${m}.jsonl`), recs.filter((r) => r.model === m).map((r) => JSON.stringify(r)));
      judgments = judgmentRecordsToArena(recs);
      stats = judgeStatsLine(client.stats);
    }
    const tok = cfg.tokenizer ? loadTokenizer(cfg.tokenizer) : undefined;
    const style = cfg.styleControl === 'none' ? null : styleLookup(byModel, cfg.baseline, tok);
    let results: Record<string, unknown>;
    let text: string;
    const bar = progressFor('bootstrap', cfg.quiet);
    if (cfg.scoring === 'v0.1') {
      const battles: Battle[] = judgments.flatMap((j) => battlesFromJudgment(j, cfg.baseline, { weight: cfg.weight, style: style ? { baseline: style(cfg.baseline, j.questionId), model: style(j.model, j.questionId) } : undefined }));
      if (!battles.length) throw new UserError({ what: 'the judgments contain no usable verdict', where: cfg.judgments.join(', ') || 'judgments', fix: 'check that games[].score holds verdicts like "A>B"' });
      const r = arenaHardV01(battles, { baseline: cfg.baseline, rounds: cfg.rounds, seed: cfg.seed, styleControl: cfg.styleControl as StyleControl, onRound: bar.update });
      results = { version: 'v0.1', ...r };
      text = arenaV01Table(r);
    } else if (cfg.styleControl === 'none') {
      const entries = judgments.flatMap((j) => (v2Scores(j, cfg.weight) ?? []).map((score) => ({ model: j.model, score, questionId: j.questionId })));
      const r = arenaHardV2(entries, { rounds: cfg.rounds, seed: cfg.seed });
      results = { version: 'v2', baseline: cfg.baseline, models: r };
      text = arenaV2Table(r);
    } else {
      const entries = judgments.flatMap((j) => (v2Scores(j, cfg.weight) ?? []).map((score) => ({ model: j.model, score, questionId: j.questionId, style: style!(j.model, j.questionId), baselineStyle: style!(cfg.baseline, j.questionId) })));
      const r = arenaHardV2StyleControl(entries, { baseline: cfg.baseline, control: cfg.styleControl as 'length' | 'markdown' | 'both', rounds: cfg.rounds, seed: cfg.seed, onRound: bar.update });
      results = { version: 'v2', baseline: cfg.baseline, ...r };
      text = arenaV2StyleTable(r);
    }
    bar.stop();
    const lengths = answerSets.length ? Object.fromEntries(answerSets.map((a) => [a.model, lengthStats([...a.answers.values()], policy && a.model === policy.name ? lengthTokenizer(cfg, policy) : tok)])) : undefined;
    finishBenchmark(cfg, results, text, { lengths, probes, stats });
  });

  // --- all -----------------------------------------------------------------------------------
  const all = ev
    .command('all')
    .description("a policy to MT-Bench, AlpacaEval 2 LC and Arena-Hard in one run: each benchmark's command with the same policy and judge (OUT/mtbench, OUT/alpaca, OUT/arena), then one summary")
    .requiredOption('--data <dir>', 'benchmark data: mt-bench/{question,judge_prompts,reference_answer-gpt-4}.jsonl, alpaca-eval/gpt4_1106_preview.model_outputs.json, arena-hard/question-v0.1.jsonl (the layout of steer\'s shared data folder)')
    .requiredOption('--gamed <file>', "AlpacaEval's df_gamed.csv")
    .requiredOption('--instruction-difficulty <file>', "AlpacaEval's instruction_difficulty.csv")
    .option('--arena-baseline-answers <file>', "the Arena-Hard baseline's model_answer file (official: gpt-4-0314's); make one with `steer eval arena --model … --answers-only`")
    .option('--arena-baseline-model <dir>', 'or a steer model directory whose answers are the Arena-Hard baseline (generated first, into OUT/arena-baseline)')
    .option('--tokenizer <path>', 'tokenizer for a --model without one beside it');
  addPolicyOptions(all, 'answers to all three benchmarks', null);
  addJudgeOptions(all);
  addCommonOptions(all, { out: 'runs/eval-all' });
  all.action(async () => {
    const cfg = resolveConfig(all, z.strictObject({ ...commonSchema, ...judgeSchema, ...policySchema, out: z.string().min(1), data: z.string().min(1), gamed: z.string().min(1), instructionDifficulty: z.string().min(1), arenaBaselineAnswers: z.string().min(1).optional(), arenaBaselineModel: z.string().min(1).optional(), tokenizer: z.string().min(1).optional() }));
    announce('eval all', cfg, cfg.quiet);
    if (!cfg.arenaBaselineAnswers === !cfg.arenaBaselineModel) throw new UserError({ what: cfg.arenaBaselineAnswers ? 'pass --arena-baseline-answers or --arena-baseline-model, not both' : 'Arena-Hard needs a baseline', where: '--arena-baseline-answers / --arena-baseline-model', fix: "pass the baseline's model_answer file (official: gpt-4-0314's), or a model directory to answer as the baseline" });
    if (cfg.answersOnly) throw new UserError({ what: '--answers-only is for one benchmark', where: '--answers-only', fix: 'run steer eval mtbench|alpaca|arena --answers-only' });
    if (!cfg.model && !cfg.policyUrl) throw new UserError({ what: 'nothing to evaluate', where: '--model / --policy-url', fix: 'pass the policy: --model DIR or --policy-url URL --policy-model NAME' });
    const d = (rel: string) => join(cfg.data, rel);
    const flag = (k: string) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    const policyKeys = ['model', 'tokenizer', 'policyUrl', 'policyModel', 'policyApiKey', 'modelId', 'probes'] as const;
    const sharedKeys = ['limit', 'maxNewTokens', 'batchSize', 'judgeUrl', 'judgeModel', 'judgeApiKey', 'concurrency', 'maxRetries', 'timeoutMs', 'seed', 'threads'] as const;
    const flags = (keys: readonly (keyof typeof cfg)[]) =>
      keys.flatMap((k) => {
        const v = cfg[k];
        // seed only when given: each benchmark has its own default (Arena-Hard's bootstrap: 42, as the official script)
        return v !== undefined && (k !== 'seed' || all.getOptionValueSource('seed') !== 'default') ? [flag(k), String(v)] : [];
      });
    const shared = [...flags(sharedKeys), ...(cfg.quiet ? ['--quiet'] : [])];
    const pass = [...flags(policyKeys), ...shared];
    // each benchmark is its own command on a fresh parser (no option state carried between them)
    const run = async (name: string, args: string[]) => {
      const p = new Command();
      registerEval(p);
      await p.parseAsync(['eval', name, ...args, ...pass], { from: 'user' });
      return readJson(join(cfg.out, name, 'results.json')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    let baselineAnswers = cfg.arenaBaselineAnswers;
    if (cfg.arenaBaselineModel) {
      const p = new Command();
      registerEval(p);
      const out = join(cfg.out, 'arena-baseline');
      await p.parseAsync(['eval', 'arena', '--model', cfg.arenaBaselineModel, '--questions', d('arena-hard/question-v0.1.jsonl'), '--answers-only', '--out', out, ...shared], { from: 'user' });
      baselineAnswers = join(out, 'model_answer', readdirSync(join(out, 'model_answer')).find((f) => f.endsWith('.jsonl'))!);
    }
    const baseline = readArenaAnswers(baselineAnswers!).model;
    const mt = await run('mtbench', ['--questions', d('mt-bench/question.jsonl'), '--judge-prompts', d('mt-bench/judge_prompts.jsonl'), '--reference', d('mt-bench/reference_answer-gpt-4.jsonl'), '--out', join(cfg.out, 'mtbench')]);
    const al = await run('alpaca', ['--reference-outputs', d('alpaca-eval/gpt4_1106_preview.model_outputs.json'), '--gamed', cfg.gamed, '--instruction-difficulty', cfg.instructionDifficulty, '--out', join(cfg.out, 'alpaca')]);
    const ar = await run('arena', ['--questions', d('arena-hard/question-v0.1.jsonl'), '--answers', baselineAnswers!, '--baseline', baseline, '--out', join(cfg.out, 'arena')]);
    const id = Object.keys(al.lengths ?? {})[0] ?? al.model;
    const a = ar.models[id];
    const summary = {
      model: id,
      mtbench: mt.models[id].average,
      alpacaeval2_lc: al.length_controlled_winrate,
      alpacaeval2_win_rate: al.win_rate,
      arena_hard: a.score,
      arena_hard_ci: [a.winRateLower - a.winRate, a.winRateUpper - a.winRate],
      arena_baseline: baseline,
      mean_length_chars: { mtbench: mt.lengths[id].chars.mean, alpaca: al.lengths[id].chars.mean, arena: ar.lengths[id].chars.mean },
      limit: cfg.limit ?? null,
      probes: al.probes ?? null,
    };
    const text = [
      `${id}: ${cfg.limit ? `first ${cfg.limit} questions of each benchmark (not comparable with published numbers)` : 'full benchmarks'}`,
      table(['benchmark', 'score', 'mean length (chars)'], [
        ['MT-Bench (1–10)', summary.mtbench.toFixed(2), summary.mean_length_chars.mtbench.toFixed(0)],
        ['AlpacaEval 2 LC %', `${summary.alpacaeval2_lc.toFixed(2)} (win rate ${summary.alpacaeval2_win_rate.toFixed(2)})`, summary.mean_length_chars.alpaca.toFixed(0)],
        [`Arena-Hard % vs ${baseline}`, `${summary.arena_hard.toFixed(2)} (95% CI ${signed(summary.arena_hard_ci[0])}, ${signed(summary.arena_hard_ci[1])})`, summary.mean_length_chars.arena.toFixed(0)],
      ]),
    ].join('\n');
    writeJsonAtomic(join(cfg.out, 'summary.json'), summary);
    process.stdout.write('\n' + text + '\n');
  });
}

const signed = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(2);

function mostCommonOpponent(pairs: readonly PairJudgmentRow[]): string {
  const count = new Map<string, number>();
  for (const p of pairs) count.set(p.model2, (count.get(p.model2) ?? 0) + 1);
  const best = [...count].sort((a, b) => b[1] - a[1])[0];
  if (!best) throw new UserError({ what: 'there are no pairwise judgments', where: '--judgments', fix: 'pass a non-empty judgment file' });
  return best[0];
}

/** Style metadata per (model, question): from the answer files' metadata, else counted from the text. */
function styleLookup(byModel: Map<string, ArenaAnswers>, baseline: string, tok: TextTokenizer | undefined): (model: string, questionId: string) => ArenaStyle {
  return (model, questionId) => {
    const a = byModel.get(model);
    if (!a) throw new UserError({ what: `style control needs the answers of "${model}"`, where: '--answers', fix: `pass --answers for every judged model and the baseline ${baseline} (their conv_metadata carries token and markdown counts)` });
    const s = a.style.get(questionId);
    if (s) return s;
    const text = a.answers.get(questionId);
    if (text === undefined) throw new UserError({ what: `"${model}" has no answer to question ${questionId}`, where: '--answers', fix: 'pass the complete answer file' });
    if (!tok) throw new UserError({ what: `the answers of "${model}" carry no token_len metadata`, where: '--answers', fix: 'pass --tokenizer to count tokens (the official numbers use tiktoken gpt-4o), or answers with conv_metadata' });
    return { tokenLen: tok.encode(text, { bos: false }).length, ...markdownCounts(text) };
  };
}
