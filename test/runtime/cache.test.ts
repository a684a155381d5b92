import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeCache } from '../../src/runtime/cache.js';

test('ShapeCache builds once per key, shares the pending build, retries a failed one, releases all', async () => {
  const cache = new ShapeCache<{ n: number; release(): void }>();
  let builds = 0;
  const released: number[] = [];
  const make = (n: number) => async () => {
    builds++;
    await new Promise((r) => setTimeout(r, 5));
    return { n, release: () => void released.push(n) };
  };
  const [a, b] = await Promise.all([cache.get('1x8', make(1)), cache.get('1x8', make(99))]);
  assert.equal(a, b);
  assert.equal(builds, 1);
  await cache.get('2x8', make(2));
  assert.equal(builds, 2);
  await assert.rejects(cache.get('bad', async () => { throw new Error('no'); }), /no/);
  await new Promise((r) => setImmediate(r));
  assert.equal(cache.has('bad'), false);
  assert.equal((await cache.get('bad', make(3))).n, 3);
  assert.deepEqual(cache.keys().sort(), ['1x8', '2x8', 'bad']);
  await cache.release();
  assert.deepEqual(released.sort(), [1, 2, 3]);
  assert.equal(cache.size, 0);
});

test('ShapeCache.release reaches an executable held in an `exe` field', async () => {
  const cache = new ShapeCache<{ exe: { release(): Promise<void> } }>();
  let freed = 0;
  await cache.get('k', async () => ({ exe: { release: async () => void freed++ } }));
  await cache.release();
  assert.equal(freed, 1);
});
