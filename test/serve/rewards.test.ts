// The reward endpoints of `steer serve` against a real server: steer's /v1/rewards (every slot, the
// model's merge or the request's weights), OpenRLHF's /get_reward in the exact JSON its
// remote_rm_fn sends, the client `steer rl reinforce --reward-url` uses, and a REINFORCE run whose
// rewards all come from the server. Expected scores come from scoring in-process (src/reward/score.ts)
// and weighted sums written out by hand.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomRewardModel } from '../reward/helpers.js';
import { saveRewardModel } from '../../src/reward/model.js';
import { scoreRewardModel, type ScoredResponse } from '../../src/reward/score.js';
import { httpRewardSource } from '../../src/policy/reward.js';
import { startServer, type SteerServer } from '../../src/serve/server.js';
import { repoRoot } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'steer-serve-rm-'));
const rmA = join(dir, 'rm-a');
const rmB = join(dir, 'rm-b');
let server: SteerServer;
const rows = [
  { prompt: 'How many r in strawberry?', response: 'There are 3.' },
  { prompt: 'Spell cat.', response: 'c a t' },
  { prompt: 'What is 2 + 2?', response: '4' },
];
let expected: ScoredResponse[];

before(async () => {
  saveRewardModel(rmA, randomRewardModel(1, ['helpfulness', 'correctness']));
  saveRewardModel(rmB, randomRewardModel(2, ['reward']));
  expected = await scoreRewardModel(rmA, rows, { threads: 1 });
  server = await startServer({ rewardModels: [{ name: 'rm-a', dir: rmA }, { name: 'rm-b', dir: rmB }], port: 0, threads: 1 });
});
after(async () => {
  await server?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};
const close = (a: number, b: number) => Math.abs(a - b) < 1e-5;

test('/v1/rewards: every slot and the merged reward; the request\'s weights; chat transcripts; another model by name', async () => {
  const r = await post('/v1/rewards', { items: rows });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.attributes, ['helpfulness', 'correctness']);
  assert.deepEqual(r.body.weights, [1, 0]); // randomRewardModel merges with the first slot
  rows.forEach((_, i) => {
    assert.ok(close(r.body.rewards[i], expected[i].reward));
    assert.ok(close(r.body.data[i].attributes.helpfulness, expected[i].slots.helpfulness));
    assert.ok(close(r.body.data[i].attributes.correctness, expected[i].slots.correctness));
  });
  // reward = 0.5 · helpfulness + 2 · correctness, by hand
  const w = await post('/v1/rewards', { prompts: rows.map((x) => x.prompt), responses: rows.map((x) => x.response), weights: { helpfulness: 0.5, correctness: 2 } });
  rows.forEach((_, i) => assert.ok(close(w.body.rewards[i], 0.5 * expected[i].slots.helpfulness + 2 * expected[i].slots.correctness)));
  const chat = await post('/v1/rewards', { messages: rows.map((x) => [{ role: 'user', content: x.prompt }, { role: 'assistant', content: x.response }]) });
  rows.forEach((_, i) => assert.ok(close(chat.body.rewards[i], expected[i].reward)));
  const b = await post('/v1/rewards', { model: 'rm-b', items: rows.slice(0, 1) });
  const expB = await scoreRewardModel(rmB, rows.slice(0, 1), { threads: 1 });
  assert.ok(close(b.body.rewards[0], expB[0].reward));
  assert.deepEqual(b.body.attributes, ['reward']);
});

test('/get_reward answers OpenRLHF\'s remote_rm_fn request exactly as it sends it', async () => {
  // openrlhf/utils/remote_rm_utils.py: request_api_wrapper(api_url, {"query": queries, "prompts": prompts, "labels": labels}, score_key="rewards")
  const queries = rows.map((x) => x.prompt + x.response);
  const r = await post('/get_reward', { query: queries, prompts: rows.map((x) => x.prompt), labels: ['', '', ''] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  rows.forEach((_, i) => {
    assert.ok(close(r.body.rewards[i], expected[i].reward));
    assert.equal(r.body.scores[i], r.body.rewards[i]);
    assert.ok(close(r.body.extra_logs.correctness[i], expected[i].slots.correctness));
  });
  const bad = await post('/get_reward', { query: ['something else'], prompts: ['How many'], labels: [null] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.param, 'query[0]');
});

test('reward requests with mistakes get OpenAI-style errors; the server keeps scoring', async () => {
  let r = await post('/v1/rewards', { items: rows, prompts: ['x'], responses: ['y'] });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /exactly one of/);
  r = await post('/v1/rewards', { prompts: ['a', 'b'], responses: ['x'] });
  assert.equal(r.status, 400);
  r = await post('/v1/rewards', { model: 'nope', items: rows });
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, 'model_not_found');
  r = await post('/v1/rewards', { items: rows, weights: 'verbosity' }); // a slot this head lacks
  assert.equal(r.status, 400);
  assert.equal(r.body.error.param, 'weights');
  r = await post('/v1/rewards', { messages: [[{ role: 'user', content: 'hi' }, { role: 'user', content: 'x' }]] });
  assert.equal(r.status, 400);
  r = await post('/v1/chat/completions', { model: 'rm-a', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(r.status, 404); // no policy here
  r = await post('/v1/rewards', { items: rows });
  assert.equal(r.status, 200);
});

test('the --reward-url client and a 2-step `steer rl reinforce --reward-url` get their rewards from the server', async () => {
  const viaClient = await httpRewardSource(`${server.url}/v1/rewards`).score(rows);
  rows.forEach((_, i) => assert.ok(close(viaClient[i], expected[i].reward)));
  const work = mkdtempSync(join(tmpdir(), 'steer-serve-rl-'));
  // the CLI runs in child processes (async: this process serves the rewards meanwhile)
  const steer = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/bin.ts'), ...args], { cwd: repoRoot });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  try {
    const toy = join(work, 'toy');
    let r = await steer(['data', 'toy', '--size', '10', '--out', toy, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    r = await steer(['sft', '--init', 'toy', '--data', join(toy, 'sft.jsonl'), '--out', join(work, 'sft'), '--steps', '2', '--batch-size', '4', '--hidden-size', '16', '--layers', '1', '--heads', '2', '--kv-heads', '1', '--intermediate-size', '24', '--threads', '1', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const before = server.metrics.rewardItems;
    r = await steer(['rl', 'reinforce', '--policy', join(work, 'sft', 'model'), '--prompts', join(toy, 'rl-prompts.jsonl'), '--reward-url', `${server.url}/v1/rewards`, '--out', join(work, 'rl'), '--steps', '2', '--prompts-per-step', '2', '-k', '2', '--max-new-tokens', '8', '--threads', '1', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(server.metrics.rewardItems - before, 2 * 2 * 2, 'steps × prompts per step × samples scored by the server');
    const m = readFileSync(join(work, 'rl', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(m.map((x) => x.step), [1, 2]);
    assert.ok(m.every((x) => Number.isFinite(x.reward_mean)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
