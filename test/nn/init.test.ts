import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initLlamaWeights } from '../../src/nn/init.js';
import { checkLlamaWeights, expectedWeightShapes } from '../../src/nn/weights.js';
import type { LlamaConfig } from '../../src/nn/config.js';
import { Rng } from '../../src/util/rng.js';

const c: LlamaConfig = {
  vocabSize: 50, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8,
  rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 64, tieWordEmbeddings: false, bosTokenId: 1, eosTokenIds: [2],
};

test('initLlamaWeights: every weight of the config, norms at 1, matrices N(0, 0.02²), seeded', () => {
  const w = initLlamaWeights(c, new Rng(3));
  checkLlamaWeights(c, new Map(w), 'init'); // exactly the config's weights and shapes
  assert.equal(w.size, expectedWeightShapes(c).length);
  assert.ok(w.get('model.norm.weight')!.data.every((x) => x === 1));
  const emb = w.get('model.embed_tokens.weight')!.data; // 50·32 = 1600 draws
  const mean = emb.reduce((a, b) => a + b, 0) / emb.length;
  const std = Math.sqrt(emb.reduce((a, b) => a + (b - mean) ** 2, 0) / emb.length);
  // sample std of 1600 N(0, 0.02²) draws: 0.02 ± 0.02/√3200 ≈ ±0.00035; mean within ±3·0.02/40 = 0.0015
  assert.ok(Math.abs(std - 0.02) < 0.0015, `std ${std}`);
  assert.ok(Math.abs(mean) < 0.0015, `mean ${mean}`);
  assert.deepEqual(initLlamaWeights(c, new Rng(3)).get('lm_head.weight')!.data, w.get('lm_head.weight')!.data);
  assert.notDeepEqual(initLlamaWeights(c, new Rng(4)).get('lm_head.weight')!.data, w.get('lm_head.weight')!.data);
});
