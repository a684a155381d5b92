// The decode engine behind the policy endpoints: continuous batching over SlotBatch
// (src/nn/generate.ts). Between two decode steps, finished and cancelled sequences leave the batch
// and queued requests join it (prefilled into free rows), so no request waits for the slowest one.
// One step decodes one token for every running sequence. Sampling is per sequence (its own
// temperature, top-p and seeded stream), with the model's log-probabilities (unaffected by
// temperature / top-p, as generate() reports them) and optionally the top-k alternatives. When no
// running sequence asks for top-p or top_logprobs, the step draws every token inside the decode
// graph (drawGraph: one uniform per row from its stream in, one token out); otherwise the step
// returns the logits and softmax [rows, V] and the host samples.
// The engine is plain library code: the server runs it in a worker thread (worker.ts) so that the
// event loop that answers HTTP never waits for a step; tests may run it in-process.
import { randomInt } from 'node:crypto';
import { isUserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { LlamaGenerator, SlotBatch, probLogprob, sampleFromProbs, sampleWithLogprob } from '../nn/generate.js';
import type { PolicyModel } from '../policy/model.js';
import type { Turn } from '../data/helpsteer2.js';
import { CompletionText, ServedText } from './text.js';

export interface CompletionJob {
  id: string;
  /** a conversation (through the chat template) or plain text (continued as is) */
  input: { messages: Turn[] } | { text: string };
  /** choices */
  n: number;
  /** new tokens per choice at most (null: up to the context) */
  maxTokens: number | null;
  /** 0 = greedy */
  temperature: number;
  topP: number;
  seed: number | null;
  /** stop strings: the text ends before the first one */
  stop: string[];
  /** null: no log-probs; k ≥ 0: each token's log-prob and its k most likely alternatives */
  topLogprobs: number | null;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

export type EngineEvent =
  | { type: 'start'; id: string; promptTokens: number }
  | { type: 'delta'; id: string; index: number; text: string; logprobs: TokenLogprob[] }
  | { type: 'finish'; id: string; index: number; finishReason: 'stop' | 'length'; completionTokens: number }
  | { type: 'error'; id: string; status: number; code: string; param: string | null; message: string };

export interface EngineOptions {
  /** sequences decoded together at most (default 64) */
  maxBatch?: number;
  /** tokens per sequence, prompt included (default: the model's context) */
  context?: number;
  /** requests waiting for a row at most; more are refused as overloaded (default 256) */
  maxQueue?: number;
  threads?: number;
}

interface Sequence {
  job: CompletionJob;
  index: number;
  prompt: number[];
  limit: number;
  rng: Rng;
  tokens: number[];
  /** the completion's text so far, decoded incrementally */
  text: CompletionText;
  logprobs: TokenLogprob[];
  /** logprobs already sent */
  sentLogprobs: number;
  /** characters of the completion already sent */
  sent: number;
  done: boolean;
}

interface Queued {
  job: CompletionJob;
  prompt: number[];
  limit: number;
}

/**
 * The k most likely tokens with their log-probabilities, most likely first (ties: lower id). With
 * `probs` (softmax(logits) from the graph) each is ln probs[id]; without, logits − log Σ exp(logits).
 */
export function topLogprobs(logits: Float32Array, k: number, probs?: Float32Array): { id: number; logprob: number }[] {
  const best: number[] = [];
  for (let i = 0; i < logits.length && k > 0; i++) {
    if (best.length === k && logits[i] <= logits[best[k - 1]]) continue;
    let j = best.length < k ? best.length : k - 1;
    best[j] = i;
    while (j > 0 && logits[best[j - 1]] < logits[i]) {
      best[j] = best[j - 1];
      best[j - 1] = i;
      j--;
    }
  }
  if (probs) return best.map((id) => ({ id, logprob: probLogprob(logits, probs, id) }));
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > m) m = logits[i];
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i] - m);
  const logZ = m + Math.log(z);
  return best.map((id) => ({ id, logprob: logits[id] - logZ }));
}

/** padded prompt tokens prefilled in one run at most (more prompts wait for the next step) */
const PREFILL_TOKENS = 4096;

export class DecodeEngine {
  readonly text: ServedText;
  readonly maxBatch: number;
  readonly maxQueue: number;
  readonly context: number;
  private readonly gen: LlamaGenerator;
  private readonly batch: SlotBatch;
  private readonly queue: Queued[] = [];
  private rows: Sequence[] = [];
  private readonly cancelled = new Set<string>();
  private wake: (() => void) | null = null;
  private closed = false;
  private loop: Promise<void> | null = null;

  constructor(
    readonly policy: PolicyModel,
    private readonly emit: (e: EngineEvent) => void,
    opts: EngineOptions = {},
  ) {
    this.text = new ServedText(policy.codec);
    this.maxBatch = opts.maxBatch ?? 64;
    this.maxQueue = opts.maxQueue ?? 256;
    this.context = opts.context ?? policy.config.maxPositionEmbeddings;
    this.gen = new LlamaGenerator(policy.config, policy.weights, { threads: opts.threads, bakeDecodeWeights: true }); // frozen weights
    this.batch = new SlotBatch(this.gen, this.maxBatch, this.context);
  }

  /**
   * Compile the decode graphs of every batch size up front (first requests then wait for no
   * compile): those that sample in the graph. The graphs returning the vocabulary's logits (top-p,
   * top_logprobs) compile on first use.
   */
  async warmup(): Promise<void> {
    for (let b = 1; ; b *= 2) {
      await this.gen.step('draw', Math.min(b, this.maxBatch), 1, this.batch.M);
      if (b >= this.maxBatch) break;
    }
  }

  /** Queue a request; problems with it come back as an error event. */
  submit(job: CompletionJob): void {
    const fail = (status: number, code: string, param: string | null, message: string) => this.emit({ type: 'error', id: job.id, status, code, param, message });
    if (this.closed) return fail(503, 'shutting_down', null, 'the server is shutting down');
    if (this.queue.length >= this.maxQueue) return fail(429, 'overloaded', null, `the server is overloaded (${this.queue.length} requests waiting); retry later`);
    if (job.n > this.maxBatch) return fail(400, 'invalid_value', 'n', `n is ${job.n}; this server decodes at most ${this.maxBatch} sequences at once`);
    let prompt: number[];
    try {
      prompt = 'messages' in job.input ? this.text.encodeChat(job.input.messages) : this.text.encodeText(job.input.text);
    } catch (e) {
      if (isUserError(e)) return fail(400, 'invalid_value', 'messages' in job.input ? 'messages' : 'prompt', e.detail.what + (e.detail.fix ? ` (${e.detail.fix})` : ''));
      throw e;
    }
    const room = this.context - prompt.length;
    if (room < 1 || (job.maxTokens !== null && job.maxTokens > room)) {
      const asked = job.maxTokens ?? 1;
      return fail(400, 'context_length_exceeded', 'messages' in job.input ? 'messages' : 'prompt', `This model's maximum context length is ${this.context} tokens. However, you requested ${prompt.length + asked} tokens (${prompt.length} in the prompt, ${asked} for the completion). Please reduce the length of the prompt or the completion.`);
    }
    this.queue.push({ job, prompt, limit: job.maxTokens ?? room });
    this.wake?.();
  }

  /** Stop a request: it leaves the queue or the batch before the next step; no more events. */
  cancel(id: string): void {
    const i = this.queue.findIndex((q) => q.job.id === id);
    if (i >= 0) this.queue.splice(i, 1);
    else if (this.rows.some((s) => s.job.id === id)) this.cancelled.add(id);
  }

  /** requests waiting for a row, sequences decoding */
  get load(): { queued: number; running: number } {
    return { queued: this.queue.length, running: this.rows.length };
  }

  /** Start the loop (idempotent); resolves when close() has drained it. */
  start(): Promise<void> {
    this.loop ??= this.run();
    return this.loop;
  }

  /** Refuse new requests, finish the running and queued ones, then stop. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.loop;
    await this.gen.release();
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.queue.length === 0 && this.rows.length === 0) {
        if (this.closed) return;
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        continue;
      }
      try {
        await this.admit();
        this.reap();
        if (this.rows.length > 0) {
          const last = this.rows.map((s) => s.tokens[s.tokens.length - 1]);
          if (this.rows.every((s) => s.job.topP >= 1 && s.job.topLogprobs === null)) {
            // every row samples plainly (any temperature, greedy included): the draw happens in the
            // graph, from each row's own seeded stream, and only [rows] numbers come back
            const sampled = (s: Sequence) => s.job.temperature > 0;
            const u = this.rows.map((s) => (sampled(s) ? s.rng.float() : 0));
            const d = await this.batch.stepDraw(last, u, this.rows.map((s) => (sampled(s) ? 1 / s.job.temperature : 1)));
            this.rows.forEach((s, r) => (sampled(s) ? this.advance(s, Number(d.token[r]), d.logprob[r]) : this.advance(s, Number(d.greedy[r]), d.greedyLogprob[r])));
          } else {
            const { logits, probs } = await this.batch.stepProbs(last);
            const V = this.policy.config.vocabSize;
            this.rows.forEach((s, r) => this.take(s, logits.subarray(r * V, (r + 1) * V), probs.subarray(r * V, (r + 1) * V)));
          }
          this.reap();
        }
      } catch (e) {
        // a failed step fails the sequences in it (the message stays generic: no internals leak)
        console.error(`steer serve: decode step failed: ${(e as Error).stack ?? e}`);
        for (const s of this.rows) this.emit({ type: 'error', id: s.job.id, status: 500, code: 'internal_error', param: null, message: 'the model failed while generating; see the server log' });
        while (this.batch.size > 0) this.batch.remove(this.batch.size - 1);
        this.rows = [];
      }
    }
  }

  /**
   * Move queued requests into free rows: the prompts of those that fit (rows, and PREFILL_TOKENS)
   * prefilled in one run, then n − 1 forks of each for its other choices.
   */
  private async admit(): Promise<void> {
    const admitted: Queued[] = [];
    let rows = this.batch.size;
    let longest = 0;
    while (this.queue.length > 0 && rows + this.queue[0].job.n <= this.maxBatch) {
      // one run prefills at most PREFILL_TOKENS padded tokens (its activations grow with them, its
      // attention scores with B·S²), and always at least one prompt
      const next = Math.max(longest, this.queue[0].prompt.length);
      const { B, S } = this.batch.prefillShape(admitted.length + 1, next);
      if (admitted.length > 0 && B * S > PREFILL_TOKENS) break;
      const q = this.queue.shift()!;
      admitted.push(q);
      rows += q.job.n;
      longest = next;
    }
    if (admitted.length === 0) return;
    let prefilled: { rows: number[]; logits: Float32Array };
    try {
      prefilled = await this.batch.addMany(admitted.map((q) => q.prompt));
    } catch (e) {
      // the failed prefill fails its requests only; the running sequences go on
      console.error(`steer serve: prefill failed: ${(e as Error).stack ?? e}`);
      for (const q of admitted) this.emit({ type: 'error', id: q.job.id, status: 500, code: 'internal_error', param: null, message: 'the model failed while reading the prompt; see the server log' });
      return;
    }
    const { rows: first, logits } = prefilled;
    const V = this.policy.config.vocabSize;
    admitted.forEach((q, i) => {
      const own = [first[i]];
      for (let k = 1; k < q.job.n; k++) own.push(this.batch.fork(first[i]));
      this.emit({ type: 'start', id: q.job.id, promptTokens: q.prompt.length });
      const seed = q.job.seed ?? randomInt(2 ** 31);
      own.forEach((r, index) => {
        const s: Sequence = { job: q.job, index, prompt: q.prompt, limit: q.limit, rng: new Rng(seed, index), tokens: [], text: new CompletionText(this.text, q.prompt), logprobs: [], sentLogprobs: 0, sent: 0, done: false };
        this.rows[r] = s;
        this.take(s, logits.subarray(i * V, (i + 1) * V));
      });
    });
  }

  /** Remove finished and cancelled sequences from the batch. */
  private reap(): void {
    for (let r = this.rows.length - 1; r >= 0; r--) {
      const s = this.rows[r];
      if (!s.done && !this.cancelled.has(s.job.id)) continue;
      const moved = this.batch.remove(r);
      if (moved !== null) this.rows[r] = this.rows[moved];
      this.rows.length = this.batch.size;
    }
    for (const id of this.cancelled) if (!this.rows.some((s) => s.job.id === id)) this.cancelled.delete(id);
  }

  /**
   * Sample the next token of `s` from its logits [V] (and softmax(logits) [V] from a decode step's
   * graph; the prefill's single row samples on the host); send what is new; finish when due.
   */
  private take(s: Sequence, logits: Float32Array, probs?: Float32Array): void {
    if (s.done || this.cancelled.has(s.job.id)) return;
    const o = { temperature: s.job.temperature, topK: 0, topP: s.job.topP };
    const { token, logprob } = probs ? sampleFromProbs(logits, probs, o, s.rng) : sampleWithLogprob(logits, o, s.rng);
    this.advance(s, token, logprob, logits, probs);
  }

  /** Append the sampled token to `s` (its top alternatives from `logits` when asked); send what is new; finish when due. */
  private advance(s: Sequence, token: number, logprob: number, logits?: Float32Array, probs?: Float32Array): void {
    if (s.done || this.cancelled.has(s.job.id)) return;
    const j = s.job;
    const prev = s.tokens.length > 0 ? s.tokens[s.tokens.length - 1] : s.prompt[s.prompt.length - 1];
    s.tokens.push(token);
    const stopToken = this.policy.codec.stopTokens.includes(token);
    if (j.topLogprobs !== null && !stopToken) {
      const top = j.topLogprobs > 0 && logits ? topLogprobs(logits, j.topLogprobs, probs).map((t) => ({ token: this.text.tokenText(prev, t.id), logprob: t.logprob })) : [];
      s.logprobs.push({ token: this.text.tokenText(prev, token), logprob, top });
    }
    const full = s.text.of(s.tokens);
    let end = full.length;
    let finish: 'stop' | 'length' | null = stopToken ? 'stop' : s.tokens.length >= s.limit ? 'length' : null;
    const longestStop = Math.max(0, ...j.stop.map((x) => x.length));
    if (longestStop > 0) {
      const from = Math.max(0, s.sent - longestStop + 1);
      let at = -1;
      for (const x of j.stop) {
        const i = full.indexOf(x, from);
        if (i >= 0 && (at < 0 || i < at)) at = i;
      }
      if (at >= 0) {
        end = at;
        finish = 'stop';
      } else if (finish === null) end = Math.max(s.sent, full.length - (longestStop - 1)); // may be a stop string's start
    }
    if (finish === null && full.endsWith('\uFFFD')) end = Math.max(s.sent, Math.min(end, full.length - 1)); // a character still incomplete
    const piece = full.slice(s.sent, end);
    const lps = s.logprobs.slice(s.sentLogprobs);
    if (piece !== '' || lps.length > 0) {
      s.sent = end;
      s.sentLogprobs = s.logprobs.length;
      this.emit({ type: 'delta', id: j.id, index: s.index, text: piece, logprobs: lps });
    }
    if (finish === null && s.prompt.length + s.tokens.length >= this.context) finish = 'length'; // the row is full
    if (finish !== null) {
      s.done = true;
      this.emit({ type: 'finish', id: j.id, index: s.index, finishReason: finish, completionTokens: s.tokens.length });
    }
  }
}
