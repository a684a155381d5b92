import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXPO_ALPHA, expo, expoModel, extrapolate } from '../../src/reward/expo.js';
import { loadRewardModel, saveRewardModel } from '../../src/reward/model.js';
import { isUserError } from '../../src/util/errors.js';
import { assertClose } from '../helpers/close.js';
import { randomRewardModel, tinyConfig as config } from './helpers.js';
import { floatToBfloat16 } from '../../src/io/safetensors.js';

test('extrapolate: hand-worked values, α = 0 is the weak model and α = 1 the strong one bit for bit', () => {
  const weak = Float32Array.of(1, -2, 0.5, 1e30);
  const strong = Float32Array.of(2, -2, 1.5, 3e-30);
  // α = 1.52: 1 + 1.52·(2 − 1) = 2.52; −2 + 1.52·0 = −2; 0.5 + 1.52·1 = 2.02
  assertClose(Array.from(extrapolate(weak, strong, 1.52)).slice(0, 3), [2.52, -2, 2.02], { rtol: 1e-7 });
  assert.deepEqual(extrapolate(weak, strong, 0), weak);
  // θ₁ + 1·(θ₂ − θ₁) would give 1e30 + (3e-30 − 1e30) = 0 for the last element; (1 − α)θ₁ + αθ₂ gives 3e-30
  assert.deepEqual(extrapolate(weak, strong, 1), strong);
  assertClose(Array.from(extrapolate(weak, strong, 0.5)).slice(0, 3), [1.5, -2, 1], { rtol: 1e-7 });
});

test('expo over two saved reward models: every tensor extrapolated, α = 0 → weak, α = 1 → strong, the default α is 1.52', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-expo-'));
  try {
    const weak = saveRewardModel(join(dir, 'weak'), randomRewardModel(1));
    const strong = saveRewardModel(join(dir, 'strong'), randomRewardModel(2));
    const w = loadRewardModel(weak);
    const s = loadRewardModel(strong);
    for (const [alpha, expected] of [[0, w], [1, s]] as const) {
      const out = loadRewardModel(expo(weak, strong, alpha, join(dir, `a${alpha}`)));
      for (const [name, t] of expected.weights) assert.deepEqual(out.weights.get(name)!.data, t.data, `${name} at α = ${alpha}`);
      assert.deepEqual(out.head.weight, expected.head.weight);
      assert.deepEqual(out.head.bias, expected.head.bias);
      assert.equal(out.info.loss, null);
      assert.deepEqual(out.info.expo, { weak, strong, alpha });
    }
    assert.equal(EXPO_ALPHA, 1.52);
    const m = expoModel(w, s, EXPO_ALPHA);
    assert.equal(m.weights.size, w.weights.size, 'the untied lm_head is extrapolated too');
    const name = 'model.layers.0.mlp.up_proj.weight';
    const a = w.weights.get(name)!.data;
    const b = s.weights.get(name)!.data;
    for (const i of [0, 7, 100]) assertClose(m.weights.get(name)!.data[i], a[i] + 1.52 * (b[i] - a[i]), { rtol: 1e-6, atol: 1e-7 });
    assertClose(m.head.bias[1], 1 + 1.52 * (1 - 1), { rtol: 1e-7 }); // both biases init to slot index 1
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('expo refuses models of different shapes or heads, naming both', () => {
  const a = randomRewardModel(1);
  assert.throws(() => expoModel(a, randomRewardModel(2, ['helpfulness', 'correctness'], config({ hiddenSize: 32, headDim: 16 })), 1.5, { weak: 'A', strong: 'B' }), (e) => isUserError(e) && /A vs B: the two models have different architectures[\s\S]*fix: pass two reward models trained from the same starting model/.test(e.message));
  assert.throws(() => expoModel(a, randomRewardModel(2, ['reward']), 1.5, { weak: 'A', strong: 'B' }), (e) => isUserError(e) && /different slots[\s\S]*fix: initialise the strong model from the weak one/.test(e.message));
  assert.throws(() => expoModel(a, a, NaN), (e) => isUserError(e) && /--alpha: alpha must be a finite number/.test(e.message));
});

test('streaming expo over sharded bf16 models in small chunks = the in-memory formula rounded to bf16; shards and dtype kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-expo-stream-'));
  try {
    const w = randomRewardModel(3);
    const s = randomRewardModel(4);
    // the strong model has a bias, the weak one none on disk (zeros): the union is extrapolated
    w.head.bias.fill(0);
    const weak = saveRewardModel(join(dir, 'weak'), w, {}, { dtype: 'BF16', maxShardBytes: 6_000 });
    const strong = saveRewardModel(join(dir, 'strong'), s, {}, { dtype: 'BF16', maxShardBytes: 6_000 });
    const progress: number[] = [];
    const out = expo(weak, strong, EXPO_ALPHA, join(dir, 'out'), { chunkElements: 100, onProgress: (done, total) => progress.push(done / total) });
    const shards = readdirSync(out).filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
    assert.ok(shards.length > 1, 'sharded like the strong model');
    assert.equal(progress[progress.length - 1], 1);
    const got = loadRewardModel(out);
    const ref = expoModel(loadRewardModel(weak), loadRewardModel(strong), EXPO_ALPHA);
    const bf16 = (x: Float32Array) => Float32Array.from(x, (v) => new Float32Array(new Uint32Array([(floatToBfloat16(v) << 16) >>> 0]).buffer)[0]);
    for (const [name, t] of ref.weights) assert.deepEqual(got.weights.get(name)!.data, bf16(t.data), name);
    assert.deepEqual(got.head.weight, bf16(ref.head.weight));
    assert.deepEqual(got.head.bias, bf16(ref.head.bias));
    assert.deepEqual(got.info.expo, { weak, strong, alpha: EXPO_ALPHA });
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).architectures, ['LlamaForSequenceClassification']);
    // a shard missing from the weak model's index: refused before anything is written
    unlinkSync(join(weak, readdirSync(weak).filter((f) => f.startsWith('model-'))[1]));
    assert.throws(() => expo(weak, strong, EXPO_ALPHA, join(dir, 'never')), (e) => isUserError(e) && /shard named in the index is missing/.test(e.message));
    assert.equal(existsSync(join(dir, 'never')), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no temporary directory left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
