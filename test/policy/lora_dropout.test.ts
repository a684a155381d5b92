// lora_dropout (PEFT: y = x Wᵀ + s · (dropout(x) Aᵀ) Bᵀ, inverted dropout on the adapter's input):
// steer feeds each adapted module a mask drawn from its seeded Rng. Checked against peft itself:
// the same base, adapter and masks (peft's nn.Dropout replaced by x ⊙ mask) give steer's
// REINFORCE loss and gradient norm. With p = 0 no mask exists; inference graphs never read one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { venvPython } from '../helpers/python.js';
import { assertClose } from '../helpers/close.js';
import { runPy } from '../io/pyrun.js';
import { Graph, type TypedArray } from '../../src/graph/index.js';
import { llamaInitializers, type LlamaParams } from '../../src/nn/llama.js';
import { initLora, type LoraConfig } from '../../src/nn/lora.js';
import type { LlamaConfig } from '../../src/nn/config.js';
import type { LlamaWeights } from '../../src/nn/weights.js';
import { loraInputs, withLora } from '../../src/policy/lora.js';
import { updateGraph } from '../../src/policy/rollout.js';
import { policyTokenLogProbs, sequenceFeeds, sequenceInputList, sequenceInputs } from '../../src/policy/graph.js';
import { buildSequenceBatch } from '../../src/policy/sequences.js';
import { PolicyForward, PolicyUpdater } from '../../src/policy/update.js';
import { savePolicy, weightArrays } from '../../src/policy/model.js';
import { savePeftAdapter } from '../../src/io/peft.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { TrainState, compileTrainStep } from '../../src/train/optim.js';
import { Rng } from '../../src/util/rng.js';
import { tinyCharPolicy } from './tiny.js';

const P = 0.3;
const LORA: LoraConfig = { rank: 4, alpha: 8, dropout: P, targets: ['q_proj', 'v_proj', 'o_proj', 'gate_proj', 'down_proj'] };
const NO_DROPOUT: LoraConfig = { ...LORA, dropout: 0 };
const examples = [{ prompt: [1, 5, 9, 33], response: [60, 17, 8] }, { prompt: [3, 7], response: [11, 4, 2, 40] }];
const B = 2;
const T = 8;
const feeds = { ...sequenceFeeds(buildSequenceBatch(examples, { padId: 0, T })), advantages: Float32Array.of(1, -0.5) };

/** A trained-looking adapter: PEFT's A, B ~ N(0, 0.3) (B = 0 would hide the adapter's input). */
function adapter(c: LlamaConfig): LlamaWeights {
  const a = initLora(c, LORA, new Rng(2));
  const rng = new Rng(5);
  for (const [n, t] of a) if (n.endsWith('lora_B.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal(0, 0.3);
  return a;
}

test('LoRA dropout: the REINFORCE step with steer\'s masks gives peft\'s loss and gradient norm with the same masks', async (t) => {
  const policy = tinyCharPolicy(3, 0.3);
  const c = policy.config;
  const ad = adapter(c);
  const g = new Graph();
  const lora = loraInputs(g, c, LORA, true);
  const built = updateGraph(g, c, B, T, withLora(llamaInitializers(g, c, policy.weights, 'base/'), lora.graph));
  const dropout = lora.graph.dropout!;
  const masks = lora.graph.dropout!.inputs();
  // one mask per adapted module and layer, of the module input's shape: [B, T, D] or [B, T, F] for down_proj
  assert.equal(masks.length, LORA.targets.length * c.numLayers);
  const down = masks.find((m) => (m.attrs.name as string).endsWith('down_proj'))!;
  assert.deepEqual(down.shape, [B, T, c.intermediateSize]);
  const step = await compileTrainStep({ loss: built.loss, params: lora.inputs, batch: [...built.batch, ...masks] }, {}, { threads: 1 });
  try {
    const drawn = dropout.feeds(new Rng(9));
    const values = Object.values(drawn).flatMap((m) => Array.from(m));
    const dropped = values.filter((v) => v === 0).length / values.length;
    assert.ok(Math.abs(dropped - P) < 0.03, `fraction dropped ${dropped} ≈ p = ${P} (${values.length} draws)`);
    assert.ok(values.every((v) => v === 0 || Math.abs(v - 1 / (1 - P)) < 1e-6), 'kept entries are scaled by 1 / (1 − p)');
    const withMasks = await step.run(TrainState.init(weightArrays(ad)), { ...feeds, ...drawn }, 1e-3);
    const ones: Record<string, Float32Array> = Object.fromEntries(Object.entries(drawn).map(([k, m]) => [k, new Float32Array(m.length).fill(1)]));
    const without = await step.run(TrainState.init(weightArrays(ad)), { ...feeds, ...ones }, 1e-3);
    assert.ok(Math.abs(withMasks.loss - without.loss) > 1e-3, `the masks change the loss (${withMasks.loss} vs ${without.loss} with all-ones masks)`);

    const py = venvPython(t, ['peft', 'transformers', 'torch', 'safetensors']);
    if (!py) return;
    const dir = mkdtempSync(join(tmpdir(), 'steer-lora-dropout-'));
    try {
      savePolicy(join(dir, 'base'), policy);
      const adapterDir = savePeftAdapter(join(dir, 'adapter'), { lora: LORA, weights: ad, modules: new Map(), taskType: 'CAUSAL_LM', baseModel: join(dir, 'base') });
      writeSafetensors(join(dir, 'masks.safetensors'), new Map(masks.map((m) => [m.attrs.name as string, { shape: [...m.shape], data: drawn[m.attrs.name as string] }])));
      const plain = (v: TypedArray) => Array.from(v as ArrayLike<number | bigint>, Number);
      writeFileSync(join(dir, 'spec.json'), JSON.stringify({ feeds: Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, plain(v)])) }));
      const peft = JSON.parse(runPy(py, 'peft_parity.py', ['dropout', join(dir, 'spec.json'), dir, adapterDir, join(dir, 'masks.safetensors')])) as { loss: number; grad_norm: number; masked: number };
      assert.equal(peft.masked, masks.length);
      assertClose(withMasks.loss, peft.loss, { rtol: 1e-5, atol: 1e-6, what: 'loss with dropout masks: steer vs peft' });
      assertClose(withMasks.gradNorm, peft.grad_norm, { rtol: 1e-4, atol: 1e-7, what: 'adapter gradient norm with dropout masks: steer vs peft' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await step.exe.release();
  }
});

test('LoRA dropout: p = 0 adds no mask input; the updater draws masks from its seed and step; inference graphs use none', async () => {
  const policy = tinyCharPolicy(3, 0.3);
  const c = policy.config;
  const ad = weightArrays(adapter(c));
  assert.equal(loraInputs(new Graph(), c, NO_DROPOUT, true).graph.dropout, undefined, 'p = 0: no dropout (the graph of earlier releases)');
  assert.equal(loraInputs(new Graph(), c, LORA, false).graph.dropout, undefined, 'inference graphs: no dropout');

  const loss = async (l: LoraConfig, seed: number, stepAt = 0) => {
    const u = new PolicyUpdater(c, updateGraph, {}, { threads: 1 }, { config: l, base: policy.weights, seed });
    try {
      const s = TrainState.init(Object.fromEntries(Object.entries(ad).map(([k, v]) => [k, new Float32Array(v)])));
      s.step = stepAt;
      return (await u.step(s, B, T, feeds, 1e-3)).loss;
    } finally {
      await u.release();
    }
  };
  const a = await loss(LORA, 4);
  assert.equal(await loss(LORA, 4), a, 'same seed and step: the same masks');
  assert.notEqual(await loss(LORA, 5), a, 'another seed: other masks');
  assert.notEqual(await loss(LORA, 4, 1), a, 'the next step: other masks');
  assert.notEqual(await loss(NO_DROPOUT, 4), a, 'p = 0: no masks');

  // log-probs (rollouts, evaluation, the KL reference) never drop: p = 0.3 and p = 0 agree exactly
  const build = (g: Graph, cc: LlamaConfig, b: number, tt: number, p: LlamaParams) => {
    const s = sequenceInputs(g, b, tt);
    return { batch: sequenceInputList(s), outputs: { logp: policyTokenLogProbs(cc, p, s) } };
  };
  const f1 = new PolicyForward(c, build, null, { threads: 1 }, true, { config: LORA, base: policy.weights, seed: 4 });
  const f0 = new PolicyForward(c, build, null, { threads: 1 }, true, { config: NO_DROPOUT, base: policy.weights, seed: 4 });
  try {
    const { advantages: _, ...seq } = feeds;
    assert.deepEqual((await f1.run(ad, B, T, seq)).logp, (await f0.run(ad, B, T, seq)).logp);
  } finally {
    await f1.release();
    await f0.release();
  }
});
