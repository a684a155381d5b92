import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainReinforce, type ReinforceOptions } from '../../src/policy/reinforce.js';
import { functionRewardSource, httpRewardSource, type RewardItem } from '../../src/policy/reward.js';
import { loadPolicy } from '../../src/policy/model.js';
import { loadLatestTrainCheckpoint } from '../../src/train/checkpoint.js';
import { tinyCharPolicy } from './tiny.js';
import { LlamaGenerator } from '../../src/nn/generate.js';
import { encodePrompts, generateFixed } from '../../src/policy/sample.js';
import { buildSequenceBatch, responseValues } from '../../src/policy/sequences.js';
import { sequenceFeeds } from '../../src/policy/graph.js';
import { PolicyForward } from '../../src/policy/update.js';
import { generationLogprobsExact, rolloutGraph } from '../../src/policy/rollout.js';
import { weightArrays } from '../../src/policy/model.js';

const PROMPTS = ['How many r in strawberry?', 'Spell cat.', 'What is 3+4?', 'Reverse dog.'];
const lengthReward = functionRewardSource('length', (items) => items.map((i) => i.response.length / 10));
const brevityReward = functionRewardSource('brevity', (items) => items.map((i) => -i.response.length / 10));

function metrics(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.stage === 'reinforce' && !r.eval);
}

function base(dir: string, extra: Partial<ReinforceOptions> = {}): ReinforceOptions {
  return { policy: tinyCharPolicy(2, 0.2, 1), reward: lengthReward, prompts: PROMPTS, out: dir, steps: 1, promptsPerStep: 2, samplesPerPrompt: 3, maxNewTokens: 6, threads: 1, quiet: true, resume: false, ...extra };
}

test('KL is exactly 0 while the policy equals the reference (full model path, every KL form)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-rl-'));
  try {
    for (const klForm of ['abs', 'k1', 'k3'] as const) {
      const out = join(dir, klForm);
      const res = await trainReinforce(base(out, { klForm, beta: 0.5, recomputeLogprobs: true }));
      const [m] = metrics(out);
      assert.equal(m.kl, 0, `${klForm}: KL at step 1`);
      // with KL 0 the penalised reward is the RM reward itself
      assert.equal(m.reward_with_kl, m.reward_mean);
      for (const k of ['reward_std', 'response_tokens', 'response_chars', 'ended', 'entropy', 'loss', 'grad_norm', 'generation_ms', 'logprob_ms', 'scoring_ms', 'update_ms', 'generation_share']) assert.equal(typeof m[k], 'number', k);
      assert.ok(m.entropy > 0);
      const rollouts = readFileSync(join(out, 'rollouts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(rollouts.length, 3, 'the first prompt\'s k samples are logged');
      for (const r of rollouts) assert.equal(r.kl, 0);
      // the trained model is saved as a loadable directory
      assert.equal(loadPolicy(res.modelDir).config.hiddenSize, 16);
    }
    // micro-batches of 3 samples (NeMo-Aligner: the token mean per micro-batch, gradients averaged)
    const micro = await trainReinforce(base(join(dir, 'micro'), { microBatchSize: 3, recomputeLogprobs: true }));
    assert.equal(micro.lastMetrics.kl, 0);
    assert.ok(Number.isFinite(micro.lastMetrics.loss));
    await assert.rejects(trainReinforce(base(join(dir, 'micro'), { microBatchSize: 4 })), /reinforce\.microBatchSize[\s\S]*a divisor of promptsPerStep × samplesPerPrompt \(6\)/);
    // after updates the policy has moved: KL > 0 for the abs form
    const out = join(dir, 'moved');
    await trainReinforce(base(out, { steps: 3, lr: 0.05 }));
    assert.ok(metrics(out)[2].kl > 0, 'KL grows once the policy is updated');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an interrupted run resumes from its checkpoint and ends bit-identical to an uninterrupted one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-rl-'));
  try {
    const opts = (out: string, reward = brevityReward) => base(out, { steps: 4, checkpointEvery: 2, lr: 0.02, deterministic: true, reward });
    const full = await trainReinforce(opts(join(dir, 'full')));
    const start = tinyCharPolicy(2, 0.2, 1).weights;
    assert.ok([...full.policy.weights].some(([n, t]) => t.data.some((x, i) => x !== start.get(n)!.data[i])), 'the run updated the weights');
    assert.ok(metrics(join(dir, 'full')).every((m) => m.ended > 0 && m.advantage_abs > 0), 'every step had ended samples and a learning signal');
    let calls = 0;
    const crashing = functionRewardSource(brevityReward.name, (items: readonly RewardItem[]) => {
      if (++calls === 3) throw new Error('simulated crash');
      return items.map((i) => -i.response.length / 10);
    });
    await assert.rejects(trainReinforce(opts(join(dir, 'crash'), crashing)), /simulated crash/);
    assert.equal(loadLatestTrainCheckpoint(join(dir, 'crash'))?.step, 2);
    const resumed = await trainReinforce({ ...opts(join(dir, 'crash')), resume: true });
    assert.equal(resumed.resumedFrom, 2);
    for (const [name, t] of full.policy.weights) assert.deepEqual(Array.from(resumed.policy.weights.get(name)!.data), Array.from(t.data), name);
    assert.deepEqual(metrics(join(dir, 'crash')).map((m) => m.reward_mean), metrics(join(dir, 'full')).map((m) => m.reward_mean));
    const steps = readFileSync(join(dir, 'crash', 'rollouts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
    assert.deepEqual(steps, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4], 'rollouts after the checkpoint are not duplicated');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function withServer(handler: (body: { prompts: unknown[]; responses: string[] }) => { status?: number; body: string }, run: (url: string) => Promise<void>): Promise<void> {
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const r = handler(JSON.parse(data));
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json' });
      res.end(r.body);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  try {
    await run(`http://127.0.0.1:${port}/reward`);
  } finally {
    await new Promise((ok) => server.close(ok));
  }
}

test('HTTP reward endpoint: {prompts, responses} in, {rewards} out; bad answers are clear errors', async () => {
  const seen: { prompts: unknown[]; responses: string[] }[] = [];
  await withServer((b) => {
    seen.push(b);
    return { body: JSON.stringify({ rewards: b.responses.map((r) => r.length) }) };
  }, async (url) => {
    const s = httpRewardSource(url);
    assert.deepEqual(await s.score([{ prompt: 'Spell cat.', response: 'c-a-t' }, { prompt: [{ role: 'user', content: 'hi' }], response: '' }]), [5, 0]);
    assert.deepEqual(seen[0], { prompts: ['Spell cat.', [{ role: 'user', content: 'hi' }]], responses: ['c-a-t', ''] });
  });
  await withServer(() => ({ body: JSON.stringify({ rewards: [1] }) }), async (url) => {
    await assert.rejects(httpRewardSource(url).score([{ prompt: 'a', response: 'b' }, { prompt: 'a', response: 'c' }]), (e: Error) => {
      assert.match(e.message, new RegExp(`${url} field rewards: the reward scorer ${url} returned an unusable answer[\\s\\S]*expected: 2 finite numbers[\\s\\S]*received: \\[1\\][\\s\\S]*fix: make the scorer return \\{"rewards"`));
      return true;
    });
  });
  await withServer(() => ({ status: 500, body: 'boom' }), async (url) => {
    await assert.rejects(httpRewardSource(url).score([{ prompt: 'a', response: 'b' }]), /answered HTTP 500[\s\S]*received: "boom"/);
  });
  await withServer(() => ({ body: 'not json' }), async (url) => {
    await assert.rejects(httpRewardSource(url).score([{ prompt: 'a', response: 'b' }]), /did not answer JSON/);
  });
  assert.throws(() => httpRewardSource('localhost:8000'), /the reward endpoint (is not a URL|must be http or https)[\s\S]*fix: pass e\.g\. http:\/\/localhost:8000\/reward/);
  await assert.rejects(httpRewardSource('http://127.0.0.1:9/reward', { timeoutMs: 2000 }).score([{ prompt: 'a', response: 'b' }]), /cannot reach the reward endpoint[\s\S]*fix: start the reward server/);
});

test('bad REINFORCE options are clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-rl-'));
  try {
    await assert.rejects(trainReinforce(base(dir, { samplesPerPrompt: 0 })), /reinforce\.samplesPerPrompt[\s\S]*expected: an integer ≥ 2 \(the leave-one-out baseline[\s\S]*received: 0/);
    await assert.rejects(trainReinforce(base(dir, { klForm: 'kl2' as 'abs' })), /reinforce\.klForm[\s\S]*expected: abs \| k1 \| k3/);
    await assert.rejects(trainReinforce(base(dir, { temperature: 0 })), /reinforce\.temperature[\s\S]*REINFORCE needs sampling/);
    await assert.rejects(trainReinforce(base(dir, { maxNewTokens: 90 })), /prompt 0 is \d+ tokens; with 90 new tokens it exceeds the model context \(96\)[\s\S]*fix: lower maxNewTokens/);
    await assert.rejects(trainReinforce(base(dir, { prompts: [] })), /no prompts to train on[\s\S]*fix: pass a prompt file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('generation\'s log-probs (temperature 1, no truncation) equal the full forward pass\'s to 1e-5, so REINFORCE uses them', async () => {
  const policy = tinyCharPolicy(5, 0.3, 1);
  const c = policy.config;
  assert.ok(generationLogprobsExact({ temperature: 1, topP: 1, topK: 0 }, c.vocabSize));
  assert.ok(!generationLogprobsExact({ temperature: 0.7, topP: 1, topK: 0 }, c.vocabSize));
  assert.ok(!generationLogprobsExact({ temperature: 1, topP: 0.9, topK: 0 }, c.vocabSize));
  assert.ok(!generationLogprobsExact({ temperature: 1, topP: 1, topK: 5 }, c.vocabSize));
  const ids = encodePrompts(policy, PROMPTS, 10);
  const promptLength = Math.max(...ids.map((x) => x.length));
  const gen = new LlamaGenerator(c, policy.weights, { threads: 1 });
  const forward = new PolicyForward(c, rolloutGraph, policy.weights, { threads: 1 });
  try {
    const gens = await generateFixed(gen, ids, { maxNewTokens: 10, temperature: 1, seed: 11, batchSize: ids.length, stopTokens: policy.codec.stopTokens, promptLength });
    const batch = buildSequenceBatch(ids.map((p, b) => ({ prompt: p, response: gens[b].tokens })), { padId: policy.codec.padId, T: 48 });
    const lp = await forward.run(weightArrays(policy.weights), ids.length, 48, sequenceFeeds(batch));
    let worst = 0;
    gens.forEach((g, b) => {
      const full = responseValues(lp.logp as Float32Array, batch, b);
      assert.equal(g.logprobs.length, full.length);
      g.logprobs.forEach((x, t) => (worst = Math.max(worst, Math.abs(x - full[t]))));
    });
    assert.ok(worst < 1e-5, `largest |log π_generation − log π_full| = ${worst}`);
  } finally {
    await gen.release();
    await forward.release();
  }
  // the trainer's KL at step 1 (policy = reference) is then float32 rounding, not exactly 0
  const dir = mkdtempSync(join(tmpdir(), 'steer-rl-'));
  try {
    await trainReinforce(base(dir, { beta: 0.5 }));
    const [m] = metrics(dir);
    assert.ok(m.kl >= 0 && m.kl < 1e-5, `KL at step 1: ${m.kl}`);
    assert.ok(m.entropy > 0, 'the entropy estimate: the sampled tokens\' mean −log π');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
