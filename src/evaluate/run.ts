// Judging runs: turn model answers into judgments through a JudgeClient, in the official formats
// (FastChat model_judgment rows, arena-hard judgment rows, alpaca_eval annotations), so the
// scoring functions — and the official scripts — can read them. Orchestration only: the math is
// in mtbench.ts, arenahard.ts, alpacaeval.ts and rewardbench.ts.
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { pythonSeededChoiceIndex } from './mt19937.js';
import type { JudgeClient, JudgeResponse } from './judge.js';
import {
  extractPairWinner,
  extractRating,
  mapGameWinner,
  renderPairJudgment,
  renderSingleJudgment,
  selectJudgePromptName,
  type JudgePrompt,
  type MtBenchQuestion,
} from './mtbench.js';
import type { AlpacaAnnotation } from './alpacaeval.js';
import type { ArenaJudgment } from './arenahard.js';
import { generativeResult, type JudgeVerdict } from './rewardbench.js';

export type ProgressFn = (done: number, total: number) => void;

/** Run `tasks` through `fn` concurrently (the client bounds the real concurrency), in order. */
async function mapAll<T, R>(tasks: readonly T[], fn: (t: T) => Promise<R>, onProgress?: ProgressFn): Promise<R[]> {
  let done = 0;
  onProgress?.(0, tasks.length);
  return Promise.all(
    tasks.map(async (t) => {
      const r = await fn(t);
      onProgress?.(++done, tasks.length);
      return r;
    }),
  );
}

const now = () => Date.now() / 1000;

// ---------------------------------------------------------------------------------------------
// MT-Bench

/** A row of FastChat's model_judgment/<judge>_single.jsonl. */
export interface MtBenchSingleRecord {
  question_id: number | string;
  model: string;
  judge: [string, string];
  user_prompt: string;
  judgment: string;
  score: number;
  turn: number;
  tstamp: number;
}

/** A row of FastChat's model_judgment/<judge>_pair.jsonl. */
export interface MtBenchPairRecord {
  question_id: number | string;
  model_1: string;
  model_2: string;
  g1_winner: string;
  g2_winner: string;
  judge: [string, string];
  g1_user_prompt: string;
  g1_judgment: string;
  g2_user_prompt: string;
  g2_judgment: string;
  turn: number;
  tstamp: number;
}

function answerOf(answers: Map<string, Map<string, string[]>>, model: string, q: MtBenchQuestion, turns: number): string[] {
  const a = answers.get(model)?.get(String(q.questionId));
  if (!a || a.length < turns) {
    throw new UserError({ what: `model "${model}" has no ${turns}-turn answer to question ${q.questionId}`, where: `answers of ${model}`, fix: 'generate answers for every question (both turns) before judging' });
  }
  return a;
}

function referenceOf(refs: Map<string, string[]> | null, prompt: JudgePrompt, q: MtBenchQuestion): string[] | null {
  if (!prompt.promptTemplate.includes('{ref_answer_1}')) return null;
  const r = refs?.get(String(q.questionId));
  if (!r) throw new UserError({ what: `question ${q.questionId} (${q.category}) is graded against a reference answer, but none was given`, where: '--reference', fix: "pass FastChat's data/mt_bench/reference_answer/gpt-4.jsonl" });
  return r;
}

function promptOf(prompts: Map<string, JudgePrompt>, name: string): JudgePrompt {
  const p = prompts.get(name);
  if (!p) throw new UserError({ what: `the judge prompts have no "${name}"`, where: '--judge-prompts', fix: "pass FastChat's data/judge_prompts.jsonl" });
  return p;
}

/** gen_judgment.py --mode single: every model, question and turn, with temperature 0, max_tokens 2048. */
export async function judgeMtBenchSingle(opts: {
  client: JudgeClient;
  judgeName: string;
  questions: readonly MtBenchQuestion[];
  prompts: Map<string, JudgePrompt>;
  references: Map<string, string[]> | null;
  answers: Map<string, Map<string, string[]>>;
  onProgress?: ProgressFn;
}): Promise<MtBenchSingleRecord[]> {
  const tasks: { model: string; q: MtBenchQuestion; turn: 1 | 2 }[] = [];
  for (const model of opts.answers.keys()) {
    for (const q of opts.questions) for (const turn of [1, 2] as const) if (turn <= q.turns.length) tasks.push({ model, q, turn });
  }
  return mapAll(
    tasks,
    async ({ model, q, turn }) => {
      const prompt = promptOf(opts.prompts, selectJudgePromptName(q.category, turn, 'single'));
      const msg = renderSingleJudgment(prompt, q, answerOf(opts.answers, model, q, turn), referenceOf(opts.references, prompt, q), turn);
      const r = await opts.client.complete({ messages: [{ role: 'system', content: msg.system }, { role: 'user', content: msg.user }], temperature: 0, maxTokens: 2048 });
      return { question_id: q.questionId, model, judge: [opts.judgeName, prompt.name], user_prompt: msg.user, judgment: r.text, score: extractRating(r.text), turn, tstamp: now() };
    },
    opts.onProgress,
  );
}

/** gen_judgment.py --mode pairwise-baseline: each model against the baseline, both position orders. */
export async function judgeMtBenchPairwise(opts: {
  client: JudgeClient;
  judgeName: string;
  questions: readonly MtBenchQuestion[];
  prompts: Map<string, JudgePrompt>;
  references: Map<string, string[]> | null;
  answers: Map<string, Map<string, string[]>>;
  baseline: string;
  onProgress?: ProgressFn;
}): Promise<MtBenchPairRecord[]> {
  const tasks: { model: string; q: MtBenchQuestion; turn: 1 | 2 }[] = [];
  for (const model of opts.answers.keys()) {
    if (model === opts.baseline) continue;
    for (const q of opts.questions) for (const turn of [1, 2] as const) if (turn <= q.turns.length) tasks.push({ model, q, turn });
  }
  return mapAll(
    tasks,
    async ({ model, q, turn }) => {
      const prompt = promptOf(opts.prompts, selectJudgePromptName(q.category, turn, 'pairwise'));
      const a1 = answerOf(opts.answers, model, q, turn);
      const a2 = answerOf(opts.answers, opts.baseline, q, turn);
      const ref = referenceOf(opts.references, prompt, q);
      const game = async (first: string[], second: string[]) => {
        const msg = renderPairJudgment(prompt, q, first, second, ref, turn);
        const r = await opts.client.complete({ messages: [{ role: 'system', content: msg.system }, { role: 'user', content: msg.user }], temperature: 0, maxTokens: 2048 });
        return { msg, r };
      };
      const [g1, g2] = await Promise.all([game(a1, a2), game(a2, a1)]);
      return {
        question_id: q.questionId,
        model_1: model,
        model_2: opts.baseline,
        g1_winner: mapGameWinner(extractPairWinner(g1.r.text, prompt.outputFormat), 1),
        g2_winner: mapGameWinner(extractPairWinner(g2.r.text, prompt.outputFormat), 2),
        judge: [opts.judgeName, prompt.name],
        g1_user_prompt: g1.msg.user,
        g1_judgment: g1.r.text,
        g2_user_prompt: g2.msg.user,
        g2_judgment: g2.r.text,
        turn,
        tstamp: now(),
      };
    },
    opts.onProgress,
  );
}

// ---------------------------------------------------------------------------------------------
// Arena-Hard v0.1 judging (gen_judgment.py with config/judge_config.yaml)

/** arena-hard-auto config/judge_config.yaml (v0.1): the judge's system prompt. */
export const ARENA_JUDGE_SYSTEM_PROMPT =
  "Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to the user prompt displayed below. You will be given assistant A's answer and assistant B's answer. Your job is to evaluate which assistant's answer is better.\n\nBegin your evaluation by generating your own answer to the prompt. You must provide your answers before judging any answers.\n\nWhen evaluating the assistants' answers, compare both assistants' answers with your answer. You must identify and correct any mistakes or inaccurate information.\n\nThen consider if the assistant's answers are helpful, relevant, and concise. Helpful means the answer correctly responds to the prompt or follows the instructions. Note when user prompt has any ambiguity or more than one interpretation, it is more helpful and appropriate to ask for clarifications or more information from the user than providing an answer based on assumptions. Relevant means all parts of the response closely connect or are appropriate to what is being asked. Concise means the response is clear and not verbose or excessive.\n\nThen consider the creativity and novelty of the assistant's answers when needed. Finally, identify any missing important information in the assistants' answers that would be beneficial to include when responding to the user prompt.\n\nAfter providing your explanation, you must output only one of the following choices as your final verdict with a label:\n\n1. Assistant A is significantly better: [[A>>B]]\n2. Assistant A is slightly better: [[A>B]]\n3. Tie, relatively the same: [[A=B]]\n4. Assistant B is slightly better: [[B>A]]\n5. Assistant B is significantly better: [[B>>A]]\n\nExample output: \"My final verdict is tie: [[A=B]]\".";

/** arena-hard-auto config/judge_config.yaml (v0.1): the user prompt template. */
export const ARENA_JUDGE_TEMPLATE =
  "<|User Prompt|>\n{question_1}\n\n<|The Start of Assistant A's Answer|>\n{answer_1}\n<|The End of Assistant A's Answer|>\n\n<|The Start of Assistant B's Answer|>\n{answer_2}\n<|The End of Assistant B's Answer|>";

const VERDICT_PATTERN = /\[\[([AB<>=]+)\]\]/g;

/** get_score: the one distinct [[verdict]] in the text; none → ask again; several distinct → none. */
export function extractArenaVerdict(judgment: string): { verdict: string | null; tryAgain: boolean } {
  const found = [...judgment.matchAll(VERDICT_PATTERN)].map((m) => m[1]).filter((m) => m !== '');
  const distinct = [...new Set(found)];
  if (distinct.length === 0) return { verdict: null, tryAgain: true };
  if (distinct.length === 1) return { verdict: distinct[0].replace(/^\n+|\n+$/g, ''), tryAgain: false };
  return { verdict: null, tryAgain: false };
}

/** A row of arena-hard's model_judgment/<judge>/<model>.jsonl. */
export interface ArenaJudgmentRecord {
  question_id: string;
  model: string;
  judge: string;
  games: { user_prompt: string; judgment: string; score: string | null }[];
}

export interface ArenaQuestion {
  questionId: string;
  prompt: string;
}

/**
 * Judge each model's answer against the baseline's: game 1 shows the baseline as A, game 2 the
 * model as A; up to `attempts` judge turns per game, asking it to finish when no verdict was given.
 */
export async function judgeArena(opts: {
  client: JudgeClient;
  judgeName: string;
  questions: readonly ArenaQuestion[];
  /** model → question id → answer text */
  answers: Map<string, Map<string, string>>;
  baseline: string;
  systemPrompt?: string;
  template?: string;
  maxTokens?: number;
  attempts?: number;
  onProgress?: ProgressFn;
}): Promise<ArenaJudgmentRecord[]> {
  const base = opts.answers.get(opts.baseline);
  if (!base) throw new UserError({ what: `no answers from the baseline "${opts.baseline}"`, where: '--baseline', fix: 'pass the baseline model\'s answers too (arena-hard v0.1: gpt-4-0314)' });
  const tasks: { model: string; q: ArenaQuestion }[] = [];
  for (const model of opts.answers.keys()) if (model !== opts.baseline) for (const q of opts.questions) tasks.push({ model, q });
  const system = opts.systemPrompt ?? ARENA_JUDGE_SYSTEM_PROMPT;
  const template = opts.template ?? ARENA_JUDGE_TEMPLATE;
  const attempts = opts.attempts ?? 2;
  const text = (model: string, q: ArenaQuestion) => {
    const a = opts.answers.get(model)?.get(q.questionId);
    if (a === undefined) throw new UserError({ what: `model "${model}" has no answer to question ${q.questionId}`, where: `answers of ${model}`, fix: 'answer every question before judging' });
    return a;
  };
  return mapAll(
    tasks,
    async ({ model, q }) => {
      const game = async (first: string, second: string) => {
        const user = template.replace('{question_1}', () => q.prompt).replace('{answer_1}', () => first).replace('{answer_2}', () => second);
        const conv: { role: 'system' | 'user' | 'assistant'; content: string }[] = [{ role: 'system', content: system }, { role: 'user', content: user }];
        let judgment = '';
        let verdict: string | null = null;
        for (let a = 0; a < attempts; a++) {
          const r: JudgeResponse = await opts.client.complete({ messages: conv.slice(), temperature: 0, maxTokens: opts.maxTokens ?? 4096 });
          judgment += '\n' + r.text;
          const s = extractArenaVerdict(judgment);
          verdict = s.verdict;
          conv.push({ role: 'assistant', content: r.text });
          if (!s.tryAgain) break;
          conv.push({ role: 'user', content: 'continue your judgment and finish by outputting a final verdict label' });
        }
        return { user_prompt: user, judgment, score: verdict };
      };
      const g1 = await game(text(opts.baseline, q), text(model, q));
      const g2 = await game(text(model, q), text(opts.baseline, q));
      return { question_id: q.questionId, model, judge: opts.judgeName, games: [g1, g2] };
    },
    opts.onProgress,
  );
}

export function judgmentRecordsToArena(records: readonly ArenaJudgmentRecord[]): ArenaJudgment[] {
  return records.map((r) => ({ questionId: r.question_id, model: r.model, games: [r.games[0]?.score ?? null, r.games[1]?.score ?? null] }));
}

// ---------------------------------------------------------------------------------------------
// AlpacaEval 2 annotation (weighted_alpaca_eval_gpt4_turbo: one token, logprobs of "m" and "M")

/** The system message of alpaca_eval's alpaca_eval_clf_gpt4_turbo prompt. */
export const ALPACA_JUDGE_SYSTEM_PROMPT =
  'You are a highly efficient assistant, who evaluates and selects the best large language model (LLMs) based on the quality of their responses to a given instruction. This process will be used to create a leaderboard reflecting the most accurate and human-preferred answers.';

/** The user message of alpaca_eval's alpaca_eval_clf_gpt4_turbo prompt (outputs labelled m and M). */
export function alpacaJudgeUserPrompt(instruction: string, output1: string, output2: string): string {
  return (
    "I require a leaderboard for various large language models. I'll provide you with prompts given to these models and their corresponding outputs. Your task is to assess these responses, and select the model that produces the best output from a human perspective.\n\n" +
    '## Instruction\n\n{\n    "instruction": """' +
    instruction +
    '""",\n}\n\n## Model Outputs\n\nHere are the unordered outputs from the models. Each output is associated with a specific model, identified by a unique model identifier.\n\n{\n    {\n        "model_identifier": "m",\n        "output": """' +
    output1 +
    '"""\n    },\n    {\n        "model_identifier": "M",\n        "output": """' +
    output2 +
    '"""\n    }\n}\n\n## Task\n\nEvaluate the models based on the quality and relevance of their outputs, and select the model that generated the best output. Answer by providing the model identifier of the best model. We will use your output as the name of the best model, so make sure your output only contains one of the following model identifiers and nothing else (no quotes, no spaces, no new lines, ...): m or M.\n\n## Best Model Identifier'
  );
}

/**
 * logprob_parser(numerator "m", denominator ["m", "M"], is_binarize=False): preference = 2 − P(m),
 * P(m) = e^{lp(m)} / (e^{lp(m)} + e^{lp(M)}) over the first token's top log-probs (a missing one
 * counts as probability 0; a token listed twice keeps its last log-prob, as the parser's dict
 * comprehension does); null (NaN there) when neither token is among them.
 */
export function preferenceFromLogprobs(top: readonly { token: string; logprob: number }[]): number | null {
  const lp = new Map<string, number>();
  for (const t of top) if (t.token === 'm' || t.token === 'M') lp.set(t.token, t.logprob);
  if (lp.size === 0) return null;
  const a = lp.get('m') ?? -Infinity;
  const b = lp.get('M') ?? -Infinity;
  const mx = Math.max(a, b);
  const pm = Math.exp(a - mx) / (Math.exp(a - mx) + Math.exp(b - mx));
  return 2 - pm;
}

/**
 * Whether alpaca_eval shows the two outputs switched (the model's first, as "m") for an
 * instruction: RandomSwitchTwoColumnsProcessor seeds Python's random.Random with
 * "is_switched_outputs" + instruction + str(seed) and picks from [False, True] (seed 0 by default).
 */
export function alpacaIsSwitched(instruction: string, seed = 0): boolean {
  return pythonSeededChoiceIndex('is_switched_outputs' + instruction + String(seed), 2) === 1;
}

export type AlpacaAnnotationRecord = AlpacaAnnotation & { instruction: string; annotator: string; raw_completion: string | null; is_switched_outputs: boolean };

/**
 * Annotate model outputs against the baseline's as alpaca_eval's PairwiseAnnotator does, row by
 * row: identical outputs are a draw (1.5) without asking the judge; otherwise the order shown is
 * alpacaIsSwitched's, the preference is read from the first token's log-probs and mapped back
 * (3 − p when switched). Rows come back in input order.
 */
export async function annotateAlpaca(opts: {
  client: JudgeClient;
  annotator: string;
  instructions: readonly string[];
  baselineOutputs: readonly string[];
  modelOutputs: readonly string[];
  baselineName: string;
  modelName: string;
  /** the annotator's seed (alpaca_eval: 0) */
  seed: number;
  onProgress?: ProgressFn;
}): Promise<AlpacaAnnotationRecord[]> {
  const n = opts.instructions.length;
  if (opts.baselineOutputs.length !== n || opts.modelOutputs.length !== n) {
    throw new UserError({ what: `${n} instructions but ${opts.baselineOutputs.length} baseline and ${opts.modelOutputs.length} model outputs`, where: '--outputs / --reference-outputs', fix: 'both output files must answer the same instructions in the same order' });
  }
  return mapAll(
    Array.from({ length: n }, (_, i) => i),
    async (i) => {
      const switched = alpacaIsSwitched(opts.instructions[i], opts.seed);
      const row = {
        instruction: opts.instructions[i],
        output_1: opts.baselineOutputs[i],
        output_2: opts.modelOutputs[i],
        generator_1: opts.baselineName,
        generator_2: opts.modelName,
        annotator: opts.annotator,
        is_switched_outputs: switched,
      };
      if (row.output_1 === row.output_2) return { ...row, preference: 1.5, raw_completion: null };
      const [o1, o2] = switched ? [row.output_2, row.output_1] : [row.output_1, row.output_2];
      const r = await opts.client.complete({
        messages: [
          { role: 'system', content: ALPACA_JUDGE_SYSTEM_PROMPT },
          { role: 'user', content: alpacaJudgeUserPrompt(opts.instructions[i], o1, o2) },
        ],
        temperature: 1,
        maxTokens: 1,
        topLogprobs: 5,
      });
      const p = preferenceFromLogprobs(r.logprobs?.[0]?.top ?? []);
      return { ...row, preference: p === null ? null : switched ? 3 - p : p, raw_completion: r.text };
    },
    opts.onProgress,
  );
}

/**
 * Pair the model's outputs with the baseline's by instruction. 'strict' (steer's default): every
 * baseline instruction must be answered. 'inner' (alpaca_eval's pd.merge): rows without a partner
 * are dropped and counted; the baseline's order is kept, so — as in the official code — LC's
 * instruction difficulty is then looked up by row position.
 */
export function joinAlpacaOutputs(
  baseline: { instructions: readonly string[]; outputs: readonly string[] },
  model: { instructions: readonly string[]; outputs: readonly string[] },
  mode: 'strict' | 'inner',
  where: { baseline: string; model: string },
): { instructions: string[]; baselineOutputs: string[]; modelOutputs: string[]; droppedBaseline: number; droppedModel: number } {
  const byInstruction = new Map<string, string>();
  model.instructions.forEach((ins, i) => byInstruction.set(ins, model.outputs[i]));
  const out = { instructions: [] as string[], baselineOutputs: [] as string[], modelOutputs: [] as string[], droppedBaseline: 0, droppedModel: 0 };
  const used = new Set<string>();
  baseline.instructions.forEach((ins, i) => {
    const m = byInstruction.get(ins);
    if (m === undefined) {
      if (mode === 'strict') throw new UserError({ what: `baseline instruction ${i} has no model output: ${JSON.stringify(ins.slice(0, 60))}`, where: `${where.model} (against ${where.baseline}[${i}])`, fix: "answer every instruction, or pass --join inner to score the instructions both files answer (alpaca_eval's behaviour, with a warning)" });
      out.droppedBaseline++;
      return;
    }
    used.add(ins);
    out.instructions.push(ins);
    out.baselineOutputs.push(baseline.outputs[i]);
    out.modelOutputs.push(m);
  });
  out.droppedModel = [...byInstruction.keys()].filter((k) => !used.has(k)).length;
  if (mode === 'strict' && out.droppedModel > 0) {
    throw new UserError({ what: `${out.droppedModel} model outputs answer instructions the baseline does not have`, where: where.model, fix: 'pass outputs for the AlpacaEval instructions only, or --join inner' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// RewardBench with a generative judge (scripts/run_generative.py: pair-v2 prompt, [[A]]/[[B]])

export interface GenerativePairRecord {
  subset: string;
  id: string | number;
  verdict: JudgeVerdict;
  chosen_shown_as_B: boolean;
  result: number;
  judgment: string;
}

export async function judgeRewardBenchPairs(opts: {
  client: JudgeClient;
  prompt: JudgePrompt;
  pairs: readonly { id: string | number; subset: string; prompt: string; chosen: string; rejected: string }[];
  seed: number;
  onProgress?: ProgressFn;
}): Promise<GenerativePairRecord[]> {
  return mapAll(
    opts.pairs,
    async (p) => {
      const swap = Rng.derive(opts.seed, `rewardbench-order:${p.id}`).bernoulli(0.5);
      const [a, b] = swap ? [p.rejected, p.chosen] : [p.chosen, p.rejected];
      const msg = renderPairJudgment(opts.prompt, { questionId: p.id, category: 'general', turns: [p.prompt] }, [a], [b], null, 1);
      const r = await opts.client.complete({ messages: [{ role: 'system', content: msg.system }, { role: 'user', content: msg.user }], temperature: 0, maxTokens: 2048 });
      const verdict = extractPairWinner(r.text, opts.prompt.outputFormat) as JudgeVerdict;
      return { subset: p.subset, id: p.id, verdict, chosen_shown_as_B: swap, result: generativeResult(verdict, swap), judgment: r.text };
    },
    opts.onProgress,
  );
}
