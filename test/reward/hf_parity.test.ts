// transformers is the reference: LlamaForCausalLM logits and LlamaForSequenceClassification scores
// vs steer's engine on the same random weights (GQA, head_dim ≠ D/H, Llama 3.1 RoPE scaling,
// tied and untied embeddings), within 1e-4; a reward model written by steer (sharded, bf16, with
// a bias) loads in transformers with the same scores minus the bias it drops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { venvPython } from '../helpers/python.js';
import { assertClose } from '../helpers/close.js';
import { runPy } from '../io/pyrun.js';
import { Graph } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import { loadModel } from '../../src/io/checkpoint.js';
import { llamaHidden, llamaInitializers, lmLogits, padBatch } from '../../src/nn/llama.js';
import { readRewardWeights, rewardParamArrays, saveRewardModel, type RewardModel } from '../../src/reward/model.js';
import { SequenceScorer } from '../../src/reward/score.js';
import type { RewardEncoder } from '../../src/reward/encode.js';

const f32 = (p: string) => {
  const b = readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

const CASES = [
  {
    name: 'GQA 4/2 heads, head_dim 12, llama3 RoPE scaling, untied, 3 labels',
    config: { vocab_size: 80, hidden_size: 32, intermediate_size: 56, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 12, rope_theta: 500000.0, max_position_embeddings: 64, rope_scaling: { rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8 }, tie_word_embeddings: false, rms_norm_eps: 1e-5 },
    labels: 3,
  },
  {
    name: 'MHA 4 heads, tied embeddings, plain RoPE, 1 label',
    config: { vocab_size: 72, hidden_size: 24, intermediate_size: 40, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 4, rope_theta: 10000.0, max_position_embeddings: 64, tie_word_embeddings: true, rms_norm_eps: 1e-6 },
    labels: 1,
  },
];

for (const spec of CASES) {
  test(`transformers parity: ${spec.name}`, async (t) => {
    const py = venvPython(t, ['torch', 'transformers']);
    if (!py) return;
    const dir = mkdtempSync(join(tmpdir(), 'steer-hf-parity-'));
    try {
      const V = spec.config.vocab_size;
      const pad = V - 1; // never inside a row, so transformers' "rightmost non-pad token" is the last real one
      const rows = [[1, 5, 9, 33, 60, 17, 17, 42, 8, 2, 30], [3, 7, 11, 4], [50, 61, 7, 19, 44, 3, 12]];
      writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...spec, seed: 3, rows, pad }));
      runPy(py, 'hf_llama_parity.py', ['make', join(dir, 'spec.json'), dir]);

      // LlamaForCausalLM logits [B, T, V] at real positions
      const lm = loadModel(join(dir, 'lm'));
      const c = lm.config;
      const pb = padBatch(rows, { side: 'right', padId: pad });
      const g = new Graph();
      const ids = g.input('ids', [pb.B, pb.T], 'int64');
      const positions = g.input('positions', [pb.B, pb.T], 'int64');
      const mask = g.input('mask', [pb.B, pb.T]);
      const p = llamaInitializers(g, c, lm.weights);
      const exe = await compile(g, { inputs: [ids, positions, mask], outputs: { logits: lmLogits(c, p, llamaHidden(c, p, { ids, positions, attentionMask: mask })) }, threads: 2 });
      const logits = (await exe.run({ ids: pb.ids, positions: pb.positions, mask: pb.mask })).logits as Float32Array;
      await exe.release();
      const ref = f32(join(dir, 'logits.f32'));
      let maxAbs = 0;
      rows.forEach((r, b) => {
        const a = logits.subarray(b * pb.T * V, (b * pb.T + r.length) * V);
        const e = ref.subarray(b * pb.T * V, (b * pb.T + r.length) * V);
        for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(e[i]));
        assertClose(a, e, { atol: 1e-4, rtol: 0, what: `logits row ${b}` });
      });
      assert.ok(maxAbs > 0.5, `the logits are not trivially small (max |logit| ${maxAbs})`);

      // LlamaForSequenceClassification as transformers saved it: slots from id2label, pad id read
      const rm = readRewardWeights(join(dir, 'rm'));
      assert.deepEqual(rm.attributes, spec.labels === 1 ? ['reward'] : ['LABEL_0', 'LABEL_1', 'LABEL_2']);
      assert.equal(rm.padTokenId, pad);
      assert.equal(rm.info, null);
      const scorer = new SequenceScorer(rm.config, spec.labels, { maxLength: 64, padId: pad, rows: 4, threads: 2 });
      const scores = await scorer.score(rewardParamArrays(rm), rows);
      assertClose(scores, f32(join(dir, 'scores.f32')), { atol: 1e-4, rtol: 0, what: 'sequence-classification scores' });

      // steer writes it back (bf16, sharded, with a bias): transformers loads it; scores = steer's − bias
      const bias = Float32Array.from({ length: spec.labels }, (_, k) => 0.5 - k);
      const encoder: RewardEncoder = { format: 'transcript', vocabSize: V, padId: pad, encode: () => [], files: () => ({}) };
      const attributes = spec.labels === 1 ? ['reward'] : ['helpfulness', 'correctness', 'verbosity'];
      const model: RewardModel = {
        config: rm.config,
        weights: rm.weights,
        head: { weight: rm.head.weight, bias },
        info: { format: 'steer-reward-model', version: 1, attributes, rewardWeights: attributes.map(() => 1), textFormat: 'transcript', maxLength: 64, loss: 'scaled-bt', initFrom: 'test' },
        encoder,
      };
      const out = saveRewardModel(join(dir, 'steer_rm'), model, {}, { dtype: 'BF16', maxShardBytes: 12_000 });
      assert.ok(readdirSync(out).filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length > 1, 'sharded');
      const hfConfig = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      assert.deepEqual(hfConfig.architectures, ['LlamaForSequenceClassification']);
      const back = readRewardWeights(out);
      assert.equal(back.dtype, 'BF16');
      assert.deepEqual(back.attributes, attributes);
      assert.deepEqual(back.head.bias, bias);
      const steerScores = await scorer.score(rewardParamArrays(back), rows);
      const hf = JSON.parse(runPy(py, 'hf_llama_parity.py', ['score', join(dir, 'spec.json'), out]));
      assert.equal(hf.class, 'LlamaForSequenceClassification');
      assert.equal(hf.num_labels, spec.labels);
      assert.deepEqual(Object.values(hf.id2label), attributes);
      assert.equal(hf.pad_token_id, pad);
      const minusBias = steerScores.map((s, i) => s - bias[i % spec.labels]);
      assertClose(minusBias, (hf.scores as number[][]).flat(), { atol: 1e-4, rtol: 0, what: 'transformers scores of the steer-saved model (+ bias)' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
