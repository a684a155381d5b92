// `steer serve`'s HTTP server (node:http): OpenAI's policy endpoints over the decode engine in a
// worker thread, the reward endpoints over the reward models' worker, health and metrics.
//   GET  /                       the chat page (page.ts): chat with a policy, compare policies side by side
//   GET  /health                 {"status": "ok" | "draining", …}
//   GET  /metrics                Prometheus text (metrics.ts)
//   GET  /v1/models[/{id}]       the policy (and reward models) by name
//   POST /v1/chat/completions    OpenAI chat completions (stream, n, stop, logprobs, seed, …)
//   POST /v1/completions         OpenAI (legacy) text completions
//   POST /v1/rewards             steer's reward endpoint (rewards.ts)
//   POST /get_reward             OpenRLHF's remote reward model protocol (rewards.ts)
// Every error is OpenAI's error object with its status; after a stream has started, an error is
// sent in-band as a `data: {"error": …}` event. A bad request never affects another one.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { ModelWorker } from './client.js';
import { UserError } from '../util/errors.js';
import { ServerMetrics } from './metrics.js';
import { chatPage } from './page.js';
import { ApiError, ChatRequest, CompletionRequest, chatJob, chatLogprobs, completionJob, completionLogprobs, invalidRequest } from './openai.js';
import type { CompletionJob, EngineEvent, TokenLogprob } from './engine.js';
import { RewardRoutes, type RewardModelInfo } from './rewards.js';
import type { EngineOptions } from './engine.js';

export interface PolicySpec {
  /** a model directory or a llama2.c file */
  model: string;
  tokenizer?: string;
  /** its name in the API (default: the model path's last part) */
  name?: string;
}

export interface ServeOptions {
  /** policy: a model directory or a llama2.c file */
  model?: string;
  tokenizer?: string;
  /** the policy's name in the API (default: the model path's last part) */
  modelName?: string;
  /** more policies, each in its own engine (the chat page compares them side by side) */
  policies?: PolicySpec[];
  /** reward models: name → directory */
  rewardModels?: { name: string; dir: string }[];
  host?: string;
  /** 0 = any free port */
  port?: number;
  /** when set, every /v1 request needs `Authorization: Bearer <apiKey>` */
  apiKey?: string;
  engine?: EngineOptions;
  /** reward rows per engine run (default 64) */
  rewardRows?: number;
  /** largest request body (default 1 MiB) */
  bodyLimitBytes?: number;
  /** a request still running after this fails with 504 and is cancelled (default 10 min) */
  requestTimeoutMs?: number;
  /** compile every decode batch size before serving (default true) */
  warmup?: boolean;
  threads?: number;
  log?: (line: string) => void;
}

export interface PolicyInfo {
  context: number;
  maxBatch: number;
  vocabSize: number;
}

const now = () => Date.now() / 1000;

/** The API name of a model path: its last part without a llama2.c file's .bin. */
export function modelNameOf(path: string): string {
  return basename(path.replace(/\/+$/, '')).replace(/\.bin$/, '');
}

export class SteerServer {
  readonly metrics = new ServerMetrics();
  private readonly http: Server;
  private readonly policies = new Map<string, { worker: ModelWorker<PolicyInfo>; info: PolicyInfo | null }>();
  private readonly policySpecs: (PolicySpec & { name: string })[];
  private rewards: RewardRoutes | null = null;
  private draining = false;
  private inFlight = 0;
  private idle: (() => void) | null = null;
  private readonly created = Math.floor(now());

  private constructor(private readonly o: ServeOptions) {
    const specs = [...(o.model ? [{ model: o.model, tokenizer: o.tokenizer, name: o.modelName }] : []), ...(o.policies ?? [])];
    this.policySpecs = specs.map((p) => ({ ...p, name: p.name ?? modelNameOf(p.model) }));
    const names = this.policySpecs.map((p) => p.name);
    if (new Set(names).size !== names.length) throw new UserError({ what: 'two policies have the same name', where: '--model', received: names.join(', '), fix: 'name them: --model sft=DIR1 --model rl=DIR2' });
    this.http = createServer((req, res) => void this.handle(req, res));
    this.http.keepAliveTimeout = 5_000;
  }

  /** Load the models (in their workers), then listen. */
  static async start(o: ServeOptions): Promise<SteerServer> {
    const s = new SteerServer(o);
    const workers: Promise<unknown>[] = [];
    for (const p of s.policySpecs) {
      const entry = { worker: new ModelWorker<PolicyInfo>({ kind: 'policy', model: p.model, tokenizer: p.tokenizer, engine: { threads: o.threads, ...o.engine }, warmup: o.warmup ?? true }), info: null as PolicyInfo | null };
      s.policies.set(p.name, entry);
      workers.push(entry.worker.ready.then((i) => (entry.info = i)));
    }
    if (o.rewardModels && o.rewardModels.length > 0) {
      const w = new ModelWorker<Record<string, RewardModelInfo>>({ kind: 'reward', models: o.rewardModels, rows: o.rewardRows ?? 64, threads: o.threads });
      workers.push(w.ready.then((info) => (s.rewards = new RewardRoutes(w, info, s.metrics))));
      s.rewardWorker = w;
    }
    try {
      await Promise.all(workers);
    } catch (e) {
      for (const p of s.policies.values()) await p.worker.close(1000);
      await s.rewardWorker?.close(1000);
      throw e;
    }
    await new Promise<void>((resolve, reject) => {
      s.http.once('error', reject);
      s.http.listen(o.port ?? 8000, o.host ?? '127.0.0.1', () => resolve());
    });
    return s;
  }
  private rewardWorker: ModelWorker<Record<string, RewardModelInfo>> | null = null;

  get url(): string {
    const a = this.http.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  /** Refuse new requests (503), finish those in flight, stop the workers. */
  async shutdown(timeoutMs = 30_000): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((r) => this.http.close(() => r()));
    if (this.inFlight > 0) await Promise.race([new Promise<void>((r) => (this.idle = r)), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.http.closeAllConnections();
    await closed;
    for (const p of this.policies.values()) await p.worker.close();
    await this.rewardWorker?.close();
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${path}`;
    this.inFlight++;
    res.on('close', () => {
      this.metrics.request(path.startsWith('/v1/models/') ? '/v1/models/{id}' : path, res.statusCode);
      if (path.startsWith('/v1/') && req.method === 'POST') this.metrics.latency.observe((performance.now() - started) / 1000);
      if (--this.inFlight === 0) this.idle?.();
    });
    try {
      if (req.method === 'GET' && path === '/health') return this.health(res);
      if (req.method === 'GET' && (path === '/' || path === '/chat')) return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(chatPage());
      if (req.method === 'GET' && path === '/metrics') return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.metrics.render());
      if (this.draining) throw new ApiError(503, 'The server is shutting down; retry on another replica.', null, 'shutting_down');
      this.authorize(req);
      if (req.method === 'GET' && path === '/v1/models') return this.json(res, 200, { object: 'list', data: this.modelIds().map((id) => this.modelObject(id)) });
      if (req.method === 'GET' && path.startsWith('/v1/models/')) {
        const id = decodeURIComponent(path.slice('/v1/models/'.length));
        if (!this.modelIds().includes(id)) throw new ApiError(404, `The model \`${id}\` does not exist.`, 'model', 'model_not_found');
        return this.json(res, 200, this.modelObject(id));
      }
      const posts: Record<string, (body: unknown) => Promise<void>> = {
        '/v1/chat/completions': (b) => this.chat(b, res),
        '/v1/completions': (b) => this.completions(b, res),
        '/v1/rewards': async (b) => this.json(res, 200, await this.rewardRoutes().native(b)),
        '/get_reward': async (b) => this.json(res, 200, await this.rewardRoutes().openrlhf(b)),
      };
      const post = posts[path];
      if (!post) throw new ApiError(404, `Invalid URL (${route})`, null, 'unknown_url');
      if (req.method !== 'POST') throw new ApiError(405, `Method ${req.method} is not allowed on ${path}; use POST.`, null, 'method_not_allowed');
      await post(await this.body(req));
    } catch (e) {
      this.fail(res, e);
    }
  }

  private fail(res: ServerResponse, e: unknown): void {
    let err: ApiError;
    if (e instanceof ApiError) err = e;
    else if (e instanceof z.ZodError) err = invalidRequest(e);
    else {
      console.error(`steer serve: internal error: ${(e as Error).stack ?? e}`);
      err = new ApiError(500, 'The server had an error while processing your request; see the server log.', null, 'internal_error');
    }
    if (res.headersSent) {
      if (!res.writableEnded) res.end(`data: ${JSON.stringify(err.body())}\n\ndata: [DONE]\n\n`);
      return;
    }
    this.json(res, err.status, err.body());
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  private health(res: ServerResponse): void {
    const ok = !this.draining && [...this.policies.values()].every((p) => p.worker.failure === null);
    this.json(res, ok ? 200 : 503, { status: this.draining ? 'draining' : ok ? 'ok' : 'failed', models: this.policyNames(), reward_models: this.rewards?.names() ?? [], queued: this.metrics.queued, running: this.metrics.running });
  }

  private authorize(req: IncomingMessage): void {
    if (this.o.apiKey === undefined) return;
    const h = req.headers.authorization ?? '';
    if (h !== `Bearer ${this.o.apiKey}`) {
      throw new ApiError(401, h === '' ? "You didn't provide an API key. Pass it as 'Authorization: Bearer YOUR_KEY'." : 'Incorrect API key provided.', null, 'invalid_api_key');
    }
  }

  private modelIds(): string[] {
    return [...this.policyNames(), ...(this.rewards?.names() ?? [])];
  }

  /** the policies' API names, in the order given */
  policyNames(): string[] {
    return [...this.policies.keys()];
  }

  /** the first policy's name (null without one) */
  get policyName(): string | null {
    return this.policyNames()[0] ?? null;
  }

  /** context and batch of a policy (the first by default) */
  policyInfo(name = this.policyName): PolicyInfo | null {
    return name === null ? null : (this.policies.get(name)?.info ?? null);
  }

  private modelObject(id: string) {
    return { id, object: 'model', created: this.created, owned_by: 'steer' };
  }

  private rewardRoutes(): RewardRoutes {
    if (!this.rewards) throw new ApiError(404, 'This server has no reward model; start it with --reward-model DIR.', 'model', 'model_not_found');
    return this.rewards;
  }

  /** The JSON body, at most bodyLimitBytes. */
  private async body(req: IncomingMessage): Promise<unknown> {
    const limit = this.o.bodyLimitBytes ?? 1 << 20;
    const tooLarge = () => new ApiError(413, `The request body is larger than this server's limit of ${limit} bytes.`, null, 'request_too_large');
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      req.resume();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > limit) {
        req.resume();
        throw tooLarge();
      }
      chunks.push(c as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new ApiError(400, 'We could not parse the JSON body of your request. Send a JSON object (Content-Type: application/json).', null, 'invalid_json');
    }
  }

  private checkModel(model: string): ModelWorker<PolicyInfo> {
    if (this.policies.size === 0) throw new ApiError(404, 'This server has no policy model; start it with --model DIR.', 'model', 'model_not_found');
    const p = this.policies.get(model);
    if (!p) throw new ApiError(404, `The model \`${model}\` does not exist. This server serves ${this.policyNames().map((n) => `\`${n}\``).join(', ')}.`, 'model', 'model_not_found');
    if (p.worker.failure !== null) throw new ApiError(503, 'The model worker stopped; see the server log.', null, 'unavailable');
    return p.worker;
  }

  private async chat(body: unknown, res: ServerResponse): Promise<void> {
    const r = ChatRequest.parse(body);
    const policy = this.checkModel(r.model);
    const id = `chatcmpl-${randomUUID()}`;
    const job = chatJob(id, r);
    const base = { id, created: Math.floor(now()), model: r.model, system_fingerprint: 'steer' };
    const wantLogprobs = job.topLogprobs !== null;
    await this.runJobs(policy, [job], res, r.stream === true, {
      chunk: (index, text, lps, finish) => ({
        ...base,
        object: 'chat.completion.chunk',
        choices: [{ index, delta: finish !== null ? {} : text === null ? { role: 'assistant', content: '' } : { content: text }, logprobs: wantLogprobs && lps.length > 0 ? chatLogprobs(lps) : null, finish_reason: finish }],
      }),
      usageChunk: (usage) => ({ ...base, object: 'chat.completion.chunk', choices: [], usage }),
      whole: (choices, usage) => ({
        ...base,
        object: 'chat.completion',
        choices: choices.map((c, index) => ({ index, message: { role: 'assistant', content: c.text, refusal: null }, logprobs: wantLogprobs ? chatLogprobs(c.logprobs) : null, finish_reason: c.finish })),
        usage,
      }),
      includeUsage: r.stream_options?.include_usage === true,
    });
  }

  private async completions(body: unknown, res: ServerResponse): Promise<void> {
    const r = CompletionRequest.parse(body);
    const policy = this.checkModel(r.model);
    const id = `cmpl-${randomUUID()}`;
    const prompts = typeof r.prompt === 'string' ? [r.prompt] : r.prompt;
    const jobs = prompts.map((p, k) => completionJob(`${id}-${k}`, r, p));
    const base = { id, created: Math.floor(now()), model: r.model, system_fingerprint: 'steer' };
    const offsets = new Map<number, number>();
    const legacy = (index: number, lps: TokenLogprob[]) => {
      if (r.logprobs == null) return null;
      const at = offsets.get(index) ?? 0;
      const out = completionLogprobs(lps, at);
      offsets.set(index, at + lps.reduce((a, t) => a + t.token.length, 0));
      return out;
    };
    await this.runJobs(policy, jobs, res, r.stream === true, {
      chunk: (index, text, lps, finish) => (text === null ? null : { ...base, object: 'text_completion', choices: [{ index, text: finish !== null ? '' : text, logprobs: legacy(index, lps), finish_reason: finish }] }),
      usageChunk: (usage) => ({ ...base, object: 'text_completion', choices: [], usage }),
      whole: (choices, usage) => ({ ...base, object: 'text_completion', choices: choices.map((c, index) => ({ index, text: c.text, logprobs: r.logprobs == null ? null : completionLogprobs(c.logprobs, 0), finish_reason: c.finish })), usage }),
      includeUsage: r.stream_options?.include_usage === true,
    });
  }

  /**
   * Run jobs on the engine and answer: one JSON object when they are done, or server-sent events as
   * tokens come (choice index = job k · n + choice). A client that goes away cancels its jobs.
   */
  private runJobs(
    policy: ModelWorker<PolicyInfo>,
    jobs: CompletionJob[],
    res: ServerResponse,
    stream: boolean,
    shape: {
      /** text null: the opening chunk of a choice; finish non-null: its closing chunk */
      chunk: (index: number, text: string | null, lps: TokenLogprob[], finish: string | null) => unknown;
      usageChunk: (usage: Usage) => unknown;
      whole: (choices: { text: string; logprobs: TokenLogprob[]; finish: string }[], usage: Usage) => unknown;
      includeUsage: boolean;
    },
  ): Promise<void> {
    const n = jobs[0].n;
    const total = jobs.length * n;
    const choices = Array.from({ length: total }, () => ({ text: '', logprobs: [] as TokenLogprob[], finish: '' }));
    const started = performance.now();
    let firstToken = true;
    let finished = 0;
    let promptTokens = 0;
    let completionTokens = 0;
    let queued = jobs.length;
    let running = 0;
    let over = false;
    return new Promise<void>((resolve) => {
      const end = () => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        for (const j of jobs) policy.off(j.id);
        this.metrics.queued -= queued;
        this.metrics.running -= running;
        resolve();
      };
      const send = (data: unknown) => {
        if (data !== null) res.write(`data: ${JSON.stringify(data)}\n\n`);
      };
      const cancelAll = () => {
        for (const j of jobs) policy.post({ type: 'cancel', id: j.id });
      };
      const timer = setTimeout(() => {
        cancelAll();
        this.fail(res, new ApiError(504, `The request took longer than ${this.o.requestTimeoutMs ?? 600_000} ms and was stopped.`, null, 'timeout'));
        end();
      }, this.o.requestTimeoutMs ?? 600_000);
      res.on('close', () => {
        if (!over) {
          cancelAll(); // the client went away
          end();
        }
      });
      jobs.forEach((job, k) => {
        policy.on(job.id, (m) => {
          const e = m as unknown as EngineEvent;
          if (over) return;
          if (e.type === 'error') {
            cancelAll();
            this.fail(res, new ApiError(e.status, e.message, e.param, e.code));
            end();
          } else if (e.type === 'start') {
            promptTokens += e.promptTokens;
            this.metrics.promptTokens += e.promptTokens;
            queued--;
            this.metrics.queued--;
            running += n;
            this.metrics.running += n;
            if (stream) {
              if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
              for (let i = 0; i < n; i++) send(shape.chunk(k * n + i, null, [], null));
            }
          } else if (e.type === 'delta') {
            const index = k * n + e.index;
            if (firstToken) {
              firstToken = false;
              this.metrics.ttft.observe((performance.now() - started) / 1000);
            }
            choices[index].text += e.text;
            choices[index].logprobs.push(...e.logprobs);
            if (stream) send(shape.chunk(index, e.text, e.logprobs, null));
          } else if (e.type === 'finish') {
            const index = k * n + e.index;
            choices[index].finish = e.finishReason;
            completionTokens += e.completionTokens;
            this.metrics.tokens(e.completionTokens);
            running--;
            this.metrics.running--;
            if (stream) send(shape.chunk(index, '', [], e.finishReason));
            if (++finished === total) {
              const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
              if (stream) {
                if (shape.includeUsage) send(shape.usageChunk(usage));
                res.end('data: [DONE]\n\n');
              } else this.json(res, 200, shape.whole(choices, usage));
              end();
            }
          }
        });
      });
      this.metrics.queued += jobs.length;
      for (const job of jobs) policy.post({ type: 'submit', job });
    });
  }
}

type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

/** Start `steer serve`'s server (see ServeOptions); `await server.shutdown()` stops it. */
export function startServer(o: ServeOptions): Promise<SteerServer> {
  return SteerServer.start(o);
}
