// LoRA against peft: an adapter saved by peft gives the same logits in steer (adapted and merged),
// and one saved by steer gives the same logits in peft; plus the formula by hand and the errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { engineLogits, readF32 } from '../helpers/logits.js';
import { venvPython } from '../helpers/python.js';
import { assertClose } from '../helpers/close.js';
import { runPy } from '../io/pyrun.js';
import { loadModel } from '../../src/io/checkpoint.js';
import { loadPeftAdapter, savePeftAdapter } from '../../src/io/peft.js';
import type { LlamaConfig } from '../../src/nn/config.js';
import type { LlamaWeights } from '../../src/nn/weights.js';
import { checkLoraConfig, initLora, loraWeightShapes, mergeLora, type LoraConfig } from '../../src/nn/lora.js';
import { Rng } from '../../src/util/rng.js';
import { isUserError } from '../../src/util/errors.js';

function realPositions(x: Float32Array, rows: number[][], T: number, V: number): Float32Array {
  return Float32Array.from(rows.flatMap((r, b) => Array.from(x.subarray(b * T * V, (b * T + r.length) * V))));
}

test('mergeLora: W + (alpha / r) · B A by hand', () => {
  const c = { hiddenSize: 2, intermediateSize: 2, numHeads: 1, numKvHeads: 1, headDim: 2, numLayers: 1, vocabSize: 4 } as LlamaConfig;
  const lora: LoraConfig = { rank: 1, alpha: 2, dropout: 0, targets: ['q_proj'] };
  const base: LlamaWeights = new Map([['model.layers.0.self_attn.q_proj.weight', { shape: [2, 2], data: Float32Array.of(1, 0, 0, 1) }]]);
  const adapter: LlamaWeights = new Map([
    ['model.layers.0.self_attn.q_proj.lora_A.weight', { shape: [1, 2], data: Float32Array.of(3, 4) }],
    ['model.layers.0.self_attn.q_proj.lora_B.weight', { shape: [2, 1], data: Float32Array.of(0.5, -1) }],
  ]);
  // s = 2; B A = [[1.5, 2], [−3, −4]]; W' = I + 2 · B A = [[4, 4], [−6, −7]]
  assert.deepEqual([...mergeLora(c, base, lora, adapter).get('model.layers.0.self_attn.q_proj.weight')!.data], [4, 4, -6, -7]);
  assert.deepEqual(loraWeightShapes({ ...c, numLayers: 1, intermediateSize: 5 }, { ...lora, targets: ['down_proj'] }), [
    ['model.layers.0.mlp.down_proj.lora_A.weight', [1, 5]],
    ['model.layers.0.mlp.down_proj.lora_B.weight', [2, 1]],
  ]);
  assert.throws(() => checkLoraConfig({ ...lora, targets: ['qkv' as never] }, '--lora-targets'), (e) => isUserError(e) && /--lora-targets[\s\S]*one of q_proj/.test(e.message));
  assert.throws(() => checkLoraConfig({ ...lora, rank: 0 }, '--lora-rank'), (e) => isUserError(e) && /invalid LoRA rank/.test(e.message));
});

test('peft parity: a peft adapter in steer (adapted and merged) and a steer adapter in peft give the same logits; an adapter for another base is refused', async (t) => {
  const py = venvPython(t, ['torch', 'transformers', 'peft']);
  if (!py) return;
  const dir = mkdtempSync(join(tmpdir(), 'steer-peft-'));
  try {
    const spec = {
      config: { vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: false },
      rank: 4, alpha: 12, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      seed: 5, rows: [[1, 5, 9, 33, 60, 17, 42], [3, 7, 11, 4]], pad: 63,
    };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    runPy(py, 'peft_parity.py', ['make', join(dir, 'spec.json'), dir]);
    const base = loadModel(join(dir, 'base'));
    const c = base.config;
    const T = 7;
    const V = c.vocabSize;
    // peft → steer
    const a = loadPeftAdapter(join(dir, 'peft_adapter'), c);
    assert.deepEqual(a.lora, { rank: 4, alpha: 12, dropout: 0.1, targets: spec.targets });
    assert.equal(a.taskType, 'CAUSAL_LM');
    const ref = realPositions(readF32(join(dir, 'peft_logits.f32')), spec.rows, T, V);
    const plain = realPositions(await engineLogits(c, base.weights, spec.rows, spec.pad), spec.rows, T, V);
    assert.ok(plain.some((x, i) => Math.abs(x - ref[i]) > 1e-2), 'the adapter changes the logits');
    assertClose(realPositions(await engineLogits(c, base.weights, spec.rows, spec.pad, a), spec.rows, T, V), ref, { atol: 1e-4, rtol: 0, what: 'steer + peft adapter' });
    assertClose(realPositions(await engineLogits(c, mergeLora(c, base.weights, a.lora, a.weights), spec.rows, spec.pad), spec.rows, T, V), ref, { atol: 1e-4, rtol: 0, what: 'steer, merged' });
    // steer → peft
    const lora: LoraConfig = { rank: 2, alpha: 5, dropout: 0, targets: ['q_proj', 'v_proj', 'down_proj'] };
    const mine = initLora(c, lora, new Rng(9));
    const rng = new Rng(10);
    for (const [n, t] of mine) if (n.endsWith('lora_B.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal(0, 0.2);
    savePeftAdapter(join(dir, 'steer_adapter'), { lora, weights: mine, modules: new Map(), taskType: 'CAUSAL_LM', baseModel: join(dir, 'base') });
    const facts = JSON.parse(runPy(py, 'peft_parity.py', ['logits', join(dir, 'spec.json'), dir, join(dir, 'steer_adapter'), join(dir, 'steer_adapter_logits.f32')]));
    assert.deepEqual(facts, { r: 2, targets: ['down_proj', 'q_proj', 'v_proj'] });
    assertClose(realPositions(await engineLogits(c, base.weights, spec.rows, spec.pad, { lora, weights: mine }), spec.rows, T, V), realPositions(readF32(join(dir, 'steer_adapter_logits.f32')), spec.rows, T, V), { atol: 1e-4, rtol: 0, what: 'peft + steer adapter' });
    // an adapter for another base (hidden 32 vs 24): refused, naming the tensor and the fix
    const other = { ...c, hiddenSize: 24, headDim: 6 };
    assert.throws(() => loadPeftAdapter(join(dir, 'peft_adapter'), other), (e) => isUserError(e) && /does not fit the base model[\s\S]*another base model/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
