import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose } from '../helpers/close.js';
import { Rng } from '../../src/util/rng.js';
import { fitLogistic, fitLogisticReference, objective, solveSpd, type LogisticData } from '../../src/evaluate/logistic.js';
import { logisticRegressionCV, weightedSoftLogLossScore } from '../../src/evaluate/crossval.js';

const one = (y: number, w = 1): LogisticData => ({ X: Float64Array.of(1), n: 1, p: 1, y: Float64Array.of(y), w: Float64Array.of(w) });

test('one row by hand: unpenalised, L1 and L2 optima', () => {
  // none: σ(β) = 0.75 → β = ln 3
  assertClose(fitLogistic(one(0.75), { penalty: 'none' }).coef[0], Math.log(3), { rtol: 1e-12 });
  // L1, C = 4: at 0 the gradient is 4·(0.5 − 0.75) = −1, inside [−1, 1] → β = 0 exactly
  assert.equal(fitLogistic(one(0.75), { penalty: 'l1', C: 4 }).coef[0], 0);
  // L1, C = 8: 8(σ(β) − .75) + 1 = 0 → σ(β) = .625 → β = ln(5/3)
  assertClose(fitLogistic(one(0.75), { penalty: 'l1', C: 8 }).coef[0], Math.log(5 / 3), { rtol: 1e-12 });
  // L2, C = 1: β + σ(β) − .75 = 0; check the stationarity condition itself
  const b = fitLogistic(one(0.75), { penalty: 'l2', C: 1 }).coef[0];
  assertClose(b + 1 / (1 + Math.exp(-b)) - 0.75, 0, { atol: 1e-14 });
  // weights scale the data term: w = 2 with C = 4 is C = 8 with w = 1
  assertClose(fitLogistic(one(0.75, 2), { penalty: 'l1', C: 4 }).coef[0], Math.log(5 / 3), { rtol: 1e-12 });
});

function randomData(rng: Rng, n: number, p: number, zeroCol = -1): LogisticData {
  const X = new Float64Array(n * p);
  const y = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) X[i * p + j] = j === zeroCol ? 0 : rng.normal();
    y[i] = rng.float();
    w[i] = rng.float() < 0.1 ? 0 : 0.1 + rng.float();
  }
  return { X, n, p, y, w };
}

test('fast solvers agree with the slow coordinate-descent twin (L1, L2, none; random data)', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 6; trial++) {
    const d = randomData(rng, 40 + trial * 10, 1 + (trial % 4), trial === 5 ? 0 : -1);
    for (const [penalty, C] of [['l1', 0.05], ['l1', 3], ['l2', 0.5], ['none', 1]] as const) {
      const fast = fitLogistic(d, { penalty, C });
      const slow = fitLogisticReference(d, { penalty, C });
      assert.ok(fast.converged, `${penalty} C=${C} trial ${trial} converged`);
      assertClose(fast.coef, slow, { rtol: 1e-7, atol: 1e-8, what: `${penalty} C=${C} trial ${trial}` });
      // and it is a minimum: no coordinate nudge lowers the objective
      const f0 = objective(d, fast.coef, penalty, C);
      for (let j = 0; j < d.p; j++) {
        for (const h of [1e-5, -1e-5]) {
          const b = Float64Array.from(fast.coef);
          b[j] += h;
          assert.ok(objective(d, b, penalty, C) >= f0 - 1e-12 * (1 + Math.abs(f0)), `${penalty} nudge ${j}`);
        }
      }
    }
  }
});

test('L1 yields exact zeros below the threshold and large C approaches the unpenalised fit', () => {
  const rng = new Rng(3);
  const d = randomData(rng, 200, 3);
  assert.deepEqual(Array.from(fitLogistic(d, { penalty: 'l1', C: 1e-4 }).coef), [0, 0, 0]);
  const big = fitLogistic(d, { penalty: 'l1', C: 1e8 }).coef;
  const none = fitLogistic(d, { penalty: 'none' }).coef;
  assertClose(big, none, { rtol: 1e-5, atol: 1e-6 });
});

test('input checks name the argument and the expected size', () => {
  const d = one(0.5);
  assert.throws(() => fitLogistic({ ...d, y: Float64Array.of(1.5) }, { penalty: 'none' }), /y\[0\] = 1\.5 is not in \[0, 1\]/);
  assert.throws(() => fitLogistic({ ...d, w: Float64Array.of(NaN) }, { penalty: 'none' }), /w\[0\] = NaN is not a non-negative weight/);
  assert.throws(() => fitLogistic({ ...d, n: 2 }, { penalty: 'none' }), /X has 1 entries, expected n·p = 2·1/);
  assert.throws(() => fitLogistic(d, { penalty: 'l1', C: 0 }), /C must be > 0/);
});

test('solveSpd: exact on a 2×2 system and regularised along a null direction', () => {
  // [[4, 2], [2, 3]] x = [2, 1] → x = [0.5, 0]
  assertClose(solveSpd(Float64Array.of(4, 2, 2, 3), Float64Array.of(2, 1), 2), [0.5, 0], { atol: 1e-14 });
  // singular [[1, −1], [−1, 1]] (a Bradley–Terry gauge) with b in its range: H x = b still holds
  const x = solveSpd(Float64Array.of(1, -1, -1, 1), Float64Array.of(1, -1), 2);
  assertClose([x[0] - x[1], x[1] - x[0]], [1, -1], { atol: 1e-9 });
});

test('CV: the held-out weighted log-loss score by hand and the chosen C', () => {
  // y = [1, 0], q = [.5, .5], w = [1, 3]: mean of w·(y log q + (1−y) log(1−q)) = (ln .5 + 3 ln .5)/2 = 2 ln .5
  assertClose(weightedSoftLogLossScore([1, 0], [0.5, 0.5], [1, 3]), 2 * Math.log(0.5));
  // q clipped at 1e−15: 1·log(1e−15)
  assertClose(weightedSoftLogLossScore([1], [0], [1]), Math.log(1e-15));
  // separable-ish data: larger C must win over a C that zeroes every coefficient
  const rng = new Rng(11);
  const n = 120;
  const X = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    X[i] = rng.normal();
    y[i] = 1 / (1 + Math.exp(-3 * X[i]));
  }
  const fold = Int32Array.from({ length: n }, (_, i) => i % 4);
  const cv = logisticRegressionCV({ X, n, p: 1, y, w: new Float64Array(n).fill(1) }, { Cs: [1e-4, 1e6], fold, penalty: 'l1' });
  assert.equal(cv.bestIndex, 1);
  assertClose(cv.meanScores[0], Math.log(0.5), { rtol: 1e-12 }); // β = 0 predicts ½ everywhere, w = 1
  assertClose(cv.coef[0], 3, { rtol: 1e-4 }); // soft labels from σ(3x): the optimum is β = 3 minus a 1/C shrink
});
