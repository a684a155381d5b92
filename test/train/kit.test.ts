// The trainer kit (src/train/batches.ts, steps.ts, options.ts): epochs cross into the next one and
// never skip an item, one length-bucket rule, one weight-decay rule, one compiled step per shape
// that is released (a session shared by two executables survives the first release), and one
// options schema whose defaults and bounds the library applies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { Graph } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import { TrainState } from '../../src/train/optim.js';
import { epochOrder, lengthBucket, nextBatch, stepSeed, FIRST_ITEM } from '../../src/train/batches.js';
import { ShapeSteps, noDecayNames } from '../../src/train/steps.js';
import { parseTrainerOptions, scheduleFor, trainerFields } from '../../src/train/options.js';
import { isUserError } from '../../src/util/errors.js';
import { assertClose } from '../helpers/close.js';

test('batches walk shuffled epochs and cross into the next one: every item once per epoch, none skipped', () => {
  // 10 items, batches of 4: steps take e0[0..4), e0[4..8), e0[8..10) ++ e1[0..2), e1[2..6)
  const e0 = epochOrder(10, 7, 'x/epoch', 0);
  const e1 = epochOrder(10, 7, 'x/epoch', 1);
  assert.deepEqual([...e0].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(e0, e1);
  let cur = FIRST_ITEM;
  const got: number[][] = [];
  for (let s = 0; s < 4; s++) {
    const n = nextBatch(10, 4, cur, 7, 'x/epoch');
    got.push(n.indices);
    cur = n.cursor;
  }
  assert.deepEqual(got, [e0.slice(0, 4), e0.slice(4, 8), [...e0.slice(8), ...e1.slice(0, 2)], e1.slice(2, 6)]);
  assert.deepEqual(cur, { epoch: 1, index: 6 });
  // a resumed cursor continues exactly
  assert.deepEqual(nextBatch(10, 4, { epoch: 1, index: 2 }, 7, 'x/epoch').indices, e1.slice(2, 6));
  // the step seed depends on every part and is a 32-bit integer
  assert.notEqual(stepSeed(0, 'rl', 1), stepSeed(0, 'rl', 2));
  assert.ok(Number.isInteger(stepSeed(3, 'rl', 9)) && stepSeed(3, 'rl', 9) < 2 ** 32);
});

test('length buckets: ⌈len / width⌉ · width capped at max', () => {
  assert.equal(lengthBucket(17, 16, 96), 32);
  assert.equal(lengthBucket(16, 16, 96), 16);
  assert.equal(lengthBucket(95, 16, 90), 90);
});

test('weight decay skips exactly the 1-D parameters (norm gains, biases)', () => {
  const g = new Graph();
  const ps = [g.input('model.norm.weight', [8]), g.input('score.bias', [2]), g.input('model.embed_tokens.weight', [10, 8]), g.input('lora_A', [2, 8])];
  assert.deepEqual(noDecayNames(ps), ['model.norm.weight', 'score.bias']);
});

test('one compiled step per shape; accumulation over two micro-batches equals one step on both; release frees them', async () => {
  // loss of a micro-batch of n rows: mean((x·w − y)²); w scalar-vector of 2
  const trace = ([n]: readonly number[]) => {
    const g = new Graph();
    const w = g.input('w', [2]);
    const x = g.input('x', [n, 2]);
    const y = g.input('y', [n]);
    const loss = x.matmul(w.reshape([2, 1])).reshape([n]).sub(y).square().mean();
    return { loss, params: [w], batch: [x, y] };
  };
  const X = [1, 2, 3, -1, 0.5, 0.5, -2, 1];
  const Y = [1, -1, 2, 0];
  const steps = new ShapeSteps(trace, { maxGradNorm: 0 }, { threads: 1 });
  const whole = TrainState.init({ w: Float32Array.of(0.3, -0.2) });
  await steps.step(whole, [{ shape: [4], feeds: { x: Float32Array.from(X), y: Float32Array.from(Y) } }], 0.01);
  const halves = TrainState.init({ w: Float32Array.of(0.3, -0.2) });
  const r = await steps.step(halves, [0, 1].map((h) => ({ shape: [2], feeds: { x: Float32Array.from(X.slice(4 * h, 4 * h + 4)), y: Float32Array.from(Y.slice(2 * h, 2 * h + 2)) } })), 0.01);
  // the mean of the two half-batch gradients is the whole batch's gradient: the same Adam step
  assertClose(Array.from(halves.params.w as Float32Array), Array.from(whole.params.w as Float32Array), { rtol: 1e-5 });
  // loss before the update: rows' residuals x·w − y = [0.3−0.4−1, 0.9+0.2+1, 0.15−0.1−2, −0.6−0.2−0] → mean square
  const res = [-1.1, 2.1, -1.95, -0.8];
  assertClose(r.loss, ((res[0] ** 2 + res[1] ** 2) / 2 + (res[2] ** 2 + res[3] ** 2) / 2) / 2, { rtol: 1e-5 });
  await steps.release();
});

test('a session shared by two executables of the same graph survives the first release', async () => {
  const build = () => {
    const g = new Graph();
    const x = g.input('x', [2]);
    return { g, x, y: x.mul(3) };
  };
  const a = build();
  const b = build();
  const ea = await compile(a.g, { inputs: [a.x], outputs: { y: a.y }, threads: 1 });
  const eb = await compile(b.g, { inputs: [b.x], outputs: { y: b.y }, threads: 1 });
  await ea.release();
  await ea.release(); // twice is harmless
  assert.deepEqual(Array.from((await eb.run({ x: Float32Array.of(1, 2) })).y as Float32Array), [3, 6]);
  await eb.release();
});

test('one options schema: defaults per trainer, coerced flags, bounds shared, errors name the field', () => {
  const schema = z.strictObject({ ...trainerFields({ steps: 100, lr: 1e-4, schedule: 'cosine', warmupSteps: 5, minLrRatio: 0.1 }) });
  const o = parseTrainerOptions(schema, { out: 'o', lr: '2e-4' }, 'sft');
  assert.equal(o.lr, 2e-4);
  assert.equal(o.steps, 100);
  assert.equal(o.maxGradNorm, 1);
  // the cosine floor is lr · minLrRatio; warm-up never outlasts the run
  assert.deepEqual(scheduleFor(o, 3), { kind: 'cosine', peakLr: 2e-4, warmupSteps: 2, minLr: 2e-4 * 0.1 });
  assert.throws(() => parseTrainerOptions(schema, { out: 'o', lr: -1, bogus: 1 }, 'sft'), (e) => isUserError(e) && /sft\.lr: /.test(e.message) && /unknown key\(s\) bogus/.test(e.message));
});
