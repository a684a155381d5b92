// A judge client for OpenAI-compatible chat completions (POST {baseUrl}/chat/completions):
// at most `concurrency` requests in flight; retries with exponential backoff and jitter on 429,
// 5xx, timeouts and network errors (honouring Retry-After); an on-disk cache of judgments keyed
// by the SHA-256 of the canonical request, appended one JSON line per judgment, so an
// interrupted evaluation resumes without paying twice; token and time accounting.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../util/errors.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface JudgeRequest {
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  /** ask for the top-k log-probabilities of each generated token */
  topLogprobs?: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

export interface JudgeResponse {
  text: string;
  /** per generated token, when requested and returned */
  logprobs: TokenLogprob[] | null;
  promptTokens: number;
  completionTokens: number;
  /** served from the on-disk cache (no request was made) */
  cached: boolean;
}

export interface JudgeClientOptions {
  /** e.g. https://api.openai.com/v1 or http://127.0.0.1:8000/v1 */
  baseUrl: string;
  model: string;
  apiKey?: string;
  concurrency?: number;
  /** retries after the first attempt */
  maxRetries?: number;
  timeoutMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** JSONL file of cached judgments (created if absent) */
  cachePath?: string;
  /** what the endpoint is, for messages (default "judge"; "policy" when it answers benchmark questions) */
  role?: string;
  /** the option that set baseUrl, for messages (default --judge-url) */
  urlFlag?: string;
  /** injectable for tests */
  fetchImpl?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface JudgeStats {
  /** HTTP requests made, retries included */
  requests: number;
  retries: number;
  cacheHits: number;
  completed: number;
  promptTokens: number;
  completionTokens: number;
  /** summed latency of successful requests */
  requestMs: number;
}

interface CacheLine {
  key: string;
  model: string;
  response: Omit<JudgeResponse, 'cached'>;
}

/** Stable JSON (sorted keys) so equal requests hash equally. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

export class JudgeClient {
  private readonly cache = new Map<string, Omit<JudgeResponse, 'cached'>>();
  private readonly inflight = new Map<string, Promise<JudgeResponse>>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly s: JudgeStats = { requests: 0, retries: 0, cacheHits: 0, completed: 0, promptTokens: 0, completionTokens: 0, requestMs: 0 };
  private readonly url: string;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly opts: JudgeClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl.replace(/\/+$/, '') + '/chat/completions');
    } catch {
      throw new UserError({ what: `the ${opts.role ?? 'judge'} URL is not a valid URL`, where: opts.urlFlag ?? '--judge-url', received: opts.baseUrl, expected: 'an OpenAI-compatible base URL such as https://api.openai.com/v1', fix: 'pass the base URL the /chat/completions path hangs off' });
    }
    this.url = url.toString();
    this.fetchImpl = opts.fetchImpl ?? fetch;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = opts.random ?? Math.random;
    if (opts.cachePath && existsSync(opts.cachePath)) this.loadCache(opts.cachePath);
  }

  get stats(): JudgeStats {
    return { ...this.s };
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  /** The cache key of a request: SHA-256 of the canonical body the endpoint would receive. */
  keyOf(req: JudgeRequest): string {
    return createHash('sha256').update(canonical(this.body(req))).digest('hex');
  }

  private body(req: JudgeRequest): Record<string, unknown> {
    return {
      model: this.opts.model,
      messages: req.messages,
      temperature: req.temperature ?? 0,
      max_tokens: req.maxTokens,
      ...(req.topLogprobs !== undefined ? { logprobs: true, top_logprobs: req.topLogprobs } : {}),
    };
  }

  private loadCache(path: string): void {
    const text = readFileSync(path, 'utf8');
    // end a torn last line so the next append starts on a line of its own
    if (text.length > 0 && !text.endsWith('\n')) appendFileSync(path, '\n');
    const lines = text.split('\n');
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const c = JSON.parse(line) as CacheLine;
        if (typeof c.key === 'string' && c.response && typeof c.response.text === 'string') this.cache.set(c.key, c.response);
      } catch {
        // a line torn by an interrupted append: that judgment is simply asked again
      }
    }
  }

  /** One judgment, from the cache or the endpoint. */
  complete(req: JudgeRequest): Promise<JudgeResponse> {
    const key = this.keyOf(req);
    const hit = this.cache.get(key);
    if (hit) {
      this.s.cacheHits++;
      this.s.completed++;
      return Promise.resolve({ ...hit, cached: true });
    }
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.withSlot(() => this.request(req, key)).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    const limit = Math.max(1, this.opts.concurrency ?? 4);
    while (this.active >= limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async request(req: JudgeRequest, key: string): Promise<JudgeResponse> {
    const maxRetries = this.opts.maxRetries ?? 6;
    const initial = this.opts.initialBackoffMs ?? 1000;
    const cap = this.opts.maxBackoffMs ?? 60_000;
    let lastError = '';
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) this.s.retries++;
      try {
        const t0 = performance.now();
        const response = await this.once(req);
        this.s.requestMs += performance.now() - t0;
        this.s.completed++;
        this.s.promptTokens += response.promptTokens;
        this.s.completionTokens += response.completionTokens;
        this.cache.set(key, response);
        if (this.opts.cachePath) {
          mkdirSync(dirname(this.opts.cachePath), { recursive: true });
          // one write per judgment (O_APPEND): a crash can only tear the last line, which loading skips
          appendFileSync(this.opts.cachePath, JSON.stringify({ key, model: this.opts.model, response } satisfies CacheLine) + '\n');
        }
        return { ...response, cached: false };
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        lastError = e.message;
        if (attempt === maxRetries) break;
        const backoff = Math.min(cap, initial * 2 ** attempt) * (0.5 + 0.5 * this.random());
        await this.sleep(e.retryAfterMs !== null ? Math.max(e.retryAfterMs, backoff) : backoff);
      }
    }
    throw new UserError({
      what: `the ${this.opts.role ?? 'judge'} endpoint kept failing after ${maxRetries + 1} attempts (last: ${lastError})`,
      where: this.url,
      fix: 'check that the server is up and not overloaded; rerun the same command to resume — finished requests are cached',
    });
  }

  private async once(req: JudgeRequest): Promise<Omit<JudgeResponse, 'cached'>> {
    this.s.requests++;
    const controller = new AbortController();
    const timeoutMs = this.opts.timeoutMs ?? 120_000;
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}) },
        body: JSON.stringify(this.body(req)),
        signal: controller.signal,
      });
      text = await res.text();
    } catch (e) {
      const err = e as Error;
      throw new RetryableError(err.name === 'AbortError' ? `timed out after ${timeoutMs} ms` : `network error: ${err.message}`);
    } finally {
      clearTimeout(timer);
    }
    if (res.status === 429 || res.status >= 500) {
      const ra = res.headers.get('retry-after');
      const seconds = ra !== null && /^\d+(\.\d+)?$/.test(ra.trim()) ? Number(ra) * 1000 : null;
      throw new RetryableError(`HTTP ${res.status}`, seconds);
    }
    if (!res.ok) {
      const hint = res.status === 401 || res.status === 403 ? 'check the API key (--judge-api-key or the OPENAI_API_KEY environment variable)' : res.status === 404 ? 'check the base URL (it should end in /v1) and the judge model name' : 'check the judge model name and the request options';
      throw new UserError({ what: `the ${this.opts.role ?? 'judge'} endpoint rejected the request: HTTP ${res.status} ${text.slice(0, 200)}`, where: this.url, fix: hint });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new RetryableError(`the response is not JSON: ${text.slice(0, 80)}`);
    }
    return parseCompletion(body, this.url);
  }
}

/** The text, optional log-probs and token usage of an OpenAI chat-completion response. */
export function parseCompletion(body: unknown, where: string): Omit<JudgeResponse, 'cached'> {
  const b = body as { choices?: { message?: { content?: unknown }; logprobs?: { content?: unknown } | null }[]; usage?: { prompt_tokens?: number; completion_tokens?: number } };
  const choice = b?.choices?.[0];
  const content = choice?.message?.content;
  if (typeof content !== 'string') {
    throw new UserError({ what: 'the judge response has no choices[0].message.content', where, received: JSON.stringify(body).slice(0, 120), fix: 'point --judge-url at an OpenAI-compatible /v1 endpoint' });
  }
  let logprobs: TokenLogprob[] | null = null;
  const lp = choice?.logprobs?.content;
  if (Array.isArray(lp)) {
    logprobs = lp.map((t: { token?: string; logprob?: number; top_logprobs?: { token: string; logprob: number }[] }) => ({
      token: String(t.token ?? ''),
      logprob: Number(t.logprob),
      top: Array.isArray(t.top_logprobs) ? t.top_logprobs.map((x) => ({ token: String(x.token), logprob: Number(x.logprob) })) : [],
    }));
  }
  return { text: content, logprobs, promptTokens: Number(b.usage?.prompt_tokens ?? 0), completionTokens: Number(b.usage?.completion_tokens ?? 0) };
}
