// Scoring: a row's reward does not depend on the rows beside it, the padding, the bucket or the
// order; it equals the plain-loop reference model (src/nn/reference.ts hidden state · head); slots
// merge with the model's weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RewardScorer, scoreRewardModel } from '../../src/reward/score.js';
import { lengthBucket } from '../../src/train/batches.js';
import { saveRewardModel } from '../../src/reward/model.js';
import { mergeSlots, rewardWeights, defaultRewardWeights } from '../../src/reward/head.js';
import { referenceHidden } from '../../src/nn/reference.js';
import { isUserError } from '../../src/util/errors.js';
import { assertClose } from '../helpers/close.js';
import { randomRewardModel } from './helpers.js';

const rows = [
  { prompt: 'How many r in strawberry?', response: '3' },
  { prompt: 'Spell cat.', response: 'c-a-t, that is how you spell it.' },
  { prompt: [{ role: 'user' as const, content: 'What is 2+2?' }, { role: 'assistant' as const, content: '4' }, { role: 'user' as const, content: 'And 3+4?' }], response: 'it is 7' },
  { prompt: 'Reverse dog.', response: 'god' },
];

test('scores equal the reference model and do not depend on batch, padding, bucket or order', async () => {
  const m = randomRewardModel(5, ['helpfulness', 'correctness', 'coherence']);
  m.info.rewardWeights = [0.5, -1, 2];
  const scorer = new RewardScorer(m, { rows: 3 }); // 4 rows → two runs, the second padded with dummy rows
  const all = await scorer.score(rows);
  const D = m.config.hiddenSize;
  rows.forEach((r, i) => {
    const ids = scorer.encode(r.prompt, r.response);
    const h = referenceHidden(m.config, m.weights, ids); // [len, D]
    const last = h.subarray((ids.length - 1) * D, ids.length * D);
    const slots = m.info.attributes.map((_, a) => m.head.bias[a] + last.reduce((s, x, d) => s + x * m.head.weight[a * D + d], 0));
    assertClose(Object.values(all[i].slots), slots, { rtol: 1e-4, atol: 1e-5, what: `row ${i} slots` });
    assertClose(all[i].reward, 0.5 * slots[0] - slots[1] + 2 * slots[2], { rtol: 1e-4, atol: 1e-5, what: `row ${i} reward` });
  });
  const alone = await Promise.all(rows.map(async (r) => (await scorer.score([r]))[0].reward));
  assertClose(alone, all.map((s) => s.reward), { rtol: 1e-5, atol: 1e-6, what: 'one at a time' });
  const reversed = (await scorer.score([...rows].reverse())).map((s) => s.reward).reverse();
  assertClose(reversed, all.map((s) => s.reward), { rtol: 1e-5, atol: 1e-6, what: 'reversed order' });
});

test('scoreRewardModel on a saved directory gives the in-memory scores', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-score-'));
  try {
    const m = randomRewardModel(6);
    const saved = saveRewardModel(join(dir, 'rm'), m);
    const a = await scoreRewardModel(saved, rows);
    const b = await scoreRewardModel(m, rows);
    assert.deepEqual(a, b);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('slot merging: one-hot slot, Nemotron weights, explicit weights; errors name the fix', () => {
  const attrs = ['helpfulness', 'correctness', 'coherence', 'complexity', 'verbosity'];
  assert.deepEqual(rewardWeights(attrs, 'correctness'), [0, 1, 0, 0, 0]);
  assert.deepEqual(defaultRewardWeights(attrs), [0.3, 0.74, 0.46, 0.47, -0.33]);
  assert.deepEqual(defaultRewardWeights(['reward']), [1]);
  assert.deepEqual(rewardWeights(attrs, { helpfulness: 1, verbosity: -0.5 }), [1, 0, 0, 0, -0.5]);
  // [4, 3, 4, 2, 1] with Nemotron weights: 1.2 + 2.22 + 1.84 + 0.94 − 0.33 = 5.87
  assertClose(mergeSlots([4, 3, 4, 2, 1], defaultRewardWeights(attrs)), [5.87], { rtol: 1e-12 });
  assert.throws(() => rewardWeights(attrs, 'humor'), (e) => isUserError(e) && /no slot "humor"[\s\S]*fix: choose a slot/.test(e.message));
  assert.throws(() => rewardWeights(['reward', 'humor'], 'nemotron'), (e) => isUserError(e) && /also has reward, humor[\s\S]*fix: pick one slot/.test(e.message));
  assert.throws(() => rewardWeights(attrs, { humor: 1 }), (e) => isUserError(e) && /unknown slot "humor"/.test(e.message));
});

test('length buckets: multiples of the width, capped at maxLength (the one rule of src/train/batches.ts)', () => {
  assert.equal(lengthBucket(1, 32, 100), 32);
  assert.equal(lengthBucket(33, 32, 100), 64);
  assert.equal(lengthBucket(97, 32, 100), 100); // ⌈97/32⌉·32 = 128, capped at 100
  assert.equal(lengthBucket(20, 16, 100), 32);
  assert.equal(lengthBucket(0, 16, 100), 16); // an empty length still gets one bucket
});
