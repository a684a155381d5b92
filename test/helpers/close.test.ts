import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isClose, assertClose } from './close.js';

test('isClose: tolerance, NaN never equal, infinities only to themselves', () => {
  assert.equal(isClose(1, 1 + 1e-7), true);
  assert.equal(isClose(1, 1.01), false);
  assert.equal(isClose(NaN, NaN), false);
  assert.equal(isClose(Infinity, Infinity), true);
  assert.equal(isClose(Infinity, 1e308), false);
  assert.throws(() => assertClose([1, 2], [1, 2.1], { what: 'x' }), /x\[1\] = 2, expected 2\.1/);
  assert.throws(() => assertClose([NaN], [NaN]), /expected NaN/);
});
