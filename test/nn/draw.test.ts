// Sampling inside the decode graph (drawGraph): the float64 interpreter of the graph draws exactly
// the host sampler's token (sampleToken, float64) from the same uniform; ONNX Runtime (cdf summed in
// float32) draws a token whose float64 cdf interval holds r up to 1e-5; logprobs are the model's
// own log softmax(logits)[token] at any temperature; rounding never picks a zero-probability token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, interpret } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import { drawGraph, sampleToken, tokenLogprob } from '../../src/nn/generate.js';
import { Rng } from '../../src/util/rng.js';

async function draw(logits: Float32Array, B: number, V: number, u: Float32Array, invTemp: Float32Array) {
  const g = new Graph();
  const inputs = [g.input('logits', [B, V]), g.input('u', [B, 1]), g.input('inv_temp', [B, 1])];
  const outs = drawGraph(inputs[0], inputs[1], inputs[2]);
  const feeds = { logits, u, inv_temp: invTemp };
  const exe = await compile(g, { inputs, outputs: outs, threads: 1 });
  const ort = await exe.run(feeds);
  await exe.release();
  return { ort, f64: interpret(g, outs, feeds) };
}

test('drawGraph: interpreter = sampleToken exactly; ONNX Runtime within float32 rounding of the cdf; logprobs and greedy', async () => {
  for (const V of [50, 32000]) {
    const B = 24;
    const temps = Array.from({ length: B }, (_, b) => [0.5, 1, 2][b % 3]);
    const init = new Rng(7, `draw-${V}`);
    // peaked logits like a language model's: a few large, a long tail
    const logits = Float32Array.from({ length: B * V }, () => init.normal(0, 2) + (init.float() < 0.001 ? 8 : 0));
    const uRng = new Rng(11, V);
    const u = Float32Array.from({ length: B }, () => uRng.float());
    const { ort, f64 } = await draw(logits, B, V, u, Float32Array.from(temps, (t) => 1 / t));
    const host = new Rng(11, V); // the same stream: sampleToken draws one uniform per token here
    for (let b = 0; b < B; b++) {
      const row = logits.subarray(b * V, (b + 1) * V);
      // host tokens see the same uniform rounded to float32 as the graph (u is fed as float32)
      const hostRng = { float: () => Math.fround(host.float()) } as unknown as Rng;
      const want = sampleToken(row, { temperature: temps[b], topK: 0, topP: 1 }, hostRng);
      assert.equal(f64.token[b], want, `V ${V} row ${b}: interpreter`);
      assert.ok(Math.abs(f64.logprob[b] - tokenLogprob(row, want)) < 1e-9);
      // ONNX Runtime: r = u lies in the float64 cdf interval of its token, up to 1e-5
      const t = Number((ort.token as BigInt64Array)[b]);
      let m = -Infinity;
      for (const x of row) m = Math.max(m, x);
      const p = Array.from(row, (x) => Math.exp((x - m) / temps[b]));
      const z = p.reduce((a, c) => a + c, 0);
      let below = 0;
      for (let i = 0; i < t; i++) below += p[i] / z;
      assert.ok(below - 1e-5 <= u[b] && u[b] <= below + p[t] / z + 1e-5, `V ${V} row ${b}: token ${t}, u ${u[b]}, cdf [${below}, ${below + p[t] / z}]`);
      assert.ok(Math.abs((ort.logprob as Float32Array)[b] - tokenLogprob(row, t)) < 1e-4);
      // greedy: the first maximal logit and its logprob
      assert.equal(Number((ort.greedy as BigInt64Array)[b]), row.indexOf(m));
      assert.ok(Math.abs((ort.greedyLogprob as Float32Array)[b] - tokenLogprob(row, row.indexOf(m))) < 1e-4);
    }
  }
  // the last tokens have probability 0 in float32 and u is 1 (a uniform within 2^-25 of 1 rounds to
  // 1 in float32), so r = the cdf's end: the draw is the last token of positive probability, never
  // a zero-probability one
  const V = 6;
  const logits = Float32Array.of(0, 1, 2, -1e4, -1e4, -1e4);
  const { ort, f64 } = await draw(logits, 1, V, Float32Array.of(Math.fround(1 - 2 ** -26)), Float32Array.of(1));
  assert.equal(Number((ort.token as BigInt64Array)[0]), 2);
  assert.equal(f64.token[0], 2);
  // two chunks of 256 (V = 512): the same with the whole second chunk at probability 0, and greedy
  // ties across chunks resolve to the first maximum (indices 300 and 400 tie; 300 wins)
  const wide = new Float32Array(2 * 512).fill(-1e4);
  wide.set([0, 1, 2], 0);
  wide[512 + 10] = 3;
  wide[512 + 300] = 5;
  wide[512 + 400] = 5;
  const two = await draw(wide, 2, 512, Float32Array.of(Math.fround(1 - 2 ** -26), 0.25), Float32Array.of(1, 1));
  for (const t of [Array.from(two.ort.token as BigInt64Array, Number), Array.from(two.f64.token)]) assert.equal(t[0], 2);
  for (const g of [Array.from(two.ort.greedy as BigInt64Array, Number), Array.from(two.f64.greedy)]) assert.deepEqual(g, [2, 300]);
  // row 1: p(10) = e³/(e³ + 2e⁵) ≈ 0.0634 < u = 0.25, so the draw is 300 (cdf 0.532 > 0.25)
  assert.equal(Number((two.ort.token as BigInt64Array)[1]), 300);
});
