import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewardWithKl, sequenceKl, tokenKl } from '../../src/policy/kl.js';
import { assertClose } from '../helpers/close.js';

test('KL is exactly 0 when policy equals reference, for every form', () => {
  const lp = [-0.1, -2.3, -0.7];
  for (const form of ['abs', 'k1', 'k3'] as const) assert.equal(sequenceKl(lp, lp, form), 0);
});

test('KL forms on hand-worked values', () => {
  // d = log π − log π_ref = −1 − (−1.5) = 0.5
  assertClose(tokenKl(-1, -1.5, 'k1'), 0.5);
  assertClose(tokenKl(-1.5, -1, 'abs'), 0.5);
  // k3 with d = 0.5: exp(−0.5) − (−0.5) − 1 = 0.6065307 + 0.5 − 1 = 0.1065307
  assertClose(tokenKl(-1, -1.5, 'k3'), Math.exp(-0.5) - 0.5, { rtol: 1e-12 });
  // token mean of |d|: d = [0.5, −0.25] → (0.5 + 0.25)/2 = 0.375; k1 mean = 0.125
  assertClose(sequenceKl([-1, -2], [-1.5, -1.75], 'abs'), 0.375);
  assertClose(sequenceKl([-1, -2], [-1.5, -1.75], 'k1'), 0.125);
  assert.equal(sequenceKl([], [], 'abs'), 0);
  assert.throws(() => sequenceKl([1], [], 'abs'), /logp has 1 tokens but logpRef has 0/);
});

test('reward with KL: r − β·KL, with optional clipping of the RM reward', () => {
  assertClose(rewardWithKl(2, 0.5, 0.01), 1.995);
  assertClose(rewardWithKl(9, 0.5, 0.1, 3), 2.95);
  assertClose(rewardWithKl(-9, 0, 0.1, 3), -3);
});
