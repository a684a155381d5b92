import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, pcg32Reference, fnv1a32 } from '../../src/util/rng.js';

test('pcg32 matches the published pcg32-demo outputs for seed 42, stream 54', () => {
  // pcg-c-basic's pcg32-demo, "Round 1, 32bit:" line, pcg32_srandom_r(&rng, 42u, 54u).
  const expected = [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e];
  const r = new Rng(42, 54);
  assert.deepEqual(expected.map(() => r.nextUint32()), expected);
  assert.deepEqual(pcg32Reference(42n, 54n, 6), expected);
});

test('the 32-bit-halves fast path equals the BigInt twin for large seeds and streams', () => {
  for (const [seed, stream] of [
    [0, 0],
    [1, 1],
    [2 ** 32 - 1, 2 ** 31],
    [2 ** 40 + 12345, 7],
    [Number.MAX_SAFE_INTEGER, 2 ** 52 + 3],
  ] as const) {
    const r = new Rng(seed, stream);
    const got = Array.from({ length: 200 }, () => r.nextUint32());
    assert.deepEqual(got, pcg32Reference(BigInt(seed), BigInt(stream), 200), `seed ${seed} stream ${stream}`);
  }
  // independently: Python big-int pcg32 for (2^40 + 12345, 7) gives 0x46a8c825 0x7f90afbf 0x96b250ec
  const r = new Rng(2 ** 40 + 12345, 7);
  assert.deepEqual([r.nextUint32(), r.nextUint32(), r.nextUint32()], [0x46a8c825, 0x7f90afbf, 0x96b250ec]);
});

test('int is in range and unbiased enough; float in [0,1); normal has mean 0 and std 1', () => {
  const r = new Rng(7);
  const counts = [0, 0, 0, 0, 0, 0];
  const n = 60000;
  for (let i = 0; i < n; i++) {
    const k = r.int(0, 6);
    assert.ok(k >= 0 && k < 6);
    counts[k]++;
  }
  // each count ~ Binomial(60000, 1/6): mean 10000, sd ~91; 5 sd = 456
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 456, `count ${c}`);
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
    const z = r.normal();
    s += z;
    s2 += z * z;
  }
  // mean of 60000 N(0,1): sd 0.0041; variance estimate sd ~ sqrt(2/60000) = 0.0058
  assert.ok(Math.abs(s / n) < 0.02, `mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.03, `var ${s2 / n}`);
  assert.throws(() => r.int(3, 3), /lo < hi/);
  assert.throws(() => new Rng(-1), /non-negative/);
});

test('shuffle is a permutation; weightedIndex never picks a zero weight', () => {
  const r = new Rng(3);
  const a = Array.from({ length: 50 }, (_, i) => i);
  const b = r.shuffle([...a]);
  assert.notDeepEqual(b, a);
  assert.deepEqual([...b].sort((x, y) => x - y), a);
  for (let i = 0; i < 1000; i++) assert.notEqual(r.weightedIndex([1, 0, 2]), 1);
  assert.throws(() => r.weightedIndex([0, 0]), /sum to 0/);
});

test('derive gives named streams independent of draw order; state round-trips', () => {
  const a = Rng.derive(5, 'panel');
  const b = Rng.derive(5, 'panel');
  const c = Rng.derive(5, 'tasks');
  assert.equal(a.nextUint32(), b.nextUint32());
  assert.notEqual(Rng.derive(5, 'panel').nextUint32(), c.nextUint32());
  assert.equal(fnv1a32(''), 0x811c9dc5); // FNV-1a offset basis for the empty string
  assert.equal(fnv1a32('a'), 0xe40c292c); // published FNV-1a 32-bit test vector for "a"
  const r = new Rng(11);
  r.nextUint32();
  const saved = r.getState();
  const next = [r.nextUint32(), r.nextUint32()];
  const restored = Rng.fromState(saved);
  assert.deepEqual([restored.nextUint32(), restored.nextUint32()], next);
  assert.throws(() => Rng.fromState({ state: 'zz', inc: '1' }), /invalid Rng state/);
});
