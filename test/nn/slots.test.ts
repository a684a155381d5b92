// SlotBatch (continuous batching rows) against generate(): the same greedy tokens and log-probs for
// every sequence, whether it decodes alone or joins, shares and leaves a running batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedFile } from '../helpers/shared.js';
import { readLlama2c } from '../../src/io/llama2c.js';
import { Llama2cTokenizer } from '../../src/text/llama2c.js';
import { KvCache, LlamaGenerator, SlotBatch, type Generation, powerOfTwoBucket, sampleToken, tokenLogprob } from '../../src/nn/generate.js';
import { MASKED } from '../../src/nn/llama.js';
import type { LlamaConfig } from '../../src/nn/config.js';
import { Rng } from '../../src/util/rng.js';
import { isUserError } from '../../src/util/errors.js';

function argmax(x: Float32Array): number {
  let b = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
  return b;
}

test('powerOfTwoBucket: smallest power of two ≥ n from min, capped', () => {
  assert.equal(powerOfTwoBucket(1, 1, 64), 1);
  assert.equal(powerOfTwoBucket(3, 1, 64), 4);
  assert.equal(powerOfTwoBucket(5, 8, 512), 8);
  assert.equal(powerOfTwoBucket(9, 8, 512), 16);
  assert.equal(powerOfTwoBucket(100, 1, 64), 64);
});

test('KvCache: columns keep their values as the width grows and shrinks with rows live; feeds and bias laid out at the width', () => {
  const c = { numLayers: 2, numKvHeads: 2, headDim: 3 } as LlamaConfig;
  const cache = new KvCache(c, 3, 100);
  // k of (layer l, row r, head h, column j, dim d) = 10000l + 1000r + 100h + j + d/10; v = −k
  const value = (l: number, r: number, h: number, j: number, d: number) => 10000 * l + 1000 * r + 100 * h + j + d / 10;
  const out = (r: number, j: number) => {
    const o: Record<string, Float32Array> = {};
    for (let l = 0; l < 2; l++) {
      o[`k.${l}`] = Float32Array.from({ length: 2 * 3 }, (_, i) => value(l, r, Math.floor(i / 3), j, i % 3)); // [1, KV, 1, hd]
      o[`v.${l}`] = o[`k.${l}`].map((x) => -x);
    }
    return o;
  };
  const lengths = [0, 0, 0];
  const append = (r: number, upTo: number) => {
    for (; lengths[r] < upTo; lengths[r]++) {
      cache.fit(Math.max(...lengths) + 1, 3);
      cache.write(out(r, lengths[r]), 1, 0, 0, 1, r, lengths[r]);
    }
  };
  const check = (rowsNow: number[], what: string) => {
    const W = cache.width;
    const { feeds, dims } = cache.decodeFeeds(rowsNow.length, () => null);
    assert.deepEqual(dims, { columns: W, attended: W + 1 });
    rowsNow.forEach((orig, r) => {
      for (let l = 0; l < 2; l++) for (let h = 0; h < 2; h++) for (let j = 0; j < lengths[orig]; j++) for (let d = 0; d < 3; d++) {
        assert.equal(feeds[`cache_k.${l}`][((r * 2 + h) * W + j) * 3 + d], Math.fround(value(l, orig, h, j, d)), `${what}: k l${l} row ${r} h${h} col ${j} d${d}`);
        assert.equal(feeds[`cache_v.${l}`][((r * 2 + h) * W + j) * 3 + d], -Math.fround(value(l, orig, h, j, d)), `${what}: v l${l} row ${r} h${h} col ${j} d${d}`);
      }
    });
    assert.equal(feeds['cache_k.0'].length, rowsNow.length * 2 * 3 * W);
  };
  append(0, 20);
  append(1, 10);
  append(2, 5);
  assert.equal(cache.width, 32);
  append(0, 40); // 41 columns needed: 32 → max(41, 40) rounded up to 64
  assert.equal(cache.width, 64);
  append(1, 30);
  append(0, 70); // → 96
  assert.equal(cache.width, 96);
  append(2, 12);
  check([0, 1, 2], 'grown');
  // row 0 leaves: row 2 moves into its place; the longest is now 30 columns (+1) ≤ 96 / 2: back to 32
  cache.copyRow(2, 0);
  cache.fit(Math.max(lengths[2], lengths[1]) + 1, 2);
  assert.equal(cache.width, 32);
  check([2, 1], 'shrunk'); // row 0 now holds what was written as row 2
  // the bias: itself, then the attended span; MASKED elsewhere
  const { feeds } = cache.decodeFeeds(2, (r) => (r === 0 ? [0, 12] : [3, 30]));
  const W = cache.width;
  for (let r = 0; r < 2; r++) for (let j = 0; j <= W; j++) {
    const open = j === 0 || (r === 0 ? j - 1 < 12 : j - 1 >= 3 && j - 1 < 30);
    assert.equal(feeds.bias[r * (W + 1) + j], open ? 0 : MASKED, `bias row ${r} column ${j}`);
  }
});

test('stories260K: rows joining and leaving a running batch decode exactly as generate() alone', async (t) => {
  const p = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tp = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!p || !tp) return;
  const { config: c, weights: w } = readLlama2c(p);
  const tok = Llama2cTokenizer.read(tp, c.vocabSize);
  const prompts = ['Once upon a time', 'The cat', 'Lily wanted to play with her big red ball in the park', 'One day'].map((s) => tok.encode(s));
  // sequence 0 reaches 75 cache columns (the cache's width grows 32 → 64 → 96 with other rows live)
  // and leaves while 3 is short (the width shrinks back with rows to move)
  const lengths = [70, 12, 25, 20];
  const gen = new LlamaGenerator(c, w, { threads: 2, bakeDecodeWeights: true });
  try {
    // the independent path: each prompt alone through generate()
    const alone: Generation[] = [];
    for (let i = 0; i < prompts.length; i++) alone.push((await gen.generate([prompts[i]], { maxNewTokens: lengths[i], temperature: 0, stopTokens: [] }))[0]);
    // continuous batching: prompt 0 starts; 1 joins after 3 steps; 2 after 5; 3 after 14 (once 1 left)
    const batch = new SlotBatch(gen, 4, 128);
    const joinAt = [0, 3, 5, 14];
    type Live = { seq: number; tokens: number[]; logprobs: number[] };
    const byRow: Live[] = [];
    const done = new Map<number, Live>();
    const take = (row: number, logits: Float32Array) => {
      const t0 = argmax(logits);
      byRow[row].tokens.push(t0);
      byRow[row].logprobs.push(tokenLogprob(logits, t0));
    };
    for (let stepNo = 0; done.size < prompts.length; stepNo++) {
      for (let i = 0; i < prompts.length; i++) {
        if (joinAt[i] !== stepNo) continue;
        const { row, logits } = await batch.add(prompts[i]);
        byRow[row] = { seq: i, tokens: [], logprobs: [] };
        take(row, logits);
      }
      // finished rows leave (the last row moves into the hole)
      for (let r = batch.size - 1; r >= 0; r--) {
        const live = byRow[r];
        if (live.tokens.length < lengths[live.seq]) continue;
        done.set(live.seq, live);
        const moved = batch.remove(r);
        if (moved !== null) byRow[r] = byRow[moved];
        byRow.length = batch.size;
      }
      if (batch.size === 0) continue;
      const logits = await batch.step(byRow.map((l) => l.tokens[l.tokens.length - 1]));
      for (let r = 0; r < batch.size; r++) take(r, logits.subarray(r * c.vocabSize, (r + 1) * c.vocabSize));
    }
    for (let i = 0; i < prompts.length; i++) {
      const d = done.get(i)!;
      assert.deepEqual(d.tokens, alone[i].tokens, `sequence ${i}`);
      d.logprobs.forEach((lp, k) => assert.ok(Math.abs(lp - alone[i].logprobs[k]) < 1e-4, `sequence ${i} token ${k}: ${lp} vs ${alone[i].logprobs[k]}`));
    }
    // several prompts prefilled in one run: the logits of each alone (to 1e-4), then decode as generate()
    const many = new SlotBatch(gen, 4, 128);
    const { rows: manyRows, logits: manyLogits } = await many.addMany(prompts.slice(0, 3));
    assert.deepEqual(manyRows, [0, 1, 2]);
    let next = [0, 1, 2].map((i) => argmax(manyLogits.subarray(i * c.vocabSize, (i + 1) * c.vocabSize)));
    assert.deepEqual(next, [0, 1, 2].map((i) => alone[i].tokens[0]));
    for (let k = 1; k < 12; k++) {
      const l = await many.step(next);
      next = [0, 1, 2].map((i) => argmax(l.subarray(i * c.vocabSize, (i + 1) * c.vocabSize)));
      next.forEach((tk, i) => assert.equal(tk, alone[i].tokens[k], `addMany: sequence ${i} token ${k}`));
    }
    await assert.rejects(many.addMany([prompts[0], prompts[1]]), (e) => isUserError(e) && /decode batch is full[\s\S]*3 live, 2 to add/.test(e.message));
    assert.equal(many.size, 3, 'a refused addMany adds no row');
    // fork: a copy of a row continues identically
    const { row } = await batch.add(prompts[0]);
    const twin = batch.fork(row);
    const l2 = await batch.step([alone[0].tokens[0], alone[0].tokens[0]]);
    assert.deepEqual(l2.subarray(0, c.vocabSize), l2.subarray(c.vocabSize, 2 * c.vocabSize));
    assert.equal(batch.length(twin), prompts[0].length + 1);
    // errors: a full batch, a too-long prompt
    await batch.add(prompts[1]);
    await batch.add(prompts[2]);
    await assert.rejects(batch.add(prompts[3]), (e) => isUserError(e) && /decode batch is full/.test(e.message));
    assert.throws(() => batch.fork(0), /decode batch is full/);
    await assert.rejects(new SlotBatch(gen, 1, 16).add(new Array(20).fill(1)), /the prompt has 20 tokens/);
  } finally {
    await gen.release();
  }
});

test('stories260K: stepDraw (sampling in the decode graph) draws the host sampler\'s tokens from the same streams', async (t) => {
  const p = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tp = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!p || !tp) return;
  const { config: c, weights: w } = readLlama2c(p);
  const tok = Llama2cTokenizer.read(tp, c.vocabSize);
  const prompts = ['Once upon a time', 'The cat', 'One day'].map((s) => tok.encode(s));
  const temps = [0, 1, 0.7]; // greedy, plain, tempered
  const gen = new LlamaGenerator(c, w, { threads: 2, bakeDecodeWeights: true });
  try {
    // host: logits out, sampleToken per row (float64); graph: stepDraw with uniforms from equal streams
    const host = new SlotBatch(gen, 4, 64);
    const graph = new SlotBatch(gen, 4, 64);
    const hostRng = temps.map((_, r) => new Rng(5, r));
    const graphRng = temps.map((_, r) => new Rng(5, r));
    const last: number[][] = [[], []];
    for (const [b, batch] of [host, graph].entries()) {
      for (const pr of prompts) {
        const { logits } = await batch.add(pr);
        last[b].push(argmax(logits));
      }
    }
    let sampled = 0;
    for (let step = 0; step < 24; step++) {
      const logits = await host.step(last[0]);
      const want = temps.map((T, r) => sampleToken(logits.subarray(r * c.vocabSize, (r + 1) * c.vocabSize), { temperature: T, topK: 0, topP: 1 }, { float: () => Math.fround(hostRng[r].float()) } as unknown as Rng));
      const d = await graph.stepDraw(last[1], temps.map((T, r) => (T > 0 ? graphRng[r].float() : 0)), temps.map((T) => (T > 0 ? 1 / T : 1)));
      const got = temps.map((T, r) => Number(T > 0 ? d.token[r] : d.greedy[r]));
      assert.deepEqual(got, want, `step ${step}`);
      temps.forEach((T, r) => {
        const lp = T > 0 ? d.logprob[r] : d.greedyLogprob[r];
        assert.ok(Math.abs(lp - tokenLogprob(logits.subarray(r * c.vocabSize, (r + 1) * c.vocabSize), got[r])) < 1e-4, `step ${step} row ${r}`);
      });
      sampled += new Set(got).size;
      last[0] = want;
      last[1] = got;
    }
    assert.ok(sampled > 24, 'the rows produced different tokens (the test is not vacuous)');
  } finally {
    await gen.release();
  }
});
