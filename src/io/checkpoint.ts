// Model directories: steer saves and loads the Hugging Face layout, so a steer checkpoint is an HF
// checkpoint and vice versa:
//   config.json            HF LlamaConfig (src/io/hfconfig.ts)
//   model.safetensors      HF weight names (or model.safetensors.index.json + shards, read only)
//   tokenizer files        tokenizer.json + tokenizer_config.json (HF) or tokenizer.bin (llama2.c)
//   steer.json             metadata: format, version, where it came from, anything the caller adds
// A directory is written completely beside the target, then renamed into place: a reader sees the
// old directory or the new one, never a half-written one.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import type { LlamaConfig } from '../nn/config.js';
import { checkLlamaWeights, type LlamaWeights } from '../nn/weights.js';
import { readHfLlamaConfig, toHfLlamaConfig } from './hfconfig.js';
import { looksLikeLlama2c, readLlama2c } from './llama2c.js';
import { readSafetensors, serializeSafetensors, type SafeDType } from './safetensors.js';

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
}

export interface SaveModelOptions {
  config: LlamaConfig;
  weights: LlamaWeights;
  /** copy the tokenizer from here: a model directory, a tokenizer.json, or a llama2.c tokenizer .bin (saved as tokenizer.bin) */
  tokenizerFrom?: string | null;
  /** on-disk dtype of the weights (default F32) */
  dtype?: SafeDType;
  /** merged into steer.json */
  meta?: Record<string, unknown>;
  /** further files written into the directory (e.g. a trainer's state), name → contents */
  extraFiles?: Record<string, string | Uint8Array>;
}

/** Save a model directory atomically (see the file header). Returns the directory. */
export function saveModelDir(dir: string, opts: SaveModelOptions): string {
  const target = resolve(dir);
  const weights = checkLlamaWeights(opts.config, new Map(opts.weights), `saveModelDir(${dir})`);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'config.json'), JSON.stringify(toHfLlamaConfig(opts.config), null, 2) + '\n');
    const meta: SteerMeta = { format: 'steer-model', version: 1, createdAt: new Date().toISOString(), ...opts.meta };
    writeFileSync(join(tmp, 'model.safetensors'), serializeSafetensors(weights, { dtype: opts.dtype ?? 'F32', metadata: { format: 'pt' } }));
    if (opts.tokenizerFrom) copyTokenizer(opts.tokenizerFrom, tmp);
    for (const [name, data] of Object.entries(opts.extraFiles ?? {})) {
      if (name.includes('/') || name.includes('..')) throw new UserError({ what: `extra file name ${JSON.stringify(name)} is not a plain file name`, where: 'saveModelDir(extraFiles)', fix: 'use names without slashes' });
      writeFileSync(join(tmp, name), data);
    }
    writeFileSync(join(tmp, STEER_META), JSON.stringify(meta, null, 2) + '\n');
    if (existsSync(target)) {
      if (!statSync(target).isDirectory()) {
        throw new UserError({ what: 'the output path exists and is not a directory', where: target, fix: 'choose another --out or remove the file' });
      }
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

/** The weights of a model directory: model.safetensors, or the shards model.safetensors.index.json names. */
export function readWeights(dir: string): LlamaWeights {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return readSafetensors(single).tensors;
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    let map: Record<string, string>;
    try {
      map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
      if (map === null || typeof map !== 'object') throw new Error('no weight_map');
    } catch (e) {
      throw new UserError({ what: `the safetensors index is unreadable (${(e as Error).message})`, where: index, expected: '{"weight_map": {tensor name: shard file}}', fix: 're-download the model' });
    }
    const out: LlamaWeights = new Map();
    for (const shard of new Set(Object.values(map))) {
      for (const [n, t] of readSafetensors(join(dir, shard)).tensors) out.set(n, t);
    }
    return out;
  }
  const hint = existsSync(join(dir, 'pytorch_model.bin')) ? ' (found pytorch_model.bin: convert it to safetensors first, e.g. with transformers save_pretrained(safe_serialization=True))' : '';
  throw new UserError({ what: `no model.safetensors in the model directory${hint}`, where: dir, expected: 'model.safetensors or model.safetensors.index.json beside config.json', fix: 'point --model at a Hugging Face / steer model directory or a llama2.c .bin file' });
}

/** Load a model directory (config.json + safetensors) or a llama2.c checkpoint file. */
export function loadModel(path: string): LoadedModel {
  if (!existsSync(path)) {
    throw new UserError({ what: 'the model path does not exist', where: path, fix: 'pass a model directory (config.json + model.safetensors) or a llama2.c .bin file' });
  }
  if (!statSync(path).isDirectory()) {
    if (!looksLikeLlama2c(path)) readLlama2c(path); // throws the precise header error
    const { config, weights } = readLlama2c(path);
    return { config, weights, meta: null, path, kind: 'llama2c', tokenizerPath: null };
  }
  const config = readHfLlamaConfig(join(path, 'config.json'));
  const weights = checkLlamaWeights(config, readWeights(path), path);
  let meta: SteerMeta | null = null;
  if (existsSync(join(path, STEER_META))) {
    try {
      meta = JSON.parse(readFileSync(join(path, STEER_META), 'utf8')) as SteerMeta;
    } catch (e) {
      throw new UserError({ what: `steer.json is not valid JSON (${(e as Error).message})`, where: join(path, STEER_META), fix: 'repair it or delete it (it only holds metadata)' });
    }
  }
  const tokenizerPath = existsSync(join(path, 'tokenizer.json')) || existsSync(join(path, 'tokenizer.bin')) ? path : null;
  return { config, weights, meta, path, kind: 'hf-dir', tokenizerPath };
}

export interface ConvertOptions {
  /** a llama2.c .bin or a model directory */
  from: string;
  /** the tokenizer to copy in (default: the one in the source directory, if any) */
  tokenizer?: string | null;
  /** the model directory to write */
  out: string;
  dtype?: SafeDType;
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
    dtype: o.dtype,
    meta: { source: resolve(o.from), sourceFormat: m.kind === 'llama2c' ? 'llama2.c' : 'hf' },
  });
  let parameters = 0;
  for (const t of m.weights.values()) parameters += t.data.length;
  return { dir, config: m.config, tensors: m.weights.size, parameters };
}
