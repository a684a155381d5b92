// The graph Llama against its plain twin (src/nn/reference.ts) and the PyTorch fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sharedFile } from '../helpers/shared.js';
import { assertClose } from '../helpers/close.js';
import { Graph, grad, interpret } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import { loadModel } from '../../src/io/checkpoint.js';
import { readLlama2c } from '../../src/io/llama2c.js';
import type { LlamaConfig } from '../../src/nn/config.js';
import { applyRope, fuseLlamaWeights, fusedNames, lastTokenHidden, llamaFeeds, permute, rotateHalfMatrix, llamaHidden, llamaInitializers, llamaInputs, lmLogits, padBatch, rewardHead, tokenLogProbs, type LlamaParams } from '../../src/nn/llama.js';
import { referenceHidden, referenceLogits } from '../../src/nn/reference.js';
import type { LlamaWeights } from '../../src/nn/weights.js';
import { isUserError } from '../../src/util/errors.js';

const fixture = (rel: string) => fileURLToPath(new URL(`../fixtures/${rel}`, import.meta.url));
const f32 = (rel: string) => {
  const b = readFileSync(fixture(rel));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const fixtureIds = (rel: string) => (JSON.parse(readFileSync(fixture(rel + '.json'), 'utf8')) as { ids: number[] }).ids;
const tiny = () => loadModel(fixture('tiny-llama3'));

/** Logits [B, T, V] and hidden [B, T, D] of a padded batch through the graph model (frozen weights). */
async function graphForward(c: LlamaConfig, w: LlamaWeights, seqs: number[][], side: 'left' | 'right') {
  const pb = padBatch(seqs, { side });
  const g = new Graph();
  const ids = g.input('ids', [pb.B, pb.T], 'int64');
  const positions = g.input('positions', [pb.B, pb.T], 'int64');
  const mask = g.input('mask', [pb.B, pb.T]);
  const last = g.input('last', [pb.B], 'int64');
  const p = llamaInitializers(g, c, w);
  const hidden = llamaHidden(c, p, { ids, positions, attentionMask: mask });
  const exe = await compile(g, { inputs: [ids, positions, mask, last], outputs: { logits: lmLogits(c, p, hidden), hidden, lastHidden: lastTokenHidden(hidden, last) }, threads: 2 });
  const out = await exe.run({ ids: pb.ids, positions: pb.positions, mask: pb.mask, last: pb.lastIndex });
  await exe.release();
  return { pb, logits: out.logits as Float32Array, hidden: out.hidden as Float32Array, lastHidden: out.lastHidden as Float32Array };
}

/** The rows of a padded [B, T, X] output that hold sequence b's real tokens. */
function realRows(out: Float32Array, pb: { T: number; padBefore: number[] }, b: number, len: number, X: number): Float32Array {
  const start = (b * pb.T + pb.padBefore[b]) * X;
  return out.slice(start, start + len * X);
}

test('stories260K through the graph: logits equal PyTorch to 1e-4 and the reference twin, left- and right-padded', async (t) => {
  const p = sharedFile(t, 'data/stories260k/stories260K.bin');
  if (!p) return;
  const { config: c, weights: w } = readLlama2c(p);
  const torchIds = fixtureIds('stories260k/torch_logits.f32');
  const seqs = [torchIds, [1, 403, 407], [1, 5, 100, 200, 300, 400, 500, 7, 9]];
  const V = c.vocabSize;
  for (const side of ['left', 'right'] as const) {
    const { pb, logits } = await graphForward(c, w, seqs, side);
    assertClose(realRows(logits, pb, 0, torchIds.length, V), f32('stories260k/torch_logits.f32'), { atol: 1e-4, rtol: 0, what: `${side} torch` });
    seqs.forEach((s, b) => assertClose(realRows(logits, pb, b, s.length, V), referenceLogits(c, w, s), { atol: 2e-5, rtol: 0, what: `${side} row ${b}` }));
  }
});

test('tiny Llama 3 (GQA, head_dim ≠ D/H, untied, llama3 RoPE) through the graph equals PyTorch to 1e-4', async () => {
  const { config: c, weights: w } = tiny();
  const ids = fixtureIds('tiny-llama3/torch_logits.f32');
  const { pb, logits } = await graphForward(c, w, [ids, [1, 2, 3]], 'left');
  assertClose(realRows(logits, pb, 0, ids.length, c.vocabSize), f32('tiny-llama3/torch_logits.f32'), { atol: 1e-4, rtol: 0, what: 'logits' });
});

test('padding never changes a row: same values with no padding, left padding or right padding', async () => {
  const { config: c, weights: w } = tiny();
  const s = [1, 7, 30, 12, 50];
  const alone = await graphForward(c, w, [s], 'right');
  for (const side of ['left', 'right'] as const) {
    const padded = await graphForward(c, w, [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], s], side);
    assertClose(realRows(padded.logits, padded.pb, 1, s.length, c.vocabSize), alone.logits, { atol: 1e-5, rtol: 0, what: side });
    // the last real token's hidden state is the row's final hidden state
    assertClose(padded.lastHidden.slice(c.hiddenSize), alone.hidden.slice((s.length - 1) * c.hiddenSize), { atol: 1e-5, rtol: 0, what: `${side} last` });
  }
});

test('token log-probs and reward heads on trainable weights (graph inputs) match the reference', async () => {
  const { config: c, weights: w } = tiny();
  const seqs = [[1, 9, 8, 7, 6], [1, 40, 41]];
  const pb = padBatch(seqs, { side: 'right' });
  const targets = new BigInt64Array(pb.B * pb.T);
  seqs.forEach((s, b) => s.slice(1).forEach((tk, i) => (targets[b * pb.T + i] = BigInt(tk)))); // next-token targets
  const g = new Graph();
  const ids = g.input('ids', [pb.B, pb.T], 'int64');
  const positions = g.input('positions', [pb.B, pb.T], 'int64');
  const mask = g.input('mask', [pb.B, pb.T]);
  const tg = g.input('targets', [pb.B, pb.T], 'int64');
  const last = g.input('last', [pb.B], 'int64');
  const head = g.input('head', [2, c.hiddenSize]);
  const headBias = g.input('head_bias', [2]);
  const { params, inputs } = llamaInputs(g, c, 'policy.');
  const hidden = llamaHidden(c, params as LlamaParams, { ids, positions, attentionMask: mask });
  const lp = tokenLogProbs(lmLogits(c, params, hidden), tg);
  const rewards = rewardHead(lastTokenHidden(hidden, last), head, headBias);
  const exe = await compile(g, { inputs: [ids, positions, mask, tg, last, head, headBias, ...inputs], outputs: { lp, rewards }, threads: 2 });
  // a 2-attribute head: row 0 = e_0 (reads hidden[0]), row 1 = all 0.5; biases 1 and −1
  const headW = new Float32Array(2 * c.hiddenSize);
  headW[0] = 1;
  headW.fill(0.5, c.hiddenSize);
  const out = await exe.run({ ids: pb.ids, positions: pb.positions, mask: pb.mask, targets, last: pb.lastIndex, head: headW, head_bias: Float32Array.of(1, -1), ...llamaFeeds(c, w, 'policy.') });
  await exe.release();
  const V = c.vocabSize;
  seqs.forEach((s, b) => {
    const ref = referenceLogits(c, w, s);
    for (let i = 0; i < s.length - 1; i++) {
      const row = ref.subarray(i * V, (i + 1) * V);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
      assertClose((out.lp as Float32Array)[b * pb.T + i], row[s[i + 1]] - lse, { atol: 1e-5, rtol: 0, what: `lp[${b},${i}]` });
    }
    const h = referenceHidden(c, w, s).slice((s.length - 1) * c.hiddenSize);
    const sum = h.reduce((a, x) => a + x, 0);
    assertClose((out.rewards as Float32Array).slice(2 * b, 2 * b + 2), [h[0] + 1, 0.5 * sum - 1], { atol: 1e-5, rtol: 0, what: `reward[${b}]` });
  });
});

test('gradients flow to every weight and agree with finite differences', async () => {
  const { config: c, weights: w } = tiny();
  const pb = padBatch([[1, 9, 8, 7], [1, 5]], { side: 'left' });
  const targets = BigInt64Array.from([0, 9, 8, 7, 5, 6, 7, 8].map(BigInt));
  const g = new Graph();
  const ids = g.input('ids', [pb.B, pb.T], 'int64');
  const positions = g.input('positions', [pb.B, pb.T], 'int64');
  const mask = g.input('mask', [pb.B, pb.T]);
  const tg = g.input('targets', [pb.B, pb.T], 'int64');
  const { params, inputs } = llamaInputs(g, c);
  const lp = tokenLogProbs(lmLogits(c, params, llamaHidden(c, params, { ids, positions, attentionMask: mask })), tg);
  const loss = lp.mul(mask).sum().neg(); // −Σ log p over real tokens
  const names = ['model.layers.0.self_attn.q_proj.weight', 'model.layers.1.self_attn.k_proj.weight', 'model.layers.0.mlp.down_proj.weight', 'model.norm.weight', 'model.embed_tokens.weight'];
  const grads = grad(loss, names.map((n) => params.get(n)!));
  const outputs: Record<string, ReturnType<typeof loss.add>> = { loss };
  grads.forEach((d, i) => (outputs[`d${i}`] = d));
  const exe = await compile(g, { inputs: [ids, positions, mask, tg, ...inputs], outputs, threads: 2 });
  const base = { ids: pb.ids, positions: pb.positions, mask: pb.mask, targets };
  const feeds = llamaFeeds(c, w);
  const out = await exe.run({ ...base, ...feeds });
  // central differences in float32 on the largest-gradient element of each weight (h = 1e-2)
  for (const [i, n] of names.entries()) {
    const d = out[`d${i}`] as Float32Array;
    assert.ok(d.every(Number.isFinite), `${n}: finite gradient`);
    let k = 0;
    for (let j = 1; j < d.length; j++) if (Math.abs(d[j]) > Math.abs(d[k])) k = j;
    const h = 1e-2;
    const bumped = (delta: number) => {
      const copy = Float32Array.from(feeds[n]);
      copy[k] += delta;
      return exe.run({ ...base, ...feeds, [n]: copy }).then((o) => (o.loss as Float32Array)[0]);
    };
    const fd = ((await bumped(h)) - (await bumped(-h))) / (2 * h);
    assertClose(d[k], fd, { rtol: 3e-2, atol: 1e-3, what: `d loss / d ${n}[${k}]` });
  }
  await exe.release();
});

test('shape and dtype errors name the argument and the expected shape', () => {
  const { config: c, weights: w } = tiny();
  const g = new Graph();
  const p = llamaInitializers(g, c, w);
  const ids = g.input('ids', [2, 3]);
  const positions = g.input('positions', [2, 3], 'int64');
  const mask = g.input('mask', [2, 3]);
  assert.throws(() => llamaHidden(c, p, { ids, positions, attentionMask: mask }), (e: unknown) => isUserError(e) && /ids has the wrong shape or dtype/.test(e.message) && /expected: int64\[\*, \*\]/.test(e.message) && /received: float32\[2, 3\]/.test(e.message));
  const ids2 = g.input('ids2', [2, 3], 'int64');
  const mask2 = g.input('mask2', [2, 4]);
  assert.throws(() => llamaHidden(c, p, { ids: ids2, positions, attentionMask: mask2 }), (e: unknown) => isUserError(e) && /attentionMask/.test(e.message) && /float32\[2, 3\]/.test(e.message));
  const partial = new Map(w);
  partial.delete('model.norm.weight');
  assert.throws(() => llamaInitializers(new Graph(), c, partial), (e: unknown) => isUserError(e) && /weight model\.norm\.weight is missing/.test(e.message) && /fix: load the weights/.test(e.message));
  const hl = g.input('hl', [2, c.hiddenSize]);
  assert.throws(() => rewardHead(hl, g.input('rw', [1, c.hiddenSize + 1])), (e: unknown) => isUserError(e) && /reward head weight/.test(e.message) && /float32\[\*, 32\]/.test(e.message));
  assert.throws(() => rewardHead(hl, g.input('rw2', [3, c.hiddenSize]), g.input('rb', [2])), (e: unknown) => isUserError(e) && /reward head bias/.test(e.message) && /float32\[3\]/.test(e.message));
  assert.throws(() => padBatch([[1], []], { side: 'left' }), (e: unknown) => isUserError(e) && /sequence 1 has 0 tokens/.test(e.message) && /padBatch\(seqs\[1\]\)/.test(e.message));
});

test('permute is transpose (a Reshape when only size-1 axes move); the rotation matrix is rotate_half', () => {
  for (const [shape, perm] of [[[3, 1, 2, 1, 4], [0, 2, 3, 1, 4]], [[2, 1, 4], [1, 0, 2]], [[2, 3, 4], [0, 2, 1]], [[1, 5, 1], [2, 1, 0]]] as const) {
    const g = new Graph();
    const x = g.input('x', [...shape]);
    const n = (shape as readonly number[]).reduce((a, b) => a * b, 1);
    const data = Float64Array.from({ length: n }, (_, i) => i * 1.5 - 3);
    const p = permute(x, perm);
    const t = x.transpose(perm);
    const out = interpret(g, { p, t }, { x: data });
    assert.deepEqual(p.shape, t.shape);
    assert.deepEqual(out.p, out.t, `shape ${shape} perm ${perm}`);
    const onlyUnitMoves = perm.filter((a) => shape[a] !== 1).every((a, i, arr) => i === 0 || arr[i - 1] < a);
    if (onlyUnitMoves) assert.notEqual(p.op, 'Transpose', 'a reshape (or x itself) suffices');
    else assert.equal(p.op, 'Transpose');
  }
  // rotate_half([1, 2, 3, 4]) = [−3, −4, 1, 2]; rope at angle θ on pairs (j, j + 2)
  const g = new Graph();
  const x = g.input('x', [1, 4]);
  const rot = x.matmul(g.constant(rotateHalfMatrix(4), [4, 4]));
  const [c0, c1, s0, s1] = [Math.cos(0.5), Math.cos(0.25), Math.sin(0.5), Math.sin(0.25)];
  const roped = applyRope(x, { cos: g.constant([c0, c1, c0, c1], [1, 4]), sin: g.constant([s0, s1, s0, s1], [1, 4]), rotate: g.constant(rotateHalfMatrix(4), [4, 4]) });
  const out = interpret(g, { rot, roped }, { x: [1, 2, 3, 4] });
  assert.deepEqual([...out.rot], [-3, -4, 1, 2]);
  // HF: out_j = x_j cos − x_{j+2} sin, out_{j+2} = x_{j+2} cos + x_j sin
  assertClose(out.roped, [1 * c0 - 3 * s0, 2 * c1 - 4 * s1, 3 * c0 + 1 * s0, 4 * c1 + 2 * s1], { rtol: 1e-6 });
});

test('padBatch: left/right layouts, HF position ids, last real index', () => {
  const l = padBatch([[5, 6, 7], [8]], { side: 'left', padId: 0 });
  assert.deepEqual([...l.ids].map(Number), [5, 6, 7, 0, 0, 8]);
  assert.deepEqual([...l.mask], [1, 1, 1, 0, 0, 1]);
  assert.deepEqual([...l.positions].map(Number), [0, 1, 2, 0, 0, 0]); // cumsum(mask) − 1, pads at 0
  assert.deepEqual([...l.lastIndex].map(Number), [2, 2]);
  assert.deepEqual(l.padBefore, [0, 2]);
  const r = padBatch([[5, 6, 7], [8]], { side: 'right', padId: 2, length: 4 });
  assert.deepEqual([...r.ids].map(Number), [5, 6, 7, 2, 8, 2, 2, 2]);
  assert.deepEqual([...r.positions].map(Number), [0, 1, 2, 0, 0, 0, 0, 0]);
  assert.deepEqual([...r.lastIndex].map(Number), [2, 0]);
});

test('the fused layout (generation) is the same model: graph equals the HF layout to 1e-5, and its float64 interpretation equals the reference twin', async () => {
  const { config: c, weights: w } = tiny(); // GQA (H 4, KV 2), untied head
  const fused = fuseLlamaWeights(c, w);
  assert.ok(fused.has(fusedNames(0).qkv) && !fused.has('model.layers.0.self_attn.q_proj.weight'));
  const seqs = [[1, 5, 9, 33, 63, 17], [1, 40]];
  const pb = padBatch(seqs, { side: 'left' });
  const V = c.vocabSize;
  const run = async (weights: LlamaWeights) => {
    const g = new Graph();
    const ids = g.input('ids', [pb.B, pb.T], 'int64');
    const positions = g.input('positions', [pb.B, pb.T], 'int64');
    const mask = g.input('mask', [pb.B, pb.T]);
    const p: LlamaParams = new Map([...weights].map(([name, t]) => [name, g.initializer(name, t.data, t.shape)]));
    const logits = lmLogits(c, p, llamaHidden(c, p, { ids, positions, attentionMask: mask }));
    const feeds = { ids: pb.ids, positions: pb.positions, mask: pb.mask };
    const exe = await compile(g, { inputs: [ids, positions, mask], outputs: { logits }, threads: 2 });
    const out = (await exe.run(feeds)).logits as Float32Array;
    await exe.release();
    return { out, f64: interpret(g, { logits }, feeds).logits };
  };
  const hf = await run(w);
  const fu = await run(fused);
  assertClose(fu.out, hf.out, { atol: 1e-5, rtol: 0, what: 'fused vs HF layout' });
  seqs.forEach((s, b) => assertClose(Float32Array.from(realRows(Float32Array.from(fu.f64), pb, b, s.length, V)), referenceLogits(c, w, s), { atol: 1e-5, rtol: 0, what: `float64 fused row ${b}` }));
});
