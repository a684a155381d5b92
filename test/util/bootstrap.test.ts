import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMean, pairedBootstrapDiff } from '../../src/util/bootstrap.js';

test('bootstrapMean: the interval of a 0/1 mean is the normal one, ±1.96·√(p(1−p)/n)', () => {
  // 400 items, 200 ones: p = 0.5, se = √(0.25/400) = 0.025, so about [0.451, 0.549]
  const xs = Array.from({ length: 400 }, (_, i) => i % 2);
  const b = bootstrapMean(xs, { seed: 1 });
  assert.equal(b.estimate, 0.5);
  assert.ok(Math.abs(b.lower - 0.451) < 0.008 && Math.abs(b.upper - 0.549) < 0.008, JSON.stringify(b));
  // seeded: the same interval again; another seed moves it a little
  assert.deepEqual(bootstrapMean(xs, { seed: 1 }), b);
  assert.notDeepEqual(bootstrapMean(xs, { seed: 2 }), b);
});

test('pairedBootstrapDiff: a constant difference has a zero-width interval; pairing cancels the items\' spread', () => {
  const b = Array.from({ length: 50 }, (_, i) => (i * 7919) % 13);
  const a = b.map((x) => x + 0.25);
  const d = pairedBootstrapDiff(a, b, { rounds: 500 });
  assert.ok(Math.abs(d.estimate - 0.25) < 1e-12 && Math.abs(d.lower - 0.25) < 1e-12 && Math.abs(d.upper - 0.25) < 1e-12, JSON.stringify(d));
  assert.throws(() => pairedBootstrapDiff([1, 2], [1]), /paired/);
  assert.throws(() => bootstrapMean([]), /no items/);
});
