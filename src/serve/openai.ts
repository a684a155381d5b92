// OpenAI's API shapes, as the official client sends and reads them (platform.openai.com/docs/api-reference):
// request bodies validated with zod (unknown fields are refused, as OpenAI does), the error object
//   {"error": {"message", "type", "param", "code"}}
// and the chat / completion objects, whole or as server-sent chunks.
import { z } from 'zod';
import type { CompletionJob, TokenLogprob } from './engine.js';
import type { Turn } from '../data/helpsteer2.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status === 401 ? 'authentication_error' : status === 404 && code !== 'model_not_found' ? 'not_found_error' : status === 429 ? 'rate_limit_error' : status >= 500 ? (status === 503 ? 'service_unavailable' : 'server_error') : 'invalid_request_error',
  ) {
    super(message);
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A zod failure as OpenAI's 400: the first issue, its path as `param`. */
export function invalidRequest(e: z.ZodError): ApiError {
  const issue = e.issues[0];
  const param = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || null;
  const msg = issue.code === 'unrecognized_keys' ? `Unrecognized request argument supplied: ${issue.keys.join(', ')}` : `Invalid value for '${param ?? 'body'}': ${issue.message}`;
  return new ApiError(400, msg, issue.code === 'unrecognized_keys' ? issue.keys[0] : param, issue.code === 'unrecognized_keys' ? 'unrecognized_argument' : 'invalid_value');
}

const textPart = z.object({ type: z.literal('text'), text: z.string() }).strict();
const content = z.union([z.string(), z.array(textPart).min(1)]);
const message = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant']),
    content,
    name: z.string().optional(),
  })
  .strict();

const stop = z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional();
const common = {
  model: z.string().min(1),
  n: z.number().int().min(1).max(128).nullable().optional(),
  stop,
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).strict().nullable().optional(),
  user: z.string().optional(),
  presence_penalty: z.literal(0, { message: 'only 0 is supported' }).nullable().optional(),
  frequency_penalty: z.literal(0, { message: 'only 0 is supported' }).nullable().optional(),
};

export const ChatRequest = z
  .object({
    ...common,
    messages: z.array(message).min(1, { message: 'messages must hold at least one message' }),
    max_tokens: z.number().int().min(1).nullable().optional(),
    max_completion_tokens: z.number().int().min(1).nullable().optional(),
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  })
  .strict();
export type ChatRequest = z.infer<typeof ChatRequest>;

export const CompletionRequest = z
  .object({
    ...common,
    prompt: z.union([z.string(), z.array(z.string()).min(1).max(64)]),
    max_tokens: z.number().int().min(1).nullable().optional(),
    logprobs: z.number().int().min(0).max(5).nullable().optional(),
    echo: z.literal(false, { message: 'echo is not supported' }).nullable().optional(),
  })
  .strict();
export type CompletionRequest = z.infer<typeof CompletionRequest>;

const stops = (s: string | string[] | null | undefined): string[] => (s == null ? [] : typeof s === 'string' ? [s] : s).filter((x) => x !== '');

/** Chat messages as the chat template's turns: system/developer → system, text parts joined. */
export function chatTurns(r: ChatRequest): Turn[] {
  return r.messages.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('') }));
}

export function chatJob(id: string, r: ChatRequest): CompletionJob {
  const turns = chatTurns(r);
  if (turns[turns.length - 1].role !== 'user') throw new ApiError(400, 'The last message must be from the user: the model answers it.', 'messages', 'invalid_value');
  if (r.top_logprobs != null && !r.logprobs) throw new ApiError(400, "top_logprobs needs 'logprobs': true.", 'top_logprobs', 'invalid_value');
  return {
    id,
    input: { messages: turns },
    n: r.n ?? 1,
    maxTokens: r.max_completion_tokens ?? r.max_tokens ?? null,
    temperature: r.temperature ?? 1,
    topP: r.top_p ?? 1,
    seed: r.seed ?? null,
    stop: stops(r.stop),
    topLogprobs: r.logprobs ? (r.top_logprobs ?? 0) : null,
  };
}

export function completionJob(id: string, r: CompletionRequest, prompt: string): CompletionJob {
  return {
    id,
    input: { text: prompt },
    n: r.n ?? 1,
    maxTokens: r.max_tokens ?? 16, // OpenAI's default for /v1/completions
    temperature: r.temperature ?? 1,
    topP: r.top_p ?? 1,
    seed: r.seed ?? null,
    stop: stops(r.stop),
    topLogprobs: r.logprobs ?? null,
  };
}

const bytes = (s: string) => [...Buffer.from(s, 'utf8')];

/** Chat logprobs: {content: [{token, logprob, bytes, top_logprobs}]} */
export function chatLogprobs(lps: readonly TokenLogprob[]): { content: unknown[]; refusal: null } {
  return {
    content: lps.map((t) => ({ token: t.token, logprob: t.logprob, bytes: bytes(t.token), top_logprobs: t.top.map((x) => ({ token: x.token, logprob: x.logprob, bytes: bytes(x.token) })) })),
    refusal: null,
  };
}

/** Legacy completion logprobs: {tokens, token_logprobs, top_logprobs, text_offset}. */
export function completionLogprobs(lps: readonly TokenLogprob[], offset0: number): { tokens: string[]; token_logprobs: number[]; top_logprobs: Record<string, number>[]; text_offset: number[] } {
  let at = offset0;
  const text_offset: number[] = [];
  for (const t of lps) {
    text_offset.push(at);
    at += t.token.length;
  }
  return { tokens: lps.map((t) => t.token), token_logprobs: lps.map((t) => t.logprob), top_logprobs: lps.map((t) => Object.fromEntries(t.top.map((x) => [x.token, x.logprob]))), text_offset };
}
