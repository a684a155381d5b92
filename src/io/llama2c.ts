// llama2.c checkpoints (karpathy/llama2.c, run.c + export.py) → HF-named weights.
// Legacy format (version 0): 7 int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
// vocab_size, seq_len; negative vocab_size = untied classifier), then float32 weights in run.c's
// order: embedding, rms_att[L], wq[L], wk[L], wv[L], wo[L], rms_ffn[L], w1[L], w2[L], w3[L],
// rms_final, freq_cis_real, freq_cis_imag (unused), classifier (if untied).
// Version 1 (export.py version1_export): magic "ak42", int32 version 1, the 7 int32, uint8
// shared_classifier, zero padding to 256 bytes, then all norms first, embedding, wq…w3, classifier.
//
// RoPE layout: llama2.c rotates interleaved pairs (2j, 2j+1) of each head (Meta's layout); HF's
// rotate_half pairs (j, j + hd/2). As transformers' convert_llama_weights_to_hf.py does, q and k
// rows are permuted per head: new row h·hd + c·hd/2 + j = old row h·hd + 2j + c (c ∈ {0,1}), so
// every consumer uses the HF convention. Norm eps 1e-5 and θ = 10000 are run.c's constants.
// writeLlama2c writes the legacy format (the inverse permutation), so run.c and llama2.c's tools
// can run a model steer made (e.g. the random 15M model of bench:generate).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';
import { ropeTables } from '../nn/rope.js';
import { UserError } from '../util/errors.js';
import { checkLlamaConfig, type LlamaConfig } from '../nn/config.js';
import { EMBED, FINAL_NORM, LM_HEAD, layerNames, type HostTensor, type LlamaWeights } from '../nn/weights.js';

const MAGIC = 0x616b3432; // "ak42"

export interface Llama2cCheckpoint {
  config: LlamaConfig;
  weights: LlamaWeights;
  /** 0 = legacy header, 1 = version 1 */
  version: 0 | 1;
}

interface Header {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  shared: boolean;
  version: 0 | 1;
  dataOffset: number;
}

function readHeader(buf: Buffer, size: number, path: string): Header {
  const fix = 'pass a llama2.c model file (e.g. stories260K.bin) written by llama2.c export.py (legacy or --version 1)';
  if (size < 28) throw new UserError({ what: 'the file is too short to be a llama2.c checkpoint', where: path, expected: 'a 28-byte header then float32 weights', received: `${size} bytes`, fix });
  const magic = buf.readUInt32LE(0);
  if (magic === MAGIC) {
    const version = buf.readInt32LE(4);
    if (version !== 1) {
      throw new UserError({ what: `unsupported llama2.c checkpoint version ${version}`, where: path, expected: 'version 0 (legacy) or 1 (float32)', received: `version ${version}${version === 2 ? ' (int8 quantised)' : ''}`, fix: 'export the model with llama2.c export.py --version 1 (float32)' });
    }
    const ints = [0, 1, 2, 3, 4, 5, 6].map((i) => buf.readInt32LE(8 + 4 * i));
    const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen] = ints;
    return check({ dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, shared: buf.readUInt8(36) === 1, version: 1, dataOffset: 256 }, path);
  }
  const ints = [0, 1, 2, 3, 4, 5, 6].map((i) => buf.readInt32LE(4 * i));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = ints;
  return check({ dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(vocab), seqLen, shared: vocab > 0, version: 0, dataOffset: 28 }, path);
}

function check(h: Header, path: string): Header {
  const names = ['dim', 'hiddenDim', 'nLayers', 'nHeads', 'nKvHeads', 'vocabSize', 'seqLen'] as const;
  for (const k of names) {
    if (!(h[k] > 0 && h[k] < 1 << 24)) {
      throw new UserError({
        what: `implausible llama2.c header field ${k}`,
        where: `${path}: header`,
        expected: 'positive integers: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len',
        received: names.map((n) => `${n}=${h[n]}`).join(' '),
        fix: 'this is not a llama2.c checkpoint (or it is corrupt): pass the .bin written by llama2.c export.py',
      });
    }
  }
  if (h.dim % h.nHeads !== 0 || h.nHeads % h.nKvHeads !== 0) {
    throw new UserError({ what: 'inconsistent llama2.c header: dim must be a multiple of n_heads and n_heads of n_kv_heads', where: `${path}: header`, received: `dim=${h.dim} n_heads=${h.nHeads} n_kv_heads=${h.nKvHeads}`, fix: 'the file is corrupt: re-export it' });
  }
  return h;
}

/** Tensors in file order for a header: [HF name or null (skipped), shape]. */
function layout(h: Header): [string | null, number[]][] {
  const hd = h.dim / h.nHeads;
  const q = h.nHeads * hd;
  const kv = h.nKvHeads * hd;
  const L = [...Array(h.nLayers).keys()];
  const per = (key: keyof ReturnType<typeof layerNames>, shape: number[]) => L.map((i): [string, number[]] => [layerNames(i)[key], shape]);
  const mats: [string | null, number[]][] = [
    ...per('q', [q, h.dim]),
    ...per('k', [kv, h.dim]),
    ...per('v', [kv, h.dim]),
    ...per('o', [h.dim, q]),
  ];
  const ffn: [string | null, number[]][] = [...per('gate', [h.hiddenDim, h.dim]), ...per('down', [h.dim, h.hiddenDim]), ...per('up', [h.hiddenDim, h.dim])];
  const head: [string | null, number[]][] = h.shared ? [] : [[LM_HEAD, [h.vocabSize, h.dim]]];
  if (h.version === 1) {
    return [...per('attnNorm', [h.dim]), ...per('mlpNorm', [h.dim]), [FINAL_NORM, [h.dim]], [EMBED, [h.vocabSize, h.dim]], ...mats, ...ffn, ...head];
  }
  const freq = h.seqLen * (hd / 2);
  return [
    [EMBED, [h.vocabSize, h.dim]],
    ...per('attnNorm', [h.dim]),
    ...mats,
    ...per('mlpNorm', [h.dim]),
    ...ffn,
    [FINAL_NORM, [h.dim]],
    [null, [freq]],
    [null, [freq]],
    ...head,
  ];
}

/** Undo llama2.c's interleaved RoPE layout for q/k rows (see the file header). w: [nh·hd, D]. */
export function permuteForRotateHalf(w: HostTensor, nHeads: number): HostTensor {
  return permuteHeadRows(w, nHeads, true);
}

/** permuteForRotateHalf's inverse: HF rotate_half rows back to llama2.c's interleaved pairs. */
export function permuteToInterleaved(w: HostTensor, nHeads: number): HostTensor {
  return permuteHeadRows(w, nHeads, false);
}

/** Row 2j + c of each head (interleaved pairs) ↔ row c·hd/2 + j (rotate_half halves). */
function permuteHeadRows(w: HostTensor, nHeads: number, toRotateHalf: boolean): HostTensor {
  const [rows, cols] = w.shape;
  const hd = rows / nHeads;
  const half = hd / 2;
  const out = new Float32Array(w.data.length);
  for (let h = 0; h < nHeads; h++) {
    for (let j = 0; j < half; j++) {
      for (let c = 0; c < 2; c++) {
        const interleaved = (h * hd + 2 * j + c) * cols;
        const halves = (h * hd + c * half + j) * cols;
        const [from, to] = toRotateHalf ? [interleaved, halves] : [halves, interleaved];
        out.set(w.data.subarray(from, from + cols), to);
      }
    }
  }
  return { shape: [rows, cols], data: out };
}

/**
 * Write a model as a legacy (version 0) llama2.c checkpoint, atomically: what run.c reads. The
 * model must be one run.c can run: RoPE θ = 10000 without scaling, RMSNorm eps 1e-5, head_dim =
 * hidden_size / num_heads. freq_cis_real/imag (unused by run.c) hold cos/sin of position · θ^(−2j/hd).
 */
export function writeLlama2c(path: string, config: LlamaConfig, weights: LlamaWeights): void {
  const c = config;
  const bad = (what: string, received: string) => {
    throw new UserError({ what: `the model cannot be written as a llama2.c checkpoint: ${what}`, where: `writeLlama2c(${path})`, expected: 'rope_theta 10000 without rope scaling, rms_norm_eps 1e-5, head_dim = hidden_size / num_heads (run.c\'s constants)', received, fix: 'save it as a steer / Hugging Face directory instead (saveModelDir)' });
  };
  if (c.ropeTheta !== 10000 || c.ropeScaling !== null) bad('RoPE', `rope_theta ${c.ropeTheta}, scaling ${JSON.stringify(c.ropeScaling)}`);
  if (Math.abs(c.rmsNormEps - 1e-5) > 1e-12) bad('RMSNorm eps', String(c.rmsNormEps));
  if (c.headDim * c.numHeads !== c.hiddenSize) bad('head_dim', `head_dim ${c.headDim} × num_heads ${c.numHeads} ≠ hidden_size ${c.hiddenSize}`);
  const h: Header = { dim: c.hiddenSize, hiddenDim: c.intermediateSize, nLayers: c.numLayers, nHeads: c.numHeads, nKvHeads: c.numKvHeads, vocabSize: c.vocabSize, seqLen: c.maxPositionEmbeddings, shared: c.tieWordEmbeddings, version: 0, dataOffset: 28 };
  const tensors = layout(h);
  const floats = tensors.reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
  const out = new Float32Array(floats);
  const { cos, sin } = ropeTables(c, h.seqLen);
  const freqs = [cos, sin];
  const interleaved = new Map<string, HostTensor>();
  for (let i = 0; i < h.nLayers; i++) {
    const n = layerNames(i);
    for (const [name, heads] of [[n.q, h.nHeads], [n.k, h.nKvHeads]] as const) {
      const t = weights.get(name);
      if (t) interleaved.set(name, permuteToInterleaved(t, heads));
    }
  }
  let off = 0;
  for (const [name, shape] of tensors) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = name === null ? freqs.shift()! : (interleaved.get(name) ?? weights.get(name))?.data;
    if (!data || data.length !== size) {
      throw new UserError({ what: `weight ${name} is ${data ? `of ${data.length} values` : 'missing'}`, where: `writeLlama2c(${path})`, expected: `[${shape.join(', ')}]`, fix: 'pass weights checked against the config (loadModel / checkLlamaWeights)' });
    }
    out.set(data, off);
    off += size;
  }
  const header = new Int32Array([h.dim, h.hiddenDim, h.nLayers, h.nHeads, h.nKvHeads, h.shared ? h.vocabSize : -h.vocabSize, h.seqLen]);
  const bytes = new Uint8Array(28 + 4 * floats);
  bytes.set(new Uint8Array(header.buffer), 0);
  bytes.set(new Uint8Array(out.buffer), 28);
  writeFileAtomic(path, bytes);
}

/** Read a llama2.c checkpoint into HF-named float32 weights and a LlamaConfig. */
export function readLlama2c(path: string): Llama2cCheckpoint {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new UserError({ what: `cannot open the llama2.c checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, where: path, fix: 'check the path' });
  }
  try {
    const size = fstatSync(fd).size;
    const hbuf = Buffer.alloc(Math.min(256, size));
    readSync(fd, hbuf, 0, hbuf.length, 0);
    const h = readHeader(hbuf, size, path);
    const tensors = layout(h);
    const floats = tensors.reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
    const expectedBytes = h.dataOffset + 4 * floats;
    if (size !== expectedBytes) {
      const other = h.version === 0 ? layout({ ...h, shared: !h.shared }).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0) : -1;
      throw new UserError({
        what: size < expectedBytes ? 'the llama2.c checkpoint is truncated' : 'the llama2.c checkpoint is longer than its header says',
        where: path,
        expected: `${expectedBytes} bytes for dim=${h.dim} hidden_dim=${h.hiddenDim} n_layers=${h.nLayers} n_heads=${h.nHeads} n_kv_heads=${h.nKvHeads} vocab=${h.vocabSize} seq_len=${h.seqLen} (${h.shared ? 'shared' : 'separate'} classifier)`,
        received: `${size} bytes`,
        fix:
          other > 0 && size === h.dataOffset + 4 * other
            ? `the size fits a ${h.shared ? 'separate' : 'shared'} classifier: the sign of vocab_size in the header is wrong; re-export the file`
            : 'the file is corrupt or incompletely downloaded: re-download or re-export it',
      });
    }
    const bytes = Buffer.alloc(size - h.dataOffset);
    let got = 0;
    while (got < bytes.length) got += readSync(fd, bytes, got, bytes.length - got, h.dataOffset + got);
    const all = new Float32Array(bytes.buffer, bytes.byteOffset, floats);
    const weights: LlamaWeights = new Map();
    let off = 0;
    for (const [name, shape] of tensors) {
      const n = shape.reduce((a, b) => a * b, 1);
      if (name !== null) weights.set(name, { shape, data: all.slice(off, off + n) });
      off += n;
    }
    for (let i = 0; i < h.nLayers; i++) {
      const n = layerNames(i);
      weights.set(n.q, permuteForRotateHalf(weights.get(n.q)!, h.nHeads));
      weights.set(n.k, permuteForRotateHalf(weights.get(n.k)!, h.nKvHeads));
    }
    const config = checkLlamaConfig(
      {
        vocabSize: h.vocabSize,
        hiddenSize: h.dim,
        intermediateSize: h.hiddenDim,
        numLayers: h.nLayers,
        numHeads: h.nHeads,
        numKvHeads: h.nKvHeads,
        headDim: h.dim / h.nHeads,
        rmsNormEps: 1e-5,
        ropeTheta: 10000,
        ropeScaling: null,
        maxPositionEmbeddings: h.seqLen,
        tieWordEmbeddings: h.shared,
        bosTokenId: 1,
        // run.c ends generation at BOS (1), which delimits the training stories; 2 is </s>.
        eosTokenIds: [1, 2],
      },
      path,
    );
    return { config, weights, version: h.version };
  } finally {
    closeSync(fd);
  }
}

/** True when the file starts like a llama2.c checkpoint (legacy header or "ak42" magic). */
export function looksLikeLlama2c(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(256, size));
      readSync(fd, buf, 0, buf.length, 0);
      readHeader(buf, size, path);
      return true;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}
