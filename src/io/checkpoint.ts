// Model directories: steer saves and loads the Hugging Face layout, so a steer checkpoint is an HF
// checkpoint and vice versa:
//   config.json            HF LlamaConfig (src/io/hfconfig.ts)
//   model.safetensors      HF weight names, or model.safetensors.index.json + shards (src/io/sharded.ts),
//                          F32 / F16 / BF16 on disk, float32 in memory
//   tokenizer files        tokenizer.json + tokenizer_config.json (HF) or tokenizer.bin (llama2.c)
//   steer.json             metadata: format, version, where it came from, anything the caller adds
// A directory is written completely beside the target, then renamed into place: a reader sees the
// old directory or the new one, never a half-written one.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { totalmem } from 'node:os';
import { UserError } from '../util/errors.js';
import type { LlamaConfig } from '../nn/config.js';
import { checkLlamaWeights, expectedWeightShapes, type HostTensor, type LlamaWeights } from '../nn/weights.js';
import { readHfLlamaConfig, toHfLlamaConfig } from './hfconfig.js';
import { looksLikeLlama2c, readLlama2c } from './llama2c.js';
import type { SafeDType } from './safetensors.js';
import { dominantDtype, openModelWeights, writeModelWeights } from './sharded.js';

export const STEER_META = 'steer.json';
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.bin', 'tokenizer.model', 'generation_config.json'];

export interface SteerMeta {
  format: 'steer-model';
  version: 1;
  createdAt: string;
  /** what the weights were made from (a path, a run name) */
  source?: string;
  [k: string]: unknown;
}

export interface LoadedModel {
  config: LlamaConfig;
  weights: LlamaWeights;
  /** steer.json when present */
  meta: SteerMeta | null;
  /** a directory, or a llama2.c file */
  path: string;
  kind: 'hf-dir' | 'llama2c';
  /** the tokenizer found beside the model (a directory holding tokenizer.json/.bin), or null */
  tokenizerPath: string | null;
  /** each weight's on-disk dtype (F32 for llama2.c) */
  dtypes: Map<string, SafeDType>;
  /** the dtype most bytes were stored in: pass it as SaveModelOptions.dtype to write back as loaded */
  dtype: SafeDType;
  /** tensors beyond the Llama weights that LoadModelOptions.extraWeights set aside (e.g. score.weight) */
  extras: Map<string, HostTensor>;
}

export interface LoadModelOptions {
  /** names to set aside into LoadedModel.extras instead of rejecting them as unexpected */
  extraWeights?: (name: string) => boolean;
  /** the trunk only: an untied lm_head.weight is neither required nor kept (sequence classification) */
  withoutLmHead?: boolean;
  /** refuse, before reading any tensor, weights whose float32 copy exceeds this (default: the machine's total memory) */
  memoryLimitBytes?: number;
}

export interface SaveModelOptions {
  config: LlamaConfig;
  weights: LlamaWeights;
  /** copy the tokenizer from here: a model directory, a tokenizer.json, or a llama2.c tokenizer .bin (saved as tokenizer.bin) */
  tokenizerFrom?: string | null;
  /** on-disk dtype of the weights: one, or per tensor name (default F32; LoadedModel.dtype writes back as loaded) */
  dtype?: SafeDType | ((name: string) => SafeDType);
  /** shard the weights above this many bytes per file (default 5 GB, transformers' default) */
  maxShardBytes?: number;
  /** tensors written with the Llama weights, after them (e.g. a sequence-classification score.weight) */
  extraWeights?: Map<string, HostTensor>;
  /** the trunk only: lm_head.weight is not written (sequence classification) */
  withoutLmHead?: boolean;
  /** fields merged over the generated config.json (e.g. architectures, id2label, pad_token_id) */
  hfConfig?: Record<string, unknown>;
  /** merged into steer.json */
  meta?: Record<string, unknown>;
  /** further files written into the directory (e.g. a trainer's state), name → contents */
  extraFiles?: Record<string, string | Uint8Array>;
}

/** Save a model directory atomically (see the file header). Returns the directory. */
export function saveModelDir(dir: string, opts: SaveModelOptions): string {
  const weights = checkLlamaWeights(opts.config, new Map(opts.weights), `saveModelDir(${dir})`, { withoutLmHead: opts.withoutLmHead });
  const all = new Map(weights);
  for (const [n, t] of opts.extraWeights ?? []) {
    if (all.has(n)) throw new UserError({ what: `extra weight ${n} clashes with a Llama weight`, where: 'saveModelDir(extraWeights)', fix: 'give it another name' });
    all.set(n, t);
  }
  const order = [...expectedWeightShapes(opts.config).map(([n]) => n).filter((n) => all.has(n)), ...(opts.extraWeights?.keys() ?? [])];
  return saveModelDirWith(dir, opts, (tmp) => {
    writeModelWeights(tmp, order.map((n) => ({ name: n, shape: all.get(n)!.shape })), (n) => all.get(n)!.data, { dtype: opts.dtype ?? 'F32', maxShardBytes: opts.maxShardBytes });
  });
}

/**
 * Save a model directory atomically with the weights written by `writeWeights(tmpDir)` (e.g.
 * streamed tensor by tensor, src/io/sharded.ts writeModelWeights); everything else as saveModelDir.
 */
export function saveModelDirWith(dir: string, opts: Omit<SaveModelOptions, 'weights' | 'extraWeights' | 'dtype' | 'maxShardBytes'>, writeWeights: (tmpDir: string) => void): string {
  const target = resolve(dir);
  if (existsSync(target) && !statSync(target).isDirectory()) {
    throw new UserError({ what: 'the output path exists and is not a directory', where: target, fix: 'choose another --out or remove the file' });
  }
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'config.json'), JSON.stringify({ ...toHfLlamaConfig(opts.config), ...opts.hfConfig }, null, 2) + '\n');
    const meta: SteerMeta = { format: 'steer-model', version: 1, createdAt: new Date().toISOString(), ...opts.meta };
    writeWeights(tmp);
    if (opts.tokenizerFrom) copyTokenizer(opts.tokenizerFrom, tmp);
    for (const [name, data] of Object.entries(opts.extraFiles ?? {})) {
      if (name.includes('/') || name.includes('..')) throw new UserError({ what: `extra file name ${JSON.stringify(name)} is not a plain file name`, where: 'saveModelDir(extraFiles)', fix: 'use names without slashes' });
      writeFileSync(join(tmp, name), data);
    }
    writeFileSync(join(tmp, STEER_META), JSON.stringify(meta, null, 2) + '\n');
    if (existsSync(target)) {
      const old = `${tmp}.old`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return target;
}

/** Copy bytes (not permissions: a read-only source must not make the checkpoint read-only). */
function copyFile(from: string, to: string): void {
  writeFileSync(to, readFileSync(from));
}

function copyTokenizer(from: string, toDir: string): void {
  if (!existsSync(from)) throw new UserError({ what: 'the tokenizer to copy does not exist', where: from, fix: 'pass the model directory or tokenizer file' });
  if (statSync(from).isDirectory()) {
    for (const f of TOKENIZER_FILES) if (existsSync(join(from, f))) copyFile(join(from, f), join(toDir, f));
    return;
  }
  if (from.endsWith('.json')) {
    copyFile(from, join(toDir, 'tokenizer.json'));
    const cfg = join(dirname(from), 'tokenizer_config.json');
    if (existsSync(cfg)) copyFile(cfg, join(toDir, 'tokenizer_config.json'));
    return;
  }
  copyFile(from, join(toDir, 'tokenizer.bin'));
}

/** Load a model directory (config.json + safetensors) or a llama2.c checkpoint file. */
export function loadModel(path: string, opts: LoadModelOptions = {}): LoadedModel {
  if (!existsSync(path)) {
    throw new UserError({ what: 'the model path does not exist', where: path, fix: 'pass a model directory (config.json + model.safetensors) or a llama2.c .bin file' });
  }
  if (!statSync(path).isDirectory()) {
    if (!looksLikeLlama2c(path)) readLlama2c(path); // throws the precise header error
    const { config, weights } = readLlama2c(path);
    const dtypes = new Map([...weights.keys()].map((n) => [n, 'F32' as SafeDType]));
    return { config, weights, meta: null, path, kind: 'llama2c', tokenizerPath: null, dtypes, dtype: 'F32', extras: new Map() };
  }
  const config = readHfLlamaConfig(join(path, 'config.json'));
  // headers of every shard are validated before any tensor is read
  const source = openModelWeights(path);
  let f32Bytes = 0;
  for (const n of source.names()) f32Bytes += 4 * source.entry(n).shape.reduce((a, b) => a * b, 1);
  const limit = opts.memoryLimitBytes ?? totalmem();
  if (f32Bytes > limit) {
    source.close();
    const gb = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : `${(b / 1e6).toFixed(2)} MB`);
    throw new UserError({ what: `the weights need ${gb(f32Bytes)} as float32, more than this machine's ${gb(limit)} of memory`, where: path, expected: `at most ${gb(limit)} of weights (float32, the engine's compute dtype)`, received: `${gb(f32Bytes)} (${source.names().length} tensors)`, fix: 'use a smaller model or a machine with more memory; tensor-by-tensor commands (steer rm expo) work on any size, and `steer export` runs training on a distributed engine' });
  }
  let all: { tensors: LlamaWeights; dtypes: Map<string, SafeDType> };
  try {
    all = source.readAll();
  } finally {
    source.close();
  }
  const extras = new Map<string, HostTensor>();
  if (opts.extraWeights) {
    for (const [n, t] of all.tensors) {
      if (opts.extraWeights(n)) {
        extras.set(n, t);
        all.tensors.delete(n);
      }
    }
  }
  const weights = checkLlamaWeights(config, all.tensors, path, { withoutLmHead: opts.withoutLmHead });
  const dtypes = new Map([...weights.keys()].map((n) => [n, all.dtypes.get(n)!]));
  const dtype = dominantDtype([...weights].map(([n, t]) => ({ dtype: dtypes.get(n)!, shape: t.shape })));
  let meta: SteerMeta | null = null;
  if (existsSync(join(path, STEER_META))) {
    try {
      meta = JSON.parse(readFileSync(join(path, STEER_META), 'utf8')) as SteerMeta;
    } catch (e) {
      throw new UserError({ what: `steer.json is not valid JSON (${(e as Error).message})`, where: join(path, STEER_META), fix: 'repair it or delete it (it only holds metadata)' });
    }
  }
  const tokenizerPath = existsSync(join(path, 'tokenizer.json')) || existsSync(join(path, 'tokenizer.bin')) ? path : null;
  return { config, weights, meta, path, kind: 'hf-dir', tokenizerPath, dtypes, dtype, extras };
}

export interface ConvertOptions {
  /** a llama2.c .bin or a model directory */
  from: string;
  /** the tokenizer to copy in (default: the one in the source directory, if any) */
  tokenizer?: string | null;
  /** the model directory to write */
  out: string;
  /** on-disk dtype; 'source' keeps each tensor's dtype as loaded (default F32) */
  dtype?: SafeDType | 'source';
  /** shard above this many bytes per file (default 5 GB) */
  maxShardBytes?: number;
}

/** Convert a llama2.c checkpoint (or re-save a model directory) as a steer / HF model directory. */
export function convertModel(o: ConvertOptions): { dir: string; config: LlamaConfig; tensors: number; parameters: number } {
  const m = loadModel(o.from);
  if (resolve(o.out) === resolve(o.from)) {
    throw new UserError({ what: 'the output directory is the input', where: o.out, fix: 'choose another --out' });
  }
  const dir = saveModelDir(o.out, {
    config: m.config,
    weights: m.weights,
    tokenizerFrom: o.tokenizer ?? m.tokenizerPath,
    dtype: o.dtype === 'source' ? (n) => m.dtypes.get(n) ?? m.dtype : o.dtype,
    maxShardBytes: o.maxShardBytes,
    meta: { source: resolve(o.from), sourceFormat: m.kind === 'llama2c' ? 'llama2.c' : 'hf' },
  });
  let parameters = 0;
  for (const t of m.weights.values()) parameters += t.data.length;
  return { dir, config: m.config, tensors: m.weights.size, parameters };
}
