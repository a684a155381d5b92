import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sharedFile } from '../helpers/shared.js';
import { permuteForRotateHalf, readLlama2c, writeLlama2c } from '../../src/io/llama2c.js';
import { checkLlamaConfig } from '../../src/nn/config.js';
import { initLlamaWeights } from '../../src/nn/init.js';
import { Rng } from '../../src/util/rng.js';
import { isUserError } from '../../src/util/errors.js';
import { layerNames } from '../../src/nn/weights.js';

test('stories260K: header, config, HF names, tied head', (t) => {
  const p = sharedFile(t, 'data/stories260k/stories260K.bin');
  if (!p) return;
  const { config, weights, version } = readLlama2c(p);
  assert.equal(version, 0);
  // header (../shared/data/README.md): dim 64, hidden 172, layers 5, heads 8, kv heads 4, vocab 512, seq 512
  assert.deepEqual(
    [config.hiddenSize, config.intermediateSize, config.numLayers, config.numHeads, config.numKvHeads, config.vocabSize, config.maxPositionEmbeddings],
    [64, 172, 5, 8, 4, 512, 512],
  );
  assert.equal(config.headDim, 8);
  assert.equal(config.tieWordEmbeddings, true);
  assert.equal(weights.has('lm_head.weight'), false);
  assert.deepEqual(weights.get('model.layers.4.self_attn.k_proj.weight')!.shape, [32, 64]);
  assert.deepEqual(weights.get('model.layers.0.mlp.down_proj.weight')!.shape, [64, 172]);
  assert.equal(weights.size, 1 + 5 * 9 + 1);
  // the embedding is the file's first matrix, verbatim: float 0 of the data = bytes 28..31
  const raw = readFileSync(p);
  assert.equal(weights.get('model.embed_tokens.weight')!.data[0], raw.readFloatLE(28));
  // wv is not permuted: layer 0's wv starts after emb (512·64), rms_att (5·64), wq (5·64·64), wk (5·32·64)
  const wvStart = 28 + 4 * (512 * 64 + 5 * 64 + 5 * 64 * 64 + 5 * 32 * 64);
  assert.equal(weights.get(layerNames(0).v)!.data[0], raw.readFloatLE(wvStart));
  // wq row 1 of head 0 in HF order is llama2.c row 2 (the second pair's first element)
  const wqStart = 28 + 4 * (512 * 64 + 5 * 64);
  assert.equal(weights.get(layerNames(0).q)!.data[64], raw.readFloatLE(wqStart + 4 * 2 * 64));
});

test('q/k permutation: interleaved pairs → rotate_half halves, per head', () => {
  // 2 heads, head_dim 4, 1 column: llama2.c rows per head [x0 y0 x1 y1] (pairs (x_j, y_j)),
  // HF wants [x0 x1 y0 y1]. Row values name the source row.
  const w = { shape: [8, 1], data: Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]) };
  assert.deepEqual([...permuteForRotateHalf(w, 2).data], [0, 2, 1, 3, 4, 6, 5, 7]);
  // with 2 columns the rows move whole
  const w2 = { shape: [4, 2], data: Float32Array.from([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]) };
  assert.deepEqual([...permuteForRotateHalf(w2, 1).data], [0, 0.5, 2, 2.5, 1, 1.5, 3, 3.5]);
});

test('version 1 files (export.py --version 1) load to the same weights as the legacy file', (t) => {
  const p = sharedFile(t, 'data/stories260k/stories260K.bin');
  if (!p) return;
  const legacy = readFileSync(p);
  const f = new Float32Array(legacy.buffer.slice(legacy.byteOffset + 28, legacy.byteOffset + legacy.length));
  // legacy float offsets (run.c checkpoint_init_weights), L=5, D=64, F=172, V=512, kv=32
  const L = 5, D = 64, F = 172, V = 512, KV = 32;
  let o = 0;
  const take = (n: number) => f.subarray(o, (o += n));
  const emb = take(V * D), rmsAtt = take(L * D), wq = take(L * D * D), wk = take(L * KV * D), wv = take(L * KV * D), wo = take(L * D * D);
  const rmsFfn = take(L * D), w1 = take(L * F * D), w2 = take(L * D * F), w3 = take(L * F * D), norm = take(D);
  // version 1 (export.py version1_export): 256-byte header, then norms first, embedding, matrices
  const header = Buffer.alloc(256);
  header.writeUInt32LE(0x616b3432, 0);
  header.writeInt32LE(1, 4);
  [D, F, L, 8, 4, V, 512].forEach((v, i) => header.writeInt32LE(v, 8 + 4 * i));
  header.writeUInt8(1, 36); // shared classifier
  const body = [rmsAtt, rmsFfn, norm, emb, wq, wk, wv, wo, w1, w2, w3].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  const dir = mkdtempSync(join(tmpdir(), 'steer-l2c-'));
  try {
    writeFileSync(join(dir, 'v1.bin'), Buffer.concat([header, ...body]));
    const a = readLlama2c(p);
    const b = readLlama2c(join(dir, 'v1.bin'));
    assert.equal(b.version, 1);
    assert.deepEqual(b.config, a.config);
    for (const [name, t] of a.weights) assert.deepEqual(b.weights.get(name)!.data, t.data, name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('llama2.c errors: truncated, wrong classifier flag, quantised version, garbage header', (t) => {
  const p = sharedFile(t, 'data/stories260k/stories260K.bin');
  if (!p) return;
  const raw = readFileSync(p);
  const dir = mkdtempSync(join(tmpdir(), 'steer-l2c-bad-'));
  const expectErr = (name: string, bytes: Buffer, re: RegExp) => {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    assert.throws(() => readLlama2c(f), (e: unknown) => isUserError(e) && re.test(e.message) && e.message.includes(f) && /fix:/.test(e.message), re.source);
  };
  try {
    expectErr('trunc.bin', raw.subarray(0, raw.length - 4), /truncated[\s\S]*expected: 1056540 bytes[\s\S]*received: 1056536 bytes/);
    // the same file with vocab -512 (untied): the size fits a shared classifier → say so
    const neg = Buffer.from(raw);
    neg.writeInt32LE(-512, 20);
    expectErr('neg.bin', neg, /truncated[\s\S]*fits a shared classifier/);
    const v2 = Buffer.alloc(256);
    v2.writeUInt32LE(0x616b3432, 0);
    v2.writeInt32LE(2, 4);
    expectErr('q8.bin', v2, /unsupported llama2.c checkpoint version 2[\s\S]*int8/);
    expectErr('text.bin', Buffer.from('this is not a model file at all, really'), /implausible llama2.c header field/);
    expectErr('tiny.bin', Buffer.from([1, 2, 3]), /too short/);
    const heads = Buffer.from(raw);
    heads.writeInt32LE(3, 16); // n_kv_heads 3 does not divide 8 heads
    expectErr('heads.bin', heads, /n_heads of n_kv_heads/);
    assert.throws(() => readLlama2c(join(dir, 'none.bin')), (e: unknown) => isUserError(e) && /cannot open/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeLlama2c: stories260K written back is the original file, weights byte for byte; an untied model round-trips', (t) => {
  const p = sharedFile(t, 'data/stories260k/stories260K.bin');
  if (!p) return;
  const dir = mkdtempSync(join(tmpdir(), 'steer-l2c-write-'));
  try {
    const { config, weights } = readLlama2c(p);
    const out = join(dir, 'back.bin');
    writeLlama2c(out, config, weights);
    const a = readFileSync(p);
    const b = readFileSync(out);
    assert.equal(b.length, a.length);
    // header + every weight before the freq_cis tables (emb … rms_final) are the original bytes
    const { headDim, maxPositionEmbeddings: seq } = config;
    const freqStart = a.length - 2 * 4 * seq * (headDim / 2); // tied: the two tables end the file
    assert.ok(a.subarray(0, freqStart).equals(b.subarray(0, freqStart)), 'weights differ from the original file');
    // the unused tables: llama2.c wrote float32 cos/sin(pos · θ^(−2j/hd)); ours agree to float rounding
    const fa = new Float32Array(a.buffer.slice(a.byteOffset + freqStart, a.byteOffset + a.length));
    const fb = new Float32Array(b.buffer.slice(b.byteOffset + freqStart, b.byteOffset + b.length));
    let worst = 0;
    for (let i = 0; i < fa.length; i++) worst = Math.max(worst, Math.abs(fa[i] - fb[i]));
    assert.ok(worst < 1e-3, `freq tables differ by ${worst}`);
    // untied classifier, GQA: write → read gives the same weights
    const c = checkLlamaConfig({ vocabSize: 40, hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 4, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 32, tieWordEmbeddings: false, bosTokenId: 1, eosTokenIds: [2] }, 'test');
    const w = initLlamaWeights(c, new Rng(5));
    const out2 = join(dir, 'untied.bin');
    writeLlama2c(out2, c, w);
    const back = readLlama2c(out2);
    assert.equal(back.config.tieWordEmbeddings, false);
    assert.equal(back.weights.size, w.size);
    for (const [name, tensor] of w) assert.deepEqual(back.weights.get(name)!.data, tensor.data, name);
    // run.c's constants only
    assert.throws(() => writeLlama2c(join(dir, 'x.bin'), { ...c, ropeTheta: 500000 }, w), (e: unknown) => isUserError(e) && /RoPE/.test((e as Error).message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
