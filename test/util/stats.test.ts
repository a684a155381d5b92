import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose } from '../helpers/close.js';
import { mean, median, percentile, pythonRound, quantile, sem, sigmoid, std } from '../../src/util/stats.js';
import { MT19937 } from '../../src/evaluate/mt19937.js';

test('mean, std (ddof 1 and 0), sem by hand', () => {
  // [1, 2, 3, 4]: mean 2.5, squared deviations 2.25+.25+.25+2.25 = 5
  assertClose(mean([1, 2, 3, 4]), 2.5);
  assertClose(std([1, 2, 3, 4]), Math.sqrt(5 / 3));
  assertClose(std([1, 2, 3, 4], 0), Math.sqrt(5 / 4));
  assertClose(sem([1, 2, 3, 4]), Math.sqrt(5 / 3) / 2);
  assert.ok(Number.isNaN(mean([])));
  assert.ok(Number.isNaN(std([1])), 'one value has no sample std (pandas gives NaN)');
  assert.ok(Number.isNaN(mean([1, NaN])));
});

test('quantiles interpolate linearly like numpy', () => {
  // [10, 20, 30, 40]: h = q·3; q = .025 → 10 + .075·10 = 10.75; q = .975 → 30 + .925·10 = 39.25
  assertClose(percentile([40, 10, 30, 20], 2.5), 10.75);
  assertClose(percentile([40, 10, 30, 20], 97.5), 39.25);
  assertClose(median([3, 1, 2]), 2);
  assertClose(quantile([1, 2], 0.05), 1.05);
  assert.throws(() => quantile([1], 1.5), /q must be in \[0, 1\]/);
});

test('sigmoid stays finite at the extremes', () => {
  assertClose(sigmoid(0), 0.5);
  assert.equal(sigmoid(800), 1);
  assert.equal(sigmoid(-800), 0);
  assert.ok(Number.isNaN(sigmoid(NaN)));
});

test("pythonRound matches Python's round (ties to even on the exact binary value)", () => {
  // values checked with CPython 3.11: round(0.125, 2) = 0.12, round(0.375, 2) = 0.38,
  // round(2.675, 2) = 2.67 (2.675 is 2.67499999… in binary), round(87.2933891525847, 2) = 87.29
  assert.equal(pythonRound(0.125, 2), 0.12);
  assert.equal(pythonRound(0.375, 2), 0.38);
  assert.equal(pythonRound(2.675, 2), 2.67);
  assert.equal(pythonRound(87.2933891525847, 2), 87.29);
  assert.equal(pythonRound(-1.005, 2), -1);
  assert.equal(pythonRound(2.5), 2);
  assert.equal(pythonRound(3.5), 4);
  assert.ok(Number.isNaN(pythonRound(NaN, 2)));
});

test('MT19937 reproduces numpy RandomState(42) draw for draw', () => {
  // numpy: np.random.RandomState(42).randint(0, 2**32, size=5, dtype=np.uint64)
  const r = new MT19937(42);
  assert.deepEqual([0, 1, 2, 3, 4].map(() => r.nextUint32()), [1608637542, 3421126067, 4083286876, 787846414, 3143890026]);
  // numpy: np.random.RandomState(42).randint(0, 1936, size=10)
  assert.deepEqual(Array.from(new MT19937(42).randintArray(1936, 10)), [1126, 1459, 860, 1294, 1130, 1095, 1724, 1044, 1638, 121]);
  // numpy: np.random.seed(42); np.random.choice(list(range(7)), size=10, replace=True)
  assert.deepEqual(Array.from(new MT19937(42).randintArray(7, 10)), [6, 3, 4, 6, 2, 4, 4, 6, 1, 2]);
  assert.equal(new MT19937(0).randint(1), 0);
  assert.throws(() => new MT19937(-1), /seed must be an integer in \[0, 2\^32\)/);
  assert.throws(() => new MT19937(1).randint(0), /n must be an integer in \[1, 2\^32\]/);
});
