// Reward losses: hand-worked values, the graph versions (ONNX Runtime in float32, the reference
// interpreter in float64) against their plain twins, gradients against central finite differences,
// and the identities the issue names (Scaled BT with m = BT repeated m times; margin BT at m = 0 = BT).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, grad, interpret, type Tensor } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import {
  bradleyTerryLoss,
  logSigmoid,
  marginBradleyTerryLoss,
  orientByStrength,
  pairBatchLossReference,
  pairLoss,
  pairLossReference,
  regressionLoss,
  regressionLossReference,
  scaledBradleyTerryLoss,
  type PairLossKind,
} from '../../src/reward/losses.js';
import { assertClose } from '../helpers/close.js';
import { isUserError } from '../../src/util/errors.js';

const KINDS: PairLossKind[] = ['bt', 'margin-bt', 'scaled-bt'];

test('pair losses on hand-worked values', () => {
  // r_c − r_r = 0: −log σ(0) = log 2 = 0.6931471805599453
  assertClose(pairLossReference('bt', 0.5, 0.5), Math.LN2, { rtol: 1e-15 });
  // r_c − r_r = 1: −log σ(1) = log(1 + e⁻¹) = log(1.3678794411714423) = 0.31326168751822286
  assertClose(pairLossReference('bt', 2, 1), 0.31326168751822286, { rtol: 1e-15 });
  // margin 1, r_c − r_r = 1: −log σ(1 − 1) = log 2
  assertClose(pairLossReference('margin-bt', 2, 1, 1), Math.LN2, { rtol: 1e-15 });
  // margin 3, r_c − r_r = 1: −log σ(−2) = log(1 + e²) = log(8.38905609893065) = 2.1269280110429727
  assertClose(pairLossReference('margin-bt', 2, 1, 3), 2.1269280110429727, { rtol: 1e-15 });
  // scaled, m = 2, r_c − r_r = 1: 2 · 0.31326168751822286 = 0.6265233750364457
  assertClose(pairLossReference('scaled-bt', 2, 1, 2), 0.6265233750364457, { rtol: 1e-15 });
  // a wrongly ordered pair, r_c − r_r = −1: −log σ(−1) = log(1 + e) = 1.3132616875182228
  assertClose(pairLossReference('bt', 0, 1), 1.3132616875182228, { rtol: 1e-15 });
  // batch mean of the first two: (0.6931471805599453 + 0.31326168751822286) / 2 = 0.5032044340390841
  assertClose(pairBatchLossReference('bt', [0.5, 2], [0.5, 1]), 0.5032044340390841, { rtol: 1e-15 });
});

test('log σ is stable at the extremes; NaN stays NaN', () => {
  assert.equal(logSigmoid(-1000), -1000); // naive log(1/(1+e^1000)) = log 0 = −∞
  assert.equal(logSigmoid(1000), 0); // −log1p(e^−1000) = −0
  assertClose(logSigmoid(-40), -40 - Math.log1p(Math.exp(-40)), { rtol: 1e-15 });
  assertClose(logSigmoid(40), -Math.exp(-40), { rtol: 1e-9 }); // −log1p(e^−40) ≈ −e^−40
  assert.ok(Number.isNaN(logSigmoid(NaN)));
  assert.equal(pairLossReference('bt', -500, 500), 1000); // a badly wrong pair costs its gap, not ∞
});

test('regression loss: masked MSE over labelled attributes (hand-worked)', () => {
  // labelled entries: (1−1)² = 0, (3−2)² = 1, (4−2)² = 4; the −100 slot is ignored → 5 / 3
  assertClose(regressionLossReference([[1, 2], [3, 4]], [[1, -100], [2, 2]]), 5 / 3, { rtol: 1e-15 });
  assert.equal(regressionLossReference([[1]], [[-100]]), 0, 'nothing labelled: 0, not NaN');
});

/** Build a graph of a loss over inputs chosen/rejected/margin [B] (or pred/labels [B, N]); run it both ways. */
async function runBoth(build: (g: Graph, dtype: 'float32' | 'float64') => { loss: Tensor; xs: Tensor[]; feeds: Record<string, number[]> }) {
  const g32 = new Graph();
  const a = build(g32, 'float32');
  const exe = await compile(g32, { inputs: a.xs, outputs: { loss: a.loss }, threads: 1 });
  const feeds32: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(a.feeds)) feeds32[k] = Float32Array.from(v);
  const ort = Number((await exe.run(feeds32)).loss[0]);
  await exe.release();
  const g64 = new Graph();
  const b = build(g64, 'float64');
  const grads = grad(b.loss, b.xs.filter((x) => x.attrs.name !== 'labels'));
  const outs: Record<string, Tensor> = { loss: b.loss };
  grads.forEach((gr, i) => (outs[`d${i}`] = gr));
  const r = interpret(g64, outs, b.feeds);
  return { ort, f64: r.loss[0], grads: grads.map((_, i) => Array.from(r[`d${i}`])) };
}

test('graph pair losses equal their twins (ORT float32, interpreter float64) and their gradients equal finite differences', async () => {
  const chosen = [0.3, -1.2, 2.5, 0.0, 4.0];
  const rejected = [0.1, 0.4, -0.5, 0.0, -3.0];
  const margin = [1, 2, 3, 1, 2];
  for (const kind of KINDS) {
    for (const reduction of ['mean', 'sum'] as const) {
      const build = (g: Graph, dtype: 'float32' | 'float64') => {
        const c = g.input('chosen', [5], dtype);
        const r = g.input('rejected', [5], dtype);
        const m = g.input('margin', [5], dtype);
        return { loss: pairLoss(kind, c, r, m, reduction), xs: [c, r, m], feeds: { chosen, rejected, margin } };
      };
      const { ort, f64, grads } = await runBoth(build);
      const expected = pairBatchLossReference(kind, chosen, rejected, margin, reduction);
      assertClose(ort, expected, { rtol: 1e-6, what: `${kind} ${reduction} ORT` });
      assertClose(f64, expected, { rtol: 1e-12, what: `${kind} ${reduction} f64` });
      // central differences of the plain twin, h = 1e-6, in float64
      const fd = (which: 0 | 1 | 2) =>
        chosen.map((_, i) => {
          const args = [chosen, rejected, margin].map((v) => [...v]);
          const h = 1e-6;
          args[which][i] += h;
          const up = pairBatchLossReference(kind, args[0], args[1], args[2], reduction);
          args[which][i] -= 2 * h;
          const down = pairBatchLossReference(kind, args[0], args[1], args[2], reduction);
          return (up - down) / (2 * h);
        });
      for (const which of [0, 1, 2] as const) {
        if (kind === 'bt' && which === 2) continue; // BT ignores the margin: its gradient is 0
        assertClose(grads[which], fd(which), { rtol: 1e-6, atol: 1e-8, what: `${kind} ${reduction} d/d${['chosen', 'rejected', 'margin'][which]}` });
      }
    }
  }
  // By hand: d/d r_c of −log σ(d) = −σ(−d); at d = 1 that is −0.2689414213699951, and d/d r_r = +0.2689…
  const g = new Graph();
  const c = g.input('c', [1], 'float64');
  const r = g.input('r', [1], 'float64');
  const [dc, dr] = grad(bradleyTerryLoss(c, r), [c, r]);
  const v = interpret(g, { dc, dr }, { c: [2], r: [1] });
  assertClose(v.dc[0], -0.2689414213699951, { rtol: 1e-14 });
  assertClose(v.dr[0], 0.2689414213699951, { rtol: 1e-14 });
});

test('graph regression loss equals its twin; gradient equals finite differences and is 0 on unlabelled slots', async () => {
  const pred = [[1, 2, 0.5], [3, 4, -1], [0.2, 0.1, 2]];
  const labels = [[1, -100, 0], [2, 2, -100], [-100, -100, 4]];
  const build = (g: Graph, dtype: 'float32' | 'float64') => {
    const p = g.input('pred', [3, 3], dtype);
    const l = g.input('labels', [3, 3], dtype);
    return { loss: regressionLoss(p, l), xs: [p, l], feeds: { pred: pred.flat(), labels: labels.flat() } };
  };
  const { ort, f64, grads } = await runBoth(build);
  // labelled: (1−1)², (0.5−0)², (3−2)², (4−2)², (2−4)² = 0 + 0.25 + 1 + 4 + 4 = 9.25 over 5 → 1.85
  assertClose(regressionLossReference(pred, labels), 1.85, { rtol: 1e-15 });
  assertClose(ort, 1.85, { rtol: 1e-6 });
  assertClose(f64, 1.85, { rtol: 1e-14 });
  // d/d r_ba = 2 (r − y) / 5 on labelled slots, 0 elsewhere
  const expected = pred.flatMap((row, b) => row.map((x, a) => (labels[b][a] === -100 ? 0 : (2 * (x - labels[b][a])) / 5)));
  assertClose(grads[0], expected, { rtol: 1e-12, atol: 1e-15 });
});

test('Scaled BT with strength m equals BT on the pair repeated m times; margin BT with m = 0 equals BT', async () => {
  const g = new Graph();
  const c = g.input('c', [1], 'float64');
  const r = g.input('r', [1], 'float64');
  const m = g.input('m', [1], 'float64');
  const c3 = g.input('c3', [3], 'float64');
  const r3 = g.input('r3', [3], 'float64');
  const zero = g.input('zero', [1], 'float64');
  const scaled = scaledBradleyTerryLoss(c, r, m, 'sum');
  const repeated = bradleyTerryLoss(c3, r3, 'sum');
  const [ds] = grad(scaled, [c]);
  const [dRep] = grad(repeated, [c3]);
  const marginZero = marginBradleyTerryLoss(c, r, zero);
  const bt = bradleyTerryLoss(c, r);
  for (const [cv, rv] of [[0.7, -0.2], [-2, 1.5], [10, 10]]) {
    const v = interpret(g, { scaled, repeated, ds, dRep, marginZero, bt }, { c: [cv], r: [rv], m: [3], c3: [cv, cv, cv], r3: [rv, rv, rv], zero: [0] });
    assertClose(v.scaled[0], v.repeated[0], { rtol: 1e-14, what: 'loss' });
    // the repeated pair's three copies each get a third of the scaled pair's gradient
    assertClose(v.ds[0], v.dRep[0] + v.dRep[1] + v.dRep[2], { rtol: 1e-14, what: 'gradient' });
    assert.equal(v.marginZero[0], v.bt[0]);
  }
});

test('strength sign convention: negative = response_1 better, m = |strength|, 0 = no pair', () => {
  assert.deepEqual(orientByStrength(-3), { chosen: 1, margin: 3 });
  assert.deepEqual(orientByStrength(2), { chosen: 2, margin: 2 });
  assert.equal(orientByStrength(0), null);
  assert.throws(() => orientByStrength(NaN), (e) => isUserError(e) && /strength is not a finite number[\s\S]*negative = response_1 better/.test(e.message));
});

test('shape errors name the argument, the expected and the received shape', () => {
  const g = new Graph();
  const c = g.input('c', [4]);
  const r = g.input('r', [3]);
  assert.throws(() => bradleyTerryLoss(c, r), (e) => isUserError(e) && /bt loss\(rejected\)[\s\S]*expected: \[4\][\s\S]*received: \[3\][\s\S]*fix:/.test(e.message));
  assert.throws(() => pairLoss('scaled-bt', c, c), (e) => isUserError(e) && /needs a margin per pair[\s\S]*fix: use pairs with a strength/.test(e.message));
  const p = g.input('p', [2, 5]);
  assert.throws(() => regressionLoss(p, g.input('l', [2, 4])), (e) => isUserError(e) && /regressionLoss\(labels\)[\s\S]*expected: \[2, 5\][\s\S]*received: \[2, 4\]/.test(e.message));
  assert.throws(() => regressionLoss(c, c), (e) => isUserError(e) && /regressionLoss\(pred\)[\s\S]*\[B, N\]/.test(e.message));
});
