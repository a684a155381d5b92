// The toy world's annotator panel as an OpenAI-compatible judge, so the toy benchmarks run through
// the same code as the real ones (run.ts's judgeMtBenchSingle, annotateAlpaca and judgeArena, the
// JudgeClient with its cache, and mtbench.ts / alpacaeval.ts / arenahard.ts for the scores): a judge
// adapter, not a re-coding. The adapter is a fetch implementation answering POST /chat/completions
// in-process. It reads the question and the answers back out of the rendered judge prompt — the
// only thing a real judge sees — and asks the panel (data/toy/world.ts ToyJudgePanel), which knows
// the ground truth and has the panel's biases:
//   MT-Bench single grading:  h = mean helpfulness (0–4) of the 3 most similar of 3–5 ratings,
//                             rating = 1 + 9·h/4 ∈ [1, 10], answered as "Rating: [[r]]" (1 decimal);
//   Arena-Hard pairwise:      s = the panel's aggregated preference strength (−3 … 3, negative = A
//                             better): |s| < 0.5 → [[A=B]], 0.5 ≤ |s| < 2 → [[A>B]]/[[B>A]],
//                             |s| ≥ 2 → [[A>>B]]/[[B>>A]];
//   AlpacaEval pairwise:      P(second output "M" better) = σ(s), answered as one token with the
//                             top log-probs of "m" and "M" (what weighted_alpaca_eval_gpt4_turbo reads).
// Every judgment is seeded by the request itself, so it is the same whatever the order or concurrency.
import { createHash } from 'node:crypto';
import { JudgeClient } from './judge.js';
import { ARENA_JUDGE_SYSTEM_PROMPT, ARENA_JUDGE_TEMPLATE, ALPACA_JUDGE_SYSTEM_PROMPT, alpacaJudgeUserPrompt } from './run.js';
import { formatTemplate, type JudgePrompt } from './mtbench.js';
import { taskFromPrompt } from '../data/toy/tasks.js';
import { ToyJudgePanel } from '../data/toy/world.js';
import { sigmoid } from '../util/stats.js';

/** The judge's model name in requests, caches and judgment files. */
export const TOY_JUDGE_MODEL = 'toy-panel';

/** The base URL the toy judge client is given (never contacted: its fetch answers in-process). */
export const TOY_JUDGE_URL = 'http://toy-panel.invalid/v1';

/** The toy MT-Bench single-grading prompt (our wording, in the shape of FastChat's single-v1). */
export const TOY_SINGLE_PROMPT: JudgePrompt = {
  name: 'single-v1',
  type: 'single',
  systemPrompt: "You are the toy world's annotator panel, grading one answer as MT-Bench's single-answer judge does.",
  promptTemplate:
    "[Instruction]\nPlease act as the toy world's annotator panel and rate the response of an AI assistant to the user question below on a scale of 1 to 10, judging above all whether its final answer is right, then how helpful, clear and complete it is. Give your rating strictly in this format: \"[[rating]]\", for example: \"Rating: [[5]]\".\n\n[Question]\n{question}\n\n[The Start of Assistant's Answer]\n{answer}\n[The End of Assistant's Answer]",
  outputFormat: '[[rating]]',
  category: 'general',
};

/** The judge prompts the toy MT-Bench uses, by name (judgeMtBenchSingle's `prompts`). */
export const TOY_JUDGE_PROMPTS: ReadonlyMap<string, JudgePrompt> = new Map([[TOY_SINGLE_PROMPT.name, TOY_SINGLE_PROMPT]]);

/**
 * A matcher for a rendered template: `render` is called with one sentinel per slot and the result
 * becomes an anchored regex with a lazy capture group per slot.
 */
function templateMatcher(slots: readonly string[], render: (values: Record<string, string>) => string): (text: string) => Record<string, string> | null {
  const sentinels = Object.fromEntries(slots.map((s, i) => [s, `\u0001${i}\u0002`]));
  const rendered = render(sentinels);
  const order: string[] = [];
  const escaped = rendered.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const source = escaped.replace(/\u0001(\d+)\u0002/g, (_, i: string) => {
    order.push(slots[Number(i)]);
    return '([\\s\\S]*?)';
  });
  const re = new RegExp(`^${source}$`);
  return (text) => {
    const m = re.exec(text);
    if (!m) return null;
    const out: Record<string, string> = {};
    order.forEach((slot, i) => (out[slot] ??= m[i + 1]));
    return out;
  };
}

const matchArena = templateMatcher(['question_1', 'answer_1', 'answer_2'], (v) =>
  ARENA_JUDGE_TEMPLATE.replace('{question_1}', () => v.question_1).replace('{answer_1}', () => v.answer_1).replace('{answer_2}', () => v.answer_2),
);
const matchAlpaca = templateMatcher(['instruction', 'output_1', 'output_2'], (v) => alpacaJudgeUserPrompt(v.instruction, v.output_1, v.output_2));
const matchSingle = templateMatcher(['question', 'answer'], (v) => formatTemplate(TOY_SINGLE_PROMPT.promptTemplate, v));

/** Arena-Hard's verdict label for an aggregated strength (negative = A, the first answer shown, better). */
export function arenaVerdict(strength: number): string {
  const a = Math.abs(strength);
  if (a < 0.5) return 'A=B';
  const firstBetter = strength < 0;
  if (a < 2) return firstBetter ? 'A>B' : 'B>A';
  return firstBetter ? 'A>>B' : 'B>>A';
}

/** MT-Bench's 1–10 rating for a mean helpfulness on HelpSteer2's 0–4 scale. */
export const ratingFromHelpfulness = (h: number) => 1 + (9 * h) / 4;

interface Completion {
  text: string;
  logprobs?: { token: string; logprob: number; top_logprobs: { token: string; logprob: number }[] }[];
}

class ToyJudgeError extends Error {}

/** What the panel answers to one chat-completion request. */
export function toyJudgeCompletion(panel: ToyJudgePanel, messages: readonly { role: string; content: string }[]): Completion {
  const system = messages.find((m) => m.role === 'system')?.content ?? '';
  const user = messages.find((m) => m.role === 'user')?.content ?? '';
  const key = createHash('sha256').update(JSON.stringify([system, user])).digest('hex');
  const read = (prompt: string, text: string) => {
    const task = taskFromPrompt(prompt);
    if (task === null) throw new ToyJudgeError(`the question is not a toy-world prompt: ${JSON.stringify(prompt.slice(0, 80))}`);
    return panel.response(task, prompt, text);
  };
  if (system === ARENA_JUDGE_SYSTEM_PROMPT) {
    const m = matchArena(user);
    if (!m) throw new ToyJudgeError("the user message is not arena-hard's judge template");
    const { strength, strengths } = panel.compare(read(m.question_1, m.answer_1), read(m.question_1, m.answer_2), key);
    const verdict = arenaVerdict(strength);
    return { text: `The panel's preference strengths (negative: Assistant A better): ${strengths.join(', ')}; the three most similar average ${strength.toFixed(2)}.\n\nMy final verdict is: [[${verdict}]]` };
  }
  if (system === ALPACA_JUDGE_SYSTEM_PROMPT) {
    const m = matchAlpaca(user);
    if (!m) throw new ToyJudgeError("the user message is not alpaca_eval's judge template");
    const { strength } = panel.compare(read(m.instruction, m.output_1), read(m.instruction, m.output_2), key);
    // keep both tokens' probabilities away from 0 so their log-probs stay finite (JSON has no −∞)
    const pM = Math.min(1 - 1e-6, Math.max(1e-6, sigmoid(strength)));
    const top = [
      { token: 'M', logprob: Math.log(pM) },
      { token: 'm', logprob: Math.log(1 - pM) },
    ].sort((a, b) => b.logprob - a.logprob);
    return { text: top[0].token, logprobs: [{ token: top[0].token, logprob: top[0].logprob, top_logprobs: top }] };
  }
  if (system === TOY_SINGLE_PROMPT.systemPrompt) {
    const m = matchSingle(user);
    if (!m) throw new ToyJudgeError("the user message is not the toy MT-Bench's single-grading template");
    const { helpfulness, ratings } = panel.grade(read(m.question, m.answer), key);
    return { text: `The panel's helpfulness ratings (0–4): ${ratings.join(', ')}; the three most similar average ${helpfulness.toFixed(2)}.\n\nRating: [[${ratingFromHelpfulness(helpfulness).toFixed(1)}]]` };
  }
  throw new ToyJudgeError("the toy panel judges only the arena-hard, alpaca_eval and toy MT-Bench prompts (the system message is none of theirs)");
}

/**
 * A fetch that answers OpenAI chat completions with the panel's judgments: 200 with a completion,
 * 400 with an OpenAI-style error body for a request it cannot read.
 */
export function toyJudgeFetch(seed: number): typeof fetch {
  const panel = new ToyJudgePanel(seed);
  return (async (_url: unknown, init?: { body?: unknown }) => {
    const error = (message: string) => new Response(JSON.stringify({ error: { message, type: 'invalid_request_error' } }), { status: 400, headers: { 'content-type': 'application/json' } });
    let body: { messages?: { role: string; content: string }[] };
    try {
      body = JSON.parse(String(init?.body ?? ''));
    } catch {
      return error('the request body is not JSON');
    }
    if (!Array.isArray(body.messages)) return error('the request has no messages');
    try {
      const c = toyJudgeCompletion(panel, body.messages);
      const choice = { index: 0, message: { role: 'assistant', content: c.text }, finish_reason: 'stop', ...(c.logprobs ? { logprobs: { content: c.logprobs } } : {}) };
      return new Response(JSON.stringify({ object: 'chat.completion', model: TOY_JUDGE_MODEL, choices: [choice], usage: { prompt_tokens: 0, completion_tokens: 0 } }), { status: 200, headers: { 'content-type': 'application/json' } });
    } catch (e) {
      if (e instanceof ToyJudgeError) return error(e.message);
      throw e;
    }
  }) as typeof fetch;
}

/** A JudgeClient whose judge is the toy world's panel (seed = the world's seed). */
export function toyJudgeClient(seed: number, opts: { cachePath?: string; concurrency?: number } = {}): JudgeClient {
  return new JudgeClient({ baseUrl: TOY_JUDGE_URL, model: TOY_JUDGE_MODEL, fetchImpl: toyJudgeFetch(seed), cachePath: opts.cachePath, concurrency: opts.concurrency ?? 8, maxRetries: 0 });
}
