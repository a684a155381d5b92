// Answer generation for the benchmarks, in the files their official code writes, from a steer
// policy (model directory or llama2.c file) or any OpenAI-compatible chat endpoint:
//   MT-Bench    FastChat fastchat/llm_judge gen_model_answer.py / gen_api_answer.py (v0.2.36):
//               temperature per category (common.py temperature_config, 0.7 for others; < 1e-4 =
//               greedy), max_new_token 1024, two turns with the first answer in the context,
//               output.strip(); rows {question_id, answer_id, model_id, choices: [{index, turns}],
//               tstamp} written with json.dumps, then reorg_answer_file sorts them by question_id;
//   Arena-Hard  arena-hard-auto gen_answer.py (v0.1): temperature 0, max_tokens 4096, rows
//               {question_id, answer_id, model_id, choices: [{index, turns: [{content, token_len}]}],
//               tstamp} plus conv_metadata (token_len, markdown counts) as add_markdown_info.py adds it;
//   AlpacaEval  model_outputs.json: [{instruction, output, generator, dataset}] in eval-set order.
// Resumable per item: each finished answer is appended as one line to the answer file (a torn last
// line from a crash is dropped on resume) and skipped when the command runs again; endpoint answers
// are also cached by request in the chat client, so a 429 storm loses nothing.
// Departures: steer talks to a local model through its own chat template (FastChat picks a
// conversation template by model name); a prompt longer than the local model's context keeps its
// last tokens (counted and reported) where transformers would fail; token_len counts the policy's
// tokens (or the endpoint's completion_tokens), not tiktoken's.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../util/errors.js';
import { writeFileAtomic, writeLinesAtomic } from '../io/atomic.js';
import { LlamaGenerator } from '../nn/generate.js';
import { generateFixed, promptBudget } from '../policy/sample.js';
import type { PolicyModel } from '../policy/model.js';
import type { ChatMessage, JudgeClient } from './judge.js';
import type { MtBenchQuestion } from './mtbench.js';
import type { ArenaQuestion, ProgressFn } from './run.js';
import { markdownBreakdown } from './arenahard.js';
import { pythonJsonDumps } from './files.js';

/** FastChat llm_judge common.py temperature_config (categories not listed: 0.7). */
export const MTBENCH_TEMPERATURE: Readonly<Record<string, number>> = {
  writing: 0.7,
  roleplay: 0.7,
  extraction: 0.0,
  math: 0.0,
  coding: 0.0,
  reasoning: 0.0,
  stem: 0.1,
  humanities: 0.1,
  'arena-hard-200': 0.0,
};

export function mtBenchTemperature(category: string): number {
  return category in MTBENCH_TEMPERATURE ? MTBENCH_TEMPERATURE[category] : 0.7;
}

export interface AnswerRequest {
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
}

export interface PolicyAnswer {
  text: string;
  /** tokens generated (the stop token excluded) */
  tokens: number;
}

/** Something that answers conversations: a local steer policy or an OpenAI-compatible endpoint. */
export interface AnswerPolicy {
  /** model_id written into the answer files */
  readonly name: string;
  answer(requests: readonly AnswerRequest[], seed: number): Promise<PolicyAnswer[]>;
  /** prompts cut to fit a local model's context so far */
  readonly truncatedPrompts: number;
  close(): Promise<void>;
}

/** A steer policy answering on this machine, in fixed-shape batches (one temperature per call). */
export class LocalAnswerPolicy implements AnswerPolicy {
  truncatedPrompts = 0;
  /** set when the asked answer length did not fit the model's context (then half the context is used) */
  clampedMaxTokens: number | null = null;
  private readonly gen: LlamaGenerator;

  constructor(
    private readonly policy: PolicyModel,
    readonly name: string,
    private readonly opts: { threads?: number; batchSize?: number } = {},
  ) {
    this.gen = new LlamaGenerator(policy.config, policy.weights, { threads: opts.threads ?? 2 });
  }

  async answer(requests: readonly AnswerRequest[], seed: number): Promise<PolicyAnswer[]> {
    const out: PolicyAnswer[] = new Array(requests.length);
    // one generation call per (temperature, max tokens): sampling settings are per batch
    const groups = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const k = `${r.temperature < 1e-4 ? 0 : r.temperature}|${r.maxTokens}`;
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(i);
    });
    for (const idx of groups.values()) {
      const { temperature } = requests[idx[0]];
      let maxTokens = requests[idx[0]].maxTokens;
      const context = this.policy.config.maxPositionEmbeddings;
      if (maxTokens >= context) {
        // a small model cannot hold the official answer length (MT-Bench's 1024 in a 128-token toy): half its context
        maxTokens = Math.max(1, Math.floor(context / 2));
        this.clampedMaxTokens = maxTokens;
      }
      const budget = promptBudget(this.policy, maxTokens);
      const ids = idx.map((i) => {
        const turns = requests[i].messages.map((m) => ({ role: m.role, content: m.content }));
        const p = this.policy.codec.encodePrompt(turns, { unknown: 'unk' });
        if (p.length <= budget) return p;
        this.truncatedPrompts++;
        return p.slice(p.length - budget);
      });
      const gens = await generateFixed(this.gen, ids, {
        maxNewTokens: maxTokens,
        temperature: temperature < 1e-4 ? 0 : temperature,
        seed,
        batchSize: Math.min(this.opts.batchSize ?? 16, ids.length),
        stopTokens: this.policy.codec.stopTokens,
        promptLength: Math.max(...ids.map((p) => p.length)),
      });
      gens.forEach((g, j) => {
        const stop = g.finishReason === 'stop' ? 1 : 0;
        out[idx[j]] = { text: this.policy.codec.decodeResponse(g.tokens), tokens: g.tokens.length - stop };
      });
    }
    return out;
  }

  /** Counts answer tokens the way this policy's tokenizer splits them (for length statistics). */
  tokenCounter(): { encode: (text: string) => number[] } {
    return { encode: (text: string) => this.policy.codec.encodeResponse(text, false) };
  }

  close(): Promise<void> {
    return this.gen.release();
  }
}

/** An OpenAI-compatible chat endpoint (a vLLM server, steer serve, an API), through the cached chat client. */
export class EndpointAnswerPolicy implements AnswerPolicy {
  readonly truncatedPrompts = 0;

  constructor(
    private readonly client: JudgeClient,
    readonly name: string,
  ) {}

  answer(requests: readonly AnswerRequest[]): Promise<PolicyAnswer[]> {
    return Promise.all(
      requests.map(async (r) => {
        const c = await this.client.complete({ messages: r.messages, temperature: r.temperature, maxTokens: r.maxTokens });
        return { text: c.text, tokens: c.completionTokens };
      }),
    );
  }

  async close(): Promise<void> {}
}

/** shortuuid.uuid(): 22 characters of shortuuid's default alphabet (FastChat's answer_id). */
const SHORTUUID_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
export function shortUuid(): string {
  const b = randomBytes(22);
  let s = '';
  for (let i = 0; i < 22; i++) s += SHORTUUID_ALPHABET[b[i] % SHORTUUID_ALPHABET.length];
  return s;
}

/**
 * An append-only JSONL file of finished items: read back on start (a torn last line — an
 * interrupted append — is dropped and the file rewritten without it), appended one line per item.
 */
export class ResumableJsonl<T extends Record<string, unknown>> {
  readonly done = new Map<string, T>();

  constructor(
    readonly path: string,
    private readonly keyOf: (row: T) => string,
  ) {
    if (!existsSync(path)) return;
    const lines = readFileSync(path, 'utf8').split('\n');
    const good: string[] = [];
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let row: T;
      try {
        row = JSON.parse(line) as T;
      } catch {
        const last = lines.slice(i + 1).every((l) => !l.trim());
        if (!last) throw new UserError({ what: 'a line in the middle of the answer file is not JSON', where: `${path}:${i + 1}`, fix: 'delete the file (or that line) to generate those answers again' });
        return; // torn by a crash: that item is generated again
      }
      good.push(line);
      this.done.set(this.keyOf(row), row);
    });
    if (good.length !== lines.filter((l) => l.trim()).length) writeLinesAtomic(path, good);
  }

  add(row: T, line: string): void {
    mkdirSync(dirname(this.path), { recursive: true });
    appendFileSync(this.path, line + '\n');
    this.done.set(this.keyOf(row), row);
  }
}

export interface GenerateOptions {
  policy: AnswerPolicy;
  /** answer file (JSONL) to write and resume from */
  path: string;
  maxNewTokens: number;
  seed?: number;
  /** items per step: answers are written after each step */
  chunk?: number;
  onProgress?: ProgressFn;
}

/** Run `todo` through `step` in chunks, reporting progress; the step writes its own rows. */
/**
 * The loop every benchmark's answer generation shares: rows already in `file` are kept (resume),
 * the rest are answered `chunk` items at a time by `answerChunk` (offset = the chunk's start among
 * the items still to do, for per-chunk seeds), each row appended as its line as soon as its chunk is
 * done, with progress over all items.
 */
async function answerResumably<Q, R extends Record<string, unknown>>(
  file: ResumableJsonl<R>,
  items: readonly Q[],
  keyOf: (item: Q) => string,
  o: Pick<GenerateOptions, 'chunk' | 'onProgress'>,
  answerChunk: (items: readonly Q[], offset: number) => Promise<R[]>,
  line: (row: R) => string = pythonJsonDumps,
): Promise<void> {
  const todo = items.filter((q) => !file.done.has(keyOf(q)));
  const chunk = o.chunk ?? 16;
  let done = items.length - todo.length;
  o.onProgress?.(done, items.length);
  for (let i = 0; i < todo.length; i += chunk) {
    const part = todo.slice(i, i + chunk);
    for (const row of await answerChunk(part, i)) file.add(row, line(row));
    done += part.length;
    o.onProgress?.(done, items.length);
  }
}

/** A row of FastChat's model_answer/<model>.jsonl. */
export interface MtBenchAnswerRow extends Record<string, unknown> {
  question_id: number | string;
  answer_id: string;
  model_id: string;
  choices: { index: number; turns: string[] }[];
  tstamp: number;
}

/** gen_model_answer.py: answer every question (all turns), resuming from `path`; returns question id → turns. */
export async function generateMtBenchAnswers(questions: readonly MtBenchQuestion[], o: GenerateOptions): Promise<Map<string, string[]>> {
  const file = new ResumableJsonl<MtBenchAnswerRow>(o.path, (r) => String(r.question_id));
  await answerResumably(file, questions, (q) => String(q.questionId), o, async (items, offset) => {
    const convs: ChatMessage[][] = items.map(() => []);
    const turns: string[][] = items.map(() => []);
    const maxTurns = Math.max(...items.map((q) => q.turns.length));
    for (let j = 0; j < maxTurns; j++) {
      const active = items.map((q, i) => i).filter((i) => j < items[i].turns.length);
      for (const i of active) convs[i].push({ role: 'user', content: items[i].turns[j] });
      const answers = await o.policy.answer(
        active.map((i) => ({ messages: convs[i].slice(), temperature: mtBenchTemperature(items[i].category), maxTokens: o.maxNewTokens })),
        (o.seed ?? 0) + offset + j,
      );
      active.forEach((i, k) => {
        const text = answers[k].text.trim();
        turns[i].push(text);
        convs[i].push({ role: 'assistant', content: text });
      });
    }
    return items.map((q, i): MtBenchAnswerRow => ({ question_id: q.questionId, answer_id: shortUuid(), model_id: o.policy.name, choices: [{ index: 0, turns: turns[i] }], tstamp: Date.now() / 1000 }));
  });
  // reorg_answer_file: one row per question, sorted by question_id
  const rows = [...file.done.values()].sort((a, b) => (String(a.question_id) < String(b.question_id) ? -1 : 1));
  if (rows.every((r) => typeof r.question_id === 'number')) rows.sort((a, b) => (a.question_id as number) - (b.question_id as number));
  writeLinesAtomic(o.path, rows.map(pythonJsonDumps));
  return new Map(rows.map((r) => [String(r.question_id), r.choices[0].turns]));
}

/** A row of arena-hard-auto's model_answer/<model>.jsonl (v0.1). */
export interface ArenaAnswerRow extends Record<string, unknown> {
  question_id: string;
  answer_id: string;
  model_id: string;
  choices: { index: number; turns: { content: string; token_len: number }[] }[];
  tstamp: number;
  conv_metadata: { token_len: number } & ReturnType<typeof markdownBreakdown>;
}

/** gen_answer.py: one answer per question (temperature 0 unless given), resuming from `path`. */
export async function generateArenaAnswers(questions: readonly ArenaQuestion[], o: GenerateOptions & { temperature?: number; systemPrompt?: string }): Promise<Map<string, string>> {
  const file = new ResumableJsonl<ArenaAnswerRow>(o.path, (r) => r.question_id);
  await answerResumably(file, questions, (q) => q.questionId, o, async (items, offset) => {
    const answers = await o.policy.answer(
      items.map((q) => ({ messages: [...(o.systemPrompt ? [{ role: 'system' as const, content: o.systemPrompt }] : []), { role: 'user' as const, content: q.prompt }], temperature: o.temperature ?? 0, maxTokens: o.maxNewTokens })),
      (o.seed ?? 0) + offset,
    );
    return items.map((q, i): ArenaAnswerRow => {
      const a = answers[i];
      return {
        question_id: q.questionId,
        answer_id: shortUuid(),
        model_id: o.policy.name,
        choices: [{ index: 0, turns: [{ content: a.text, token_len: a.tokens }] }],
        tstamp: Date.now() / 1000,
        conv_metadata: { token_len: a.tokens, ...markdownBreakdown(a.text) },
      };
    });
  });
  const order = new Map(questions.map((q, i) => [q.questionId, i]));
  const rows = [...file.done.values()].sort((a, b) => (order.get(a.question_id) ?? Infinity) - (order.get(b.question_id) ?? Infinity));
  writeLinesAtomic(o.path, rows.map(pythonJsonDumps));
  return new Map(rows.map((r) => [r.question_id, r.choices[0].turns[0].content]));
}

/** One entry of AlpacaEval's model_outputs.json. */
export interface AlpacaOutputRow extends Record<string, unknown> {
  instruction: string;
  output: string;
  generator: string;
  dataset: string;
}

/**
 * Answer the AlpacaEval instructions, resuming from `path` + ".partial.jsonl"; writes
 * model_outputs.json (`path`) in eval-set order when all are done.
 */
export async function generateAlpacaOutputs(instructions: readonly { instruction: string; dataset: string }[], o: GenerateOptions & { temperature: number }): Promise<AlpacaOutputRow[]> {
  const file = new ResumableJsonl<AlpacaOutputRow>(o.path.replace(/\.json$/i, '') + '.partial.jsonl', (r) => r.instruction);
  await answerResumably(file, instructions, (x) => x.instruction, o, async (items, offset) => {
    const answers = await o.policy.answer(
      items.map((x) => ({ messages: [{ role: 'user', content: x.instruction }], temperature: o.temperature, maxTokens: o.maxNewTokens })),
      (o.seed ?? 0) + offset,
    );
    return items.map((x, i): AlpacaOutputRow => ({ instruction: x.instruction, output: answers[i].text, generator: o.policy.name, dataset: x.dataset }));
  }, JSON.stringify);
  const rows = instructions.map((x) => file.done.get(x.instruction)!);
  writeFileAtomic(o.path, JSON.stringify(rows, null, 4) + '\n');
  return rows;
}

export interface ProbeAnswer {
  prompt: string;
  answer: string;
}

/**
 * A probe set (the paper's "How many r in strawberry?" family, supplied by the user) answered
 * greedily, single turn, to be reported beside a benchmark's score.
 */
export async function answerProbes(policy: AnswerPolicy, prompts: readonly string[], maxNewTokens: number): Promise<ProbeAnswer[]> {
  if (prompts.length === 0) return [];
  const answers = await policy.answer(prompts.map((p) => ({ messages: [{ role: 'user', content: p }], temperature: 0, maxTokens: maxNewTokens })), 0);
  return prompts.map((prompt, i) => ({ prompt, answer: answers[i].text.trim() }));
}
