// The one tolerance helper. NaN never compares equal; infinities only equal themselves.
import assert from 'node:assert/strict';

export function isClose(a: number, b: number, rtol = 1e-6, atol = 1e-9): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

/** Assert every element of `actual` is close to `expected`; the message names the first bad index. */
export function assertClose(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  opts: { rtol?: number; atol?: number; what?: string } = {},
): void {
  const { rtol = 1e-6, atol = 1e-9, what = 'value' } = opts;
  const a = typeof actual === 'number' ? [actual] : actual;
  const e = typeof expected === 'number' ? [expected] : expected;
  assert.equal(a.length, e.length, `${what}: length ${a.length} != expected ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!isClose(a[i], e[i], rtol, atol)) {
      assert.fail(`${what}[${i}] = ${a[i]}, expected ${e[i]} (rtol ${rtol}, atol ${atol})`);
    }
  }
}
