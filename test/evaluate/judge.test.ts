import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/util/errors.js';
import { JudgeClient, parseCompletion } from '../../src/evaluate/judge.js';
import { startFakeJudge } from './fake-judge.js';

const ask = (i: number) => ({ messages: [{ role: 'user' as const, content: `question ${i}` }] });
const echo = (messages: { content: string }[]) => ({ text: `judged: ${messages[messages.length - 1].content}` });
const noSleep = { sleep: async () => {} };

test('a judgment: text, token and time accounting, the request sent', async (t) => {
  const fake = await startFakeJudge(echo);
  t.after(() => fake.close());
  const client = new JudgeClient({ baseUrl: fake.url, model: 'judge-1', apiKey: 'k' });
  const r = await client.complete({ messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'hi' }], maxTokens: 7 });
  assert.equal(r.text, 'judged: hi');
  assert.equal(r.cached, false);
  assert.equal(fake.bodies[0].model, 'judge-1');
  assert.equal(fake.bodies[0].temperature, 0);
  assert.equal(fake.bodies[0].max_tokens, 7);
  // the fake reports usage = length of the JSON messages and of the reply text
  assert.equal(r.promptTokens, JSON.stringify(fake.bodies[0].messages).length);
  assert.equal(client.stats.completionTokens, 'judged: hi'.length);
  assert.equal(client.stats.requests, 1);
  assert.ok(client.stats.requestMs > 0);
});

test('retries with exponential backoff on 429 and 5xx, honouring Retry-After', async (t) => {
  const fake = await startFakeJudge(echo);
  t.after(() => fake.close());
  fake.failures.push({ status: 429, retryAfter: '3' }, { status: 503 }, { status: 500 });
  const sleeps: number[] = [];
  const client = new JudgeClient({ baseUrl: fake.url, model: 'j', initialBackoffMs: 100, random: () => 1, sleep: async (ms) => void sleeps.push(ms) });
  const r = await client.complete(ask(1));
  assert.equal(r.text, 'judged: question 1');
  assert.equal(fake.requests, 4);
  assert.equal(client.stats.retries, 3);
  // backoff 100·2^k (jitter factor 1 here); the 429 asked for 3 s, which wins over 100 ms
  assert.deepEqual(sleeps, [3000, 200, 400]);
});

test('a timed-out request is retried', async (t) => {
  const fake = await startFakeJudge(echo);
  t.after(() => fake.close());
  fake.delayMs = (n) => (n === 1 ? 3000 : 0);
  const client = new JudgeClient({ baseUrl: fake.url, model: 'j', timeoutMs: 500, ...noSleep });
  const r = await client.complete(ask(2));
  assert.equal(r.text, 'judged: question 2');
  assert.ok(client.stats.retries >= 1, 'the first request timed out and was retried');
});

test('client errors are not retried and say how to fix them; exhausted retries say how to resume', async (t) => {
  const fake = await startFakeJudge(echo);
  t.after(() => fake.close());
  fake.failures.push({ status: 401 });
  const client = new JudgeClient({ baseUrl: fake.url, model: 'j', ...noSleep });
  await assert.rejects(client.complete(ask(3)), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /chat\/completions: the judge endpoint rejected the request: HTTP 401/);
    assert.match(e.message, /fix: check the API key/);
    return true;
  });
  assert.equal(fake.requests, 1);
  fake.failures.push(...Array.from({ length: 3 }, () => ({ status: 502 })));
  const limited = new JudgeClient({ baseUrl: fake.url, model: 'j', maxRetries: 2, ...noSleep });
  await assert.rejects(limited.complete(ask(4)), /kept failing after 3 attempts \(last: HTTP 502\)[\s\S]*fix: .*rerun the same command to resume/);
  assert.throws(() => new JudgeClient({ baseUrl: 'not a url', model: 'j' }), /--judge-url: the judge URL is not a valid URL/);
  assert.throws(() => parseCompletion({ choices: [] }, 'u'), /u: the judge response has no choices\[0\]\.message\.content/);
});

test('at most `concurrency` requests are in flight; identical requests share one call', async (t) => {
  const fake = await startFakeJudge(echo);
  t.after(() => fake.close());
  fake.delayMs = () => 20;
  // count requests in flight on the client side: the first three start before any reply can arrive
  let inFlight = 0;
  let maxInFlight = 0;
  const fetchImpl: typeof fetch = async (...args) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    try {
      return await fetch(...args);
    } finally {
      inFlight--;
    }
  };
  const client = new JudgeClient({ baseUrl: fake.url, model: 'j', concurrency: 3, fetchImpl });
  const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => client.complete(ask(i))));
  assert.equal(rs.length, 12);
  assert.equal(maxInFlight, 3);
  assert.ok(fake.maxInFlight <= 3);
  const before = fake.requests;
  const [a, b] = await Promise.all([client.complete(ask(100)), client.complete(ask(100))]);
  assert.equal(a.text, b.text);
  assert.equal(fake.requests, before + 1);
});

test('the on-disk cache: an interrupted run resumes, a finished run makes no requests, a torn line is re-asked', async (t) => {
  const fake = await startFakeJudge(echo);
  t.after(() => fake.close());
  const cachePath = join(mkdtempSync(join(tmpdir(), 'steer-judge-')), 'cache.jsonl');
  // first run is "interrupted" after 4 of 10 judgments
  const first = new JudgeClient({ baseUrl: fake.url, model: 'j', cachePath });
  for (let i = 0; i < 4; i++) await first.complete(ask(i));
  assert.equal(fake.requests, 4);
  // the resumed run pays only for the 6 missing ones
  const second = new JudgeClient({ baseUrl: fake.url, model: 'j', cachePath });
  const all = await Promise.all(Array.from({ length: 10 }, (_, i) => second.complete(ask(i))));
  assert.equal(fake.requests, 10);
  assert.equal(all.filter((r) => r.cached).length, 4);
  assert.equal(second.stats.cacheHits, 4);
  // a third run makes no request at all and returns the same judgments
  const third = new JudgeClient({ baseUrl: fake.url, model: 'j', cachePath });
  const again = await Promise.all(Array.from({ length: 10 }, (_, i) => third.complete(ask(i))));
  assert.equal(fake.requests, 10);
  assert.deepEqual(again.map((r) => r.text), all.map((r) => r.text));
  assert.equal(third.stats.requests, 0);
  // another judge model or other options are other requests
  const other = new JudgeClient({ baseUrl: fake.url, model: 'j2', cachePath });
  assert.notEqual(other.keyOf(ask(0)), third.keyOf(ask(0)));
  assert.notEqual(third.keyOf({ ...ask(0), temperature: 1 }), third.keyOf(ask(0)));
  // a crash mid-append leaves a torn last line: it is skipped and that judgment asked again
  const lines = readFileSync(cachePath, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 10);
  appendFileSync(cachePath, lines[0].slice(0, 25));
  const fourth = new JudgeClient({ baseUrl: fake.url, model: 'j', cachePath });
  assert.equal(fourth.cacheSize, 10);
  await fourth.complete(ask(10));
  assert.equal(fake.requests, 11);
  assert.equal(new JudgeClient({ baseUrl: fake.url, model: 'j', cachePath }).cacheSize, 11, 'the entry after the torn line is kept');
});
