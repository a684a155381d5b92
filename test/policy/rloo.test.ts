import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rlooAdvantages, rlooBaselines, whiten } from '../../src/policy/rloo.js';
import { assertClose } from '../helpers/close.js';

const all = (n: number) => Array.from({ length: n }, () => true);

test('RLOO on a hand-worked group: rewards [1, 2, 6] → advantages [−3, −1.5, 4.5]', () => {
  // baselines: (2+6)/2 = 4, (1+6)/2 = 3.5, (1+2)/2 = 1.5
  const adv = rlooAdvantages({ promptKeys: [0, 0, 0], rewards: [1, 2, 6], ended: all(3) });
  assertClose(adv, [-3, -1.5, 4.5]);
});

test('a sample that did not end contributes to no baseline', () => {
  // ended = [T, T, F, T], rewards [1, 2, 100, 6]: ended sum 9, count 3
  // b0 = (9−1)/2 = 4, b1 = (9−2)/2 = 3.5, b3 = (9−6)/2 = 1.5; the 100 is in none of them.
  // b2 (did not end) = mean of the 3 ended others = 9/3 = 3
  const b = rlooBaselines({ promptKeys: ['p', 'p', 'p', 'p'], rewards: [1, 2, 100, 6], ended: [true, true, false, true] });
  assertClose(b, [4, 3.5, 3, 1.5]);
});

test('at most one ended sample: baseline = own reward, advantage 0', () => {
  const adv = rlooAdvantages({ promptKeys: [0, 0, 1, 1], rewards: [3, 5, 7, 9], ended: [true, false, false, false] });
  assertClose(adv, [0, 0, 0, 0]);
});

test('groups are independent and identified by key, not position', () => {
  const adv = rlooAdvantages({ promptKeys: ['a', 'b', 'a', 'b'], rewards: [1, 10, 3, 20], ended: all(4) });
  // a: [1,3] → [1−3, 3−1] = [−2, 2]; b: [10,20] → [−10, 10]
  assertClose(adv, [-2, -10, 2, 10]);
});

test('invariances: +constant per prompt leaves advantages unchanged; permuting samples permutes them', () => {
  const keys = [0, 0, 0, 0, 1, 1, 1, 1];
  const r = [0.3, -1.2, 2.5, 0.7, 4, 4.5, 3.9, 5.1];
  const ended = [true, true, false, true, true, true, true, false];
  const base = rlooAdvantages({ promptKeys: keys, rewards: r, ended });
  const shifted = r.map((x, i) => x + (keys[i] === 0 ? 17 : -3));
  assertClose(rlooAdvantages({ promptKeys: keys, rewards: shifted, ended }), base, { atol: 1e-12 });
  const perm = [5, 2, 7, 0, 3, 6, 1, 4];
  const permuted = rlooAdvantages({ promptKeys: perm.map((i) => keys[i]), rewards: perm.map((i) => r[i]), ended: perm.map((i) => ended[i]) });
  assertClose(permuted, perm.map((i) => base[i]), { atol: 1e-12 });
});

test('whitening gives mean 0 and std 1; mismatched lengths are rejected', () => {
  const w = whiten([1, 2, 3, 4]);
  // mean 2.5, population std sqrt(1.25) = 1.1180
  assertClose(w, [-1.5, -0.5, 0.5, 1.5].map((x) => x / Math.sqrt(1.25)), { rtol: 1e-6 });
  assert.throws(() => rlooBaselines({ promptKeys: [0, 0], rewards: [1], ended: [true, true] }), /one entry per sample/);
});
