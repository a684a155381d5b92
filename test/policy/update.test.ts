import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Graph } from '../../src/graph/index.js';
import type { LlamaConfig } from '../../src/nn/config.js';
import type { LlamaParams } from '../../src/nn/llama.js';
import { TrainState } from '../../src/train/optim.js';
import { loadLatestTrainCheckpoint } from '../../src/train/checkpoint.js';
import { policyTokenLogProbs, sequenceFeeds, sequenceInputList, sequenceInputs } from '../../src/policy/graph.js';
import { policyGradientLoss } from '../../src/policy/losses.js';
import { weightArrays } from '../../src/policy/model.js';
import { buildSequenceBatch } from '../../src/policy/sequences.js';
import { trainSft } from '../../src/policy/sft.js';
import { PolicyForward, PolicyUpdater } from '../../src/policy/update.js';
import { compiledSessionCount } from '../../src/runtime/index.js';
import { splitRows } from '../../src/train/steps.js';
import { assertClose } from '../helpers/close.js';
import { tinyCharPolicy } from './tiny.js';

function pgGraph(g: Graph, c: LlamaConfig, B: number, T: number, p: LlamaParams) {
  const s = sequenceInputs(g, B, T);
  const adv = g.input('advantages', [B]);
  return { loss: policyGradientLoss(policyTokenLogProbs(c, p, s), s.lossMask, adv), batch: [...sequenceInputList(s), adv], outputs: {} };
}

test('splitRows cuts every feed along its batch axis', () => {
  const parts = splitRows({ a: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), b: Float32Array.of(10, 20, 30, 40) }, 4, 2);
  assert.deepEqual(parts.map((p) => Array.from(p.a as Float32Array)), [[1, 2, 3, 4], [5, 6, 7, 8]]);
  assert.deepEqual(parts.map((p) => Array.from(p.b as Float32Array)), [[10, 20], [30, 40]]);
});

test('micro-batches with equal token counts give the one-batch gradient (policy-gradient loss, Adam moments after one step)', async () => {
  const p = tinyCharPolicy(9, 0.3);
  const c = p.config;
  // four rows, every response 3 tokens: each micro-batch's token mean has the same denominator,
  // so the mean of the two micro-batch gradients equals the one-batch gradient
  const rows = ['What is 1+1?', 'Spell ox.', 'Reverse ab.', 'First letter of cat?'].map((q, i) => ({ prompt: p.codec.encodePrompt(q), response: p.codec.encodeResponse(['2x', 'o-', 'ba', 'cc'][i]) }));
  const batch = buildSequenceBatch(rows, { padId: p.codec.padId, T: 32 });
  const feeds = { ...sequenceFeeds(batch), advantages: Float32Array.of(1, -0.5, 0.25, -2) };
  const up = new PolicyUpdater(c, pgGraph, { maxGradNorm: 100 }, { threads: 1, deterministic: true });
  try {
    const one = TrainState.init(weightArrays(p.weights));
    const two = TrainState.init(weightArrays(p.weights));
    const r1 = await up.step(one, 4, 32, feeds, 1e-3);
    const r2 = await up.step(two, 2, 32, splitRows(feeds, 4, 2), 1e-3);
    assertClose(r2.loss, r1.loss, { rtol: 1e-5, what: 'loss' });
    assertClose(r2.gradNorm, r1.gradNorm, { rtol: 1e-4, what: 'grad norm' });
    for (const name of Object.keys(one.m)) assertClose(two.m[name] as Float32Array, one.m[name] as Float32Array, { rtol: 1e-3, atol: 1e-8, what: `m of ${name}` });
  } finally {
    await up.release();
  }
});

test('SFT with micro-batches trains and checks its option', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-micro-'));
  try {
    const data = [{ prompt: 'Spell ox.', response: 'o-x' }, { prompt: 'Spell ab.', response: 'a-b' }, { prompt: 'Spell cd.', response: 'c-d' }, { prompt: 'Spell ef.', response: 'e-f' }];
    const r = await trainSft({ policy: tinyCharPolicy(3, 0.1), data, out: dir, steps: 30, batchSize: 4, microBatchSize: 2, lr: 0.02, threads: 1, quiet: true, resume: false });
    assert.ok(r.lastMetrics.loss < 1, `loss ${r.lastMetrics.loss}`);
    assert.equal(r.lastMetrics.tokens, 16, 'tokens summed over both micro-batches: 4 × (3 chars + <eos>)');
    assert.equal(loadLatestTrainCheckpoint(dir)?.step, 30);
    await assert.rejects(trainSft({ policy: tinyCharPolicy(), data, out: dir, batchSize: 4, microBatchSize: 3, quiet: true }), /sft\.microBatchSize[\s\S]*a divisor of batchSize \(4\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the engine\'s spinning setting reaches the update and forward sessions (a session per setting; same numbers)', async () => {
  const p = tinyCharPolicy(5, 0.3);
  const c = p.config;
  const rows = [{ prompt: p.codec.encodePrompt('Spell ox.'), response: p.codec.encodeResponse('o-x') }, { prompt: p.codec.encodePrompt('Spell ab.'), response: p.codec.encodeResponse('a-b') }];
  const feeds = { ...sequenceFeeds(buildSequenceBatch(rows, { padId: p.codec.padId, T: 24 })), advantages: Float32Array.of(1, -1) };
  // sessions are cached by their settings: when spinning reaches compile, the two updaters (and the
  // two forwards) of one graph open two sessions each; were it dropped they would share one
  const before = compiledSessionCount();
  const ups = [new PolicyUpdater(c, pgGraph, {}, { threads: 1, deterministic: true, spinning: false }), new PolicyUpdater(c, pgGraph, {}, { threads: 1, deterministic: true })];
  const fwds = [new PolicyForward(c, logpGraph, null, { threads: 1, spinning: false }), new PolicyForward(c, logpGraph, null, { threads: 1 })];
  try {
    const states = ups.map(() => TrainState.init(weightArrays(p.weights)));
    const r = await Promise.all(ups.map((u, i) => u.step(states[i], 2, 24, feeds, 1e-3)));
    const f = await Promise.all(fwds.map((fw) => fw.run(weightArrays(p.weights), 2, 24, sequenceFeeds(buildSequenceBatch(rows, { padId: p.codec.padId, T: 24 })))));
    assert.equal(compiledSessionCount() - before, 4);
    assert.equal(r[0].loss, r[1].loss);
    assert.deepEqual(Array.from(f[0].logp as Float32Array), Array.from(f[1].logp as Float32Array));
  } finally {
    for (const x of [...ups, ...fwds]) await x.release();
  }
});

function logpGraph(g: Graph, c: LlamaConfig, B: number, T: number, p: LlamaParams) {
  const s = sequenceInputs(g, B, T);
  return { batch: sequenceInputList(s), outputs: { logp: policyTokenLogProbs(c, p, s) } };
}
