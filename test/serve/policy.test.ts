// `steer serve`'s policy endpoints driven by the official `openai` client against a real server on
// 127.0.0.1 (stories260K, a real llama2.c checkpoint). Greedy answers are checked against
// `steer generate` run as a separate process (the batch generator, an independent path), and
// against llama2.c run.c's own output (the committed fixture).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { sharedPath } from '../helpers/shared.js';
import { startServer, type SteerServer } from '../../src/serve/server.js';
import { JudgeClient } from '../../src/evaluate/judge.js';

const model = sharedPath('data/stories260k/stories260K.bin');
const tok = sharedPath('data/stories260k/tok512.bin');
if (!model && process.env.CI) throw new Error('../shared/data/stories260k is absent; CI must run these tests with ../shared beside the checkout');
const skip = model === null || tok === null ? '../shared/data/stories260k is absent' : false;

const bin = fileURLToPath(new URL('../../bin/steer.js', import.meta.url));
const KEY = 'test-key';
let server: SteerServer;
let client: OpenAI;
const PROMPT = 'Once upon a time';

/** `steer generate` greedy in its own process: the completion text and its log-probs. */
function steerGenerate(prompt: string, maxNew: number): { completion: string; logprobs: number[]; tokens: number[] } {
  const dir = mkdtempSync(join(tmpdir(), 'steer-serve-gen-'));
  try {
    const out = join(dir, 'g.jsonl');
    const r = spawnSync(process.execPath, [bin, 'generate', '--model', model!, '--tokenizer', tok!, '--prompt', prompt, '--max-new-tokens', String(maxNew), '--temperature', '0', '--out', out, '--quiet'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(readFileSync(out, 'utf8').trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

before(async () => {
  if (skip) return;
  server = await startServer({ model: model!, tokenizer: tok!, port: 0, apiKey: KEY, engine: { maxBatch: 8 }, threads: 2, bodyLimitBytes: 64 * 1024 });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 });
});
after(async () => {
  await server?.shutdown();
});

test('chat, greedy: the answer, its log-probs and usage equal steer generate\'s; /v1/completions too', { skip }, async () => {
  const ref = steerGenerate(PROMPT, 40);
  const r = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], temperature: 0, max_tokens: 40, logprobs: true, top_logprobs: 3 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, ref.completion);
  assert.equal(r.choices[0].finish_reason, 'length');
  // usage: the llama2.c prompt is BOS + 4 tokens ([1, 403, 407, 261, 378], test/cli/generate.test.ts)
  assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: 40, total_tokens: 45 });
  const content = r.choices[0].logprobs!.content!;
  assert.equal(content.length, 40);
  assert.equal(content.map((c) => c.token).join(''), ref.completion);
  content.forEach((c, i) => {
    assert.ok(Math.abs(c.logprob - ref.logprobs[i]) < 1e-4, `token ${i}: ${c.logprob} vs steer generate ${ref.logprobs[i]}`);
    assert.equal(c.top_logprobs.length, 3);
    assert.equal(c.top_logprobs[0].token, c.token); // greedy picks the most likely token
    assert.ok(Math.abs(c.top_logprobs[0].logprob - c.logprob) < 1e-9);
    assert.ok(c.top_logprobs[0].logprob >= c.top_logprobs[1].logprob && c.top_logprobs[1].logprob >= c.top_logprobs[2].logprob);
    assert.deepEqual(c.bytes, [...Buffer.from(c.token)]);
  });
  // the legacy endpoint continues plain text: the same greedy text
  const c = await client.completions.create({ model: 'stories260K', prompt: PROMPT, temperature: 0, max_tokens: 40, logprobs: 2 });
  assert.equal(c.choices[0].text, ref.completion);
  assert.equal(c.choices[0].logprobs!.tokens!.join(''), ref.completion);
  assert.equal(c.choices[0].logprobs!.text_offset![1], c.choices[0].logprobs!.tokens![0].length);
  // run.c's own 90-token output (test/fixtures) through the server
  const long = await client.completions.create({ model: 'stories260K', prompt: PROMPT, temperature: 0, max_tokens: 90 });
  const runC = readFileSync(fileURLToPath(new URL('../fixtures/stories260k/run_c.once-upon-a-time.n94.txt', import.meta.url)), 'utf8');
  assert.equal(PROMPT + long.choices[0].text + '\n', runC);
});

test('streaming: deltas add up to the whole answer; usage chunk; [DONE] ends the stream', { skip }, async () => {
  const whole = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'The dog' }], temperature: 0, max_tokens: 30 });
  const stream = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'The dog' }], temperature: 0, max_tokens: 30, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish: string | null = null;
  let role = '';
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices) {
      if (ch.delta.role) role = ch.delta.role;
      text += ch.delta.content ?? '';
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.equal(role, 'assistant');
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, 'length');
  assert.ok(chunks >= 30, `one chunk per token at least (${chunks})`);
  assert.deepEqual(usage, whole.usage);
});

test('n, seed and stop: seeded samples repeat; n choices differ; stop cuts before the stop string', { skip }, async () => {
  const ask = (seed: number) => client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], temperature: 1, top_p: 0.9, max_tokens: 24, n: 3, seed });
  const a = await ask(7);
  const b = await ask(7);
  const c = await ask(8);
  assert.equal(a.choices.length, 3);
  assert.deepEqual(a.choices.map((x) => x.index), [0, 1, 2]);
  assert.deepEqual(a.choices.map((x) => x.message.content), b.choices.map((x) => x.message.content));
  assert.notDeepEqual(a.choices.map((x) => x.message.content), c.choices.map((x) => x.message.content));
  assert.ok(new Set(a.choices.map((x) => x.message.content)).size > 1, 'the three choices draw from different streams');
  assert.ok(a.usage!.completion_tokens >= 3 && a.usage!.completion_tokens <= 3 * 24);
  assert.equal(a.usage!.prompt_tokens, 5); // counted once for the n choices, as OpenAI does
  // stop: the greedy answer cut before the first "." (and the streamed one too)
  const greedy = (await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], temperature: 0, max_tokens: 60 })).choices[0].message.content!;
  const cut = greedy.indexOf('.');
  assert.ok(cut > 0, greedy);
  const s = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], temperature: 0, max_tokens: 60, stop: ['.', 'zzz'] });
  assert.equal(s.choices[0].message.content, greedy.slice(0, cut));
  assert.equal(s.choices[0].finish_reason, 'stop');
  const st = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], temperature: 0, max_tokens: 60, stop: '.', stream: true });
  let streamed = '';
  for await (const ch of st) streamed += ch.choices[0]?.delta.content ?? '';
  assert.equal(streamed, greedy.slice(0, cut));
});

test('errors arrive as the client\'s typed exceptions with OpenAI\'s error object; the server keeps serving', { skip }, async () => {
  const msg = [{ role: 'user' as const, content: PROMPT }];
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: msg }), (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === 'model_not_found' && e.param === 'model');
  await assert.rejects(client.chat.completions.create({ model: 'stories260K', messages: msg, temperature: 3 }), (e) => e instanceof OpenAI.BadRequestError && e.param === 'temperature' && /temperature/.test(e.message));
  await assert.rejects(client.chat.completions.create({ model: 'stories260K', messages: [] }), (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages');
  await assert.rejects(client.chat.completions.create({ model: 'stories260K', messages: msg, max_tokens: 600 }), (e) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded' && /maximum context length is 512 tokens/.test(e.message));
  await assert.rejects(client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'x'.repeat(70_000) }] }), (e) => e instanceof OpenAI.APIError && e.status === 413);
  await assert.rejects(client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'once '.repeat(600) }], max_tokens: 10 }), (e) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded');
  const noKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(noKey.chat.completions.create({ model: 'stories260K', messages: msg }), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  // raw HTTP: malformed JSON, an unknown field, an unknown route
  const post = (path: string, body: string) => fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body });
  let res = await post('/v1/chat/completions', '{"model": "stories260K", "messages": [');
  assert.equal(res.status, 400);
  assert.deepEqual(Object.keys(((await res.json()) as { error: object }).error).sort(), ['code', 'message', 'param', 'type']);
  res = await post('/v1/chat/completions', JSON.stringify({ model: 'stories260K', messages: msg, best_of: 2 }));
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: { param: string } }).error.param, 'best_of');
  res = await post('/v1/nothing', '{}');
  assert.equal(res.status, 404);
  // still serving everyone
  const ok = await client.chat.completions.create({ model: 'stories260K', messages: msg, temperature: 0, max_tokens: 5 });
  assert.equal(ok.choices[0].finish_reason, 'length');
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['stories260K']);
});

test('continuous batching: a short request that joins later finishes first; /health answers while decoding; a disconnect cancels', { skip }, async () => {
  const t0 = performance.now();
  const long = client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], temperature: 0, max_tokens: 400 }).then(() => performance.now() - t0);
  // wait (bounded) until the long request is admitted and decoding: under load that takes a while
  for (let i = 0; i < 2000 && server.metrics.running === 0; i++) await new Promise((r) => setTimeout(r, 5));
  const health = await fetch(`${server.url}/health`);
  const h = (await health.json()) as { status: string; running: number };
  assert.equal(h.status, 'ok');
  assert.equal(h.running, 1, 'the long request is decoding while /health answers');
  const short = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'The cat' }], temperature: 0, max_tokens: 5 });
  const shortDone = performance.now() - t0;
  assert.equal(short.usage!.completion_tokens, 5);
  const longDone = await long;
  assert.ok(shortDone < longDone, `the short request (${shortDone.toFixed(0)} ms) finished before the long one (${longDone.toFixed(0)} ms)`);
  // a client that goes away mid-stream: its sequence leaves the batch
  const ac = new AbortController();
  const st = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], temperature: 0, max_tokens: 400, stream: true }, { signal: ac.signal });
  let n = 0;
  try {
    for await (const _ of st) if (++n === 3) ac.abort();
  } catch {
    // the client may end the iteration with an abort error or quietly
  }
  assert.ok(n >= 3 && n < 100, `the stream stopped soon after the abort (${n} chunks of 400)`);
  for (let i = 0; i < 50 && server.metrics.running > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.metrics.running, 0);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /steer_running_sequences 0/);
  assert.match(metrics, /steer_time_to_first_token_seconds_count [1-9]/);
});

test('the evaluation judge client (src/evaluate/judge.ts) gets its answer and log-probs from the policy server', { skip }, async () => {
  const judge = new JudgeClient({ baseUrl: `${server.url}/v1`, model: 'stories260K', apiKey: KEY, maxRetries: 0 });
  const r = await judge.complete({ messages: [{ role: 'user', content: PROMPT }], temperature: 0, maxTokens: 40, topLogprobs: 2 });
  assert.equal(r.text, steerGenerate(PROMPT, 40).completion);
  assert.equal(r.logprobs!.length, 40);
  assert.equal(r.completionTokens, 40);
});

test('a full queue answers 429 as the client\'s RateLimitError', { skip }, async () => {
  const full = await startServer({ model: model!, tokenizer: tok!, port: 0, engine: { maxBatch: 1, maxQueue: 0 }, threads: 1, warmup: false });
  try {
    const c = new OpenAI({ baseURL: `${full.url}/v1`, apiKey: 'none', maxRetries: 0 });
    await assert.rejects(c.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'Hi' }] }), (e) => e instanceof OpenAI.RateLimitError && e.status === 429 && e.code === 'overloaded');
  } finally {
    await full.shutdown();
  }
});
