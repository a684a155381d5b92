// A model directory's weights as Hugging Face stores them: one `model.safetensors`, or shards
//   model-00001-of-0000N.safetensors … + model.safetensors.index.json
//   {"metadata": {"total_size": <data bytes of all shards>}, "weight_map": {tensor name: shard file}}
// (transformers modeling_utils save_pretrained / huggingface_hub split_torch_state_dict_into_shards).
// Opening checks the whole layout before any tensor is read: the index parses, every shard it
// names exists and has a valid header with supported dtypes, every mapped tensor is in its shard.
// Tensors are then read one at a time (WeightSource.read), so a caller that converts or merges
// tensor by tensor holds one tensor at a time, and one that keeps them all holds one float32 copy.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError, describeValue } from '../util/errors.js';
import type { HostTensor } from '../nn/weights.js';
import { SafetensorsFile, SafetensorsStreamWriter, storedBytes, type SafeDType, type SafetensorsEntry } from './safetensors.js';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** transformers' default max_shard_size ("5GB", decimal). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

/** Every tensor of a model directory, opened (headers validated), read on request. */
export interface WeightSource {
  dir: string;
  /** shard file names in order (one name for a single file) */
  files: string[];
  /** shard file → the tensor names it holds, in file order */
  layout: Map<string, string[]>;
  /** whether the directory is sharded (has an index) */
  sharded: boolean;
  /** tensor names, in shard order */
  names(): string[];
  entry(name: string): SafetensorsEntry & { file: string };
  has(name: string): boolean;
  /** one tensor widened to float32 */
  read(name: string): HostTensor;
  /** elements [start, start + count) of one tensor, float32 (reading a large tensor in chunks) */
  readSlice(name: string, start: number, count: number): Float32Array;
  /** every tensor (float32) and its on-disk dtype; keep = which names to read (default all) */
  readAll(keep?: (name: string) => boolean): { tensors: Map<string, HostTensor>; dtypes: Map<string, SafeDType> };
  close(): void;
}

/** True when the directory holds model.safetensors or an index. */
export function hasModelWeights(dir: string): boolean {
  return existsSync(join(dir, SINGLE_FILE)) || existsSync(join(dir, INDEX_FILE));
}

function readIndex(path: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError({ what: `the safetensors index is unreadable: not valid JSON (${(e as Error).message})`, where: path, expected: '{"metadata": {...}, "weight_map": {tensor name: shard file}}', fix: 're-download the model or re-save it' });
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw new UserError({ what: 'the safetensors index has no weight_map object', where: `${path}: weight_map`, expected: '{tensor name: shard file}', received: describeValue(map), fix: 're-download the model or re-save it' });
  }
  for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== 'string' || file === '' || file.includes('/') || file.includes('\\') || file === '..') {
      throw new UserError({ what: `the shard of "${name}" is not a plain file name`, where: `${path}: weight_map["${name}"]`, expected: 'a file name in the same directory, e.g. model-00001-of-00002.safetensors', received: describeValue(file), fix: 'repair the index' });
    }
  }
  return map as Record<string, string>;
}

/** Open a directory's weights (single file or sharded), validating the layout first (see the file header). */
export function openModelWeights(dir: string): WeightSource {
  const single = join(dir, SINGLE_FILE);
  const indexPath = join(dir, INDEX_FILE);
  const files = new Map<string, SafetensorsFile>();
  const owner = new Map<string, string>();
  const layout = new Map<string, string[]>();
  const closeAll = () => {
    for (const f of files.values()) f.close();
  };
  let sharded = false;
  try {
    if (existsSync(single)) {
      const f = new SafetensorsFile(single);
      files.set(SINGLE_FILE, f);
      const names = [...f.entries.values()].sort((a, b) => a.begin - b.begin).map((e) => e.name);
      layout.set(SINGLE_FILE, names);
      for (const n of names) owner.set(n, SINGLE_FILE);
    } else if (existsSync(indexPath)) {
      sharded = true;
      const map = readIndex(indexPath);
      const byFile = new Map<string, string[]>();
      for (const [name, file] of Object.entries(map)) {
        if (!byFile.has(file)) byFile.set(file, []);
        byFile.get(file)!.push(name);
      }
      const missing = [...byFile.keys()].filter((f) => !existsSync(join(dir, f)));
      if (missing.length > 0) {
        const needs = byFile.get(missing[0])!;
        throw new UserError({
          what: `${missing.length} shard${missing.length > 1 ? 's' : ''} named in the index ${missing.length > 1 ? 'are' : 'is'} missing: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`,
          where: indexPath,
          expected: `every file of weight_map beside the index (${missing[0]} holds ${needs.length} tensors, e.g. ${needs[0]})`,
          received: `${byFile.size - missing.length} of ${byFile.size} shards present`,
          fix: 'download or copy the missing shard files into the directory',
        });
      }
      const order = [...byFile.keys()].sort();
      for (const file of order) {
        const f = new SafetensorsFile(join(dir, file)); // validates the header (dtypes, offsets)
        files.set(file, f);
        const wanted = new Set(byFile.get(file));
        for (const name of wanted) {
          if (!f.entries.has(name)) {
            throw new UserError({ what: `the index maps tensor "${name}" to ${file}, which does not hold it`, where: indexPath, expected: `"${name}" in ${file}`, received: `${f.entries.size} tensors in ${file}, e.g. ${[...f.entries.keys()].slice(0, 3).join(', ')}`, fix: 'the index and the shards come from different saves: re-download the model' });
          }
        }
        const names = [...f.entries.values()].filter((e) => wanted.has(e.name)).sort((a, b) => a.begin - b.begin).map((e) => e.name);
        layout.set(file, names);
        for (const n of names) owner.set(n, file);
      }
    } else {
      const hint = existsSync(join(dir, 'pytorch_model.bin')) ? ' (found pytorch_model.bin: convert it to safetensors first, e.g. with transformers save_pretrained(safe_serialization=True))' : '';
      throw new UserError({ what: `no model.safetensors in the model directory${hint}`, where: dir, expected: `${SINGLE_FILE} or ${INDEX_FILE} beside config.json`, fix: 'point --model at a Hugging Face / steer model directory or a llama2.c .bin file' });
    }
  } catch (e) {
    closeAll();
    throw e;
  }
  const fileOf = (name: string): string => {
    const f = owner.get(name);
    if (f === undefined) throw new UserError({ what: `no tensor "${name}" in the model`, where: dir, expected: name, received: `${owner.size} tensors, e.g. ${[...owner.keys()].slice(0, 3).join(', ')}`, fix: 'the checkpoint does not match the config: use the files saved together' });
    return f;
  };
  const source: WeightSource = {
    dir,
    files: [...layout.keys()],
    layout,
    sharded,
    names: () => [...layout.values()].flat(),
    has: (name) => owner.has(name),
    entry: (name) => {
      const file = fileOf(name);
      return { ...files.get(file)!.entry(name), file };
    },
    read: (name) => files.get(fileOf(name))!.read(name),
    readSlice: (name, start, count) => files.get(fileOf(name))!.readSlice(name, start, count),
    readAll: (keep = () => true) => {
      const tensors = new Map<string, HostTensor>();
      const dtypes = new Map<string, SafeDType>();
      for (const name of source.names()) {
        if (!keep(name)) continue;
        tensors.set(name, source.read(name));
        dtypes.set(name, source.entry(name).dtype);
      }
      return { tensors, dtypes };
    },
    close: closeAll,
  };
  return source;
}

/** The dtype most of the bytes are stored in (ties: the wider one), e.g. to write back as loaded. */
export function dominantDtype(entries: Iterable<{ dtype: SafeDType; shape: readonly number[] }>): SafeDType {
  const bytes: Record<SafeDType, number> = { F32: 0, F16: 0, BF16: 0 };
  for (const e of entries) bytes[e.dtype] += storedBytes(e.shape, e.dtype);
  return (['F32', 'BF16', 'F16'] as const).reduce((best, d) => (bytes[d] > bytes[best] ? d : best), 'F32' as SafeDType);
}

export interface WriteWeightsOptions {
  /** on-disk dtype: one for all, or per tensor name (default F32) */
  dtype?: SafeDType | ((name: string) => SafeDType);
  /** split into shards of at most this many data bytes (a larger single tensor gets a shard of its own); default DEFAULT_MAX_SHARD_BYTES */
  maxShardBytes?: number;
  /** the safetensors __metadata__ of every file (default {format: "pt"}, what transformers expects) */
  metadata?: Record<string, string>;
}

/** Shard plan: greedy in the given order, HF's file names. One shard → model.safetensors. */
export function planShards(entries: readonly { name: string; dtype: SafeDType; shape: readonly number[] }[], maxShardBytes: number): { file: string; names: string[]; bytes: number }[] {
  if (!(maxShardBytes > 0)) throw new UserError({ what: 'the maximum shard size must be positive', where: 'maxShardBytes', received: String(maxShardBytes), fix: 'pass a size in bytes, e.g. 5e9' });
  const groups: { names: string[]; bytes: number }[] = [];
  for (const e of entries) {
    const b = storedBytes(e.shape, e.dtype);
    const last = groups[groups.length - 1];
    if (last && last.bytes + b <= maxShardBytes) {
      last.names.push(e.name);
      last.bytes += b;
    } else groups.push({ names: [e.name], bytes: b });
  }
  if (groups.length <= 1) return [{ file: SINGLE_FILE, names: groups[0]?.names ?? [], bytes: groups[0]?.bytes ?? 0 }];
  const n = String(groups.length).padStart(5, '0');
  return groups.map((g, i) => ({ file: `model-${String(i + 1).padStart(5, '0')}-of-${n}.safetensors`, ...g }));
}

/**
 * Write weights into `dir` (an existing directory, normally a temporary one that the caller
 * renames into place): model.safetensors, or shards + the index. Tensors are produced by `get`
 * one at a time in plan order, whole or as consecutive chunks, so a caller may compute them on
 * the fly (streaming ExPO).
 * Returns the shard files written.
 */
export function writeModelWeights(
  dir: string,
  entries: readonly { name: string; shape: readonly number[] }[],
  get: (name: string) => Float32Array | Iterable<Float32Array>,
  opts: WriteWeightsOptions = {},
): string[] {
  const dtypeOf = (name: string): SafeDType => (typeof opts.dtype === 'function' ? opts.dtype(name) : (opts.dtype ?? 'F32'));
  const typed = entries.map((e) => ({ name: e.name, shape: e.shape, dtype: dtypeOf(e.name) }));
  const plan = planShards(typed, opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES);
  return writeShardPlan(dir, plan.map((p) => ({ file: p.file, entries: p.names.map((n) => typed.find((t) => t.name === n)!) })), get, opts.metadata);
}

/** Write an explicit shard layout (file → entries in order); an index when there is more than one file. */
export function writeShardPlan(
  dir: string,
  plan: readonly { file: string; entries: readonly { name: string; dtype: SafeDType; shape: readonly number[] }[] }[],
  get: (name: string) => Float32Array | Iterable<Float32Array>,
  metadata: Record<string, string> = { format: 'pt' },
): string[] {
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (const shard of plan) {
    if (basename(shard.file) !== shard.file) throw new UserError({ what: `shard name ${JSON.stringify(shard.file)} is not a plain file name`, where: 'writeShardPlan', fix: 'use names without slashes' });
    const w = new SafetensorsStreamWriter(join(dir, shard.file), shard.entries, metadata);
    try {
      for (const e of shard.entries) {
        const v = get(e.name);
        if (v instanceof Float32Array) w.write(e.name, v);
        else {
          let n = 0;
          for (const part of v) {
            w.write(e.name, part);
            n += part.length;
          }
          if (n === 0) w.write(e.name, new Float32Array(0));
        }
        weightMap[e.name] = shard.file;
        total += storedBytes(e.shape, e.dtype);
      }
      w.finish();
    } catch (e) {
      w.abort();
      throw e;
    }
  }
  if (plan.length > 1 || (plan.length === 1 && plan[0].file !== SINGLE_FILE)) {
    const sorted = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
    writeFileSync(join(dir, INDEX_FILE), JSON.stringify({ metadata: { total_size: total }, weight_map: sorted }, null, 2) + '\n');
  }
  return plan.map((p) => p.file);
}
