// A reward model: a Llama trunk, a linear head on the final hidden state of each sequence's last
// real token (src/nn/llama.ts rewardHead: scores = W h_last + b, [R, N]) and the weights that merge
// the N slots into one reward (head.ts). On disk it is a Hugging Face LlamaForSequenceClassification
// (transformers modeling_layers.py GenericForSequenceClassification), so transformers, TRL,
// OpenRLHF and NeMo-RL load it as saved:
//   config.json   architectures ["LlamaForSequenceClassification"], id2label/label2id = the N slots
//                 (num_labels = N), pad_token_id = the tokenizer's pad id
//   model.safetensors (or shards)   the trunk under HF names (model.*, no lm_head) + score.weight [N, D]
//   tokenizer files, steer.json (its "reward" entry: slots, merge weights, text format, max length,
//                 how it was trained)
// transformers' head has no bias: steer's score.bias [N] is written only when non-zero, and
// transformers then drops it on load (a warning), so its scores are steer's minus b — every
// preference comparison unchanged, a regression model's absolute ratings offset by b.
// transformers scores the rightmost token whose id is not pad_token_id; steer scores the last token
// of the attention mask. They agree when the pad id never ends a sequence; when the tokenizer pads
// with EOS (pad = eos) and sequences end with EOS, transformers reads the token before it.
// Read back: this layout, what transformers/TRL save (no steer.json: slots from id2label), and
// steer's earlier layout (trunk + reward_head.safetensors beside it).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { Graph, type Tensor } from '../graph/index.js';
import type { LlamaConfig } from '../nn/config.js';
import { lastTokenHidden, llamaHidden, rewardHead } from '../nn/llama.js';
import { expectedWeightShapes, LM_HEAD, type LlamaWeights } from '../nn/weights.js';
import { loraScale, loraWeightShapes, type LoraConfig, type LoraGraph } from '../nn/lora.js';
import { loadModel, saveModelDir } from '../io/checkpoint.js';
import { readHfLlamaConfig } from '../io/hfconfig.js';
import { SafetensorsFile, readSafetensors, type SafeDType } from '../io/safetensors.js';
import { openModelWeights } from '../io/sharded.js';
import type { RewardLossKind } from './losses.js';
import { loadRewardEncoder, type RewardEncoder, type TextFormat } from './encode.js';
import { SCALAR_SLOT, defaultRewardWeights } from './head.js';

export const HEAD_WEIGHT = 'score.weight';
export const HEAD_BIAS = 'score.bias';
/** steer's earlier layout kept the head beside the trunk in this file (still read). */
export const HEAD_FILE = 'reward_head.safetensors';
export const SEQ_CLS_ARCHITECTURE = 'LlamaForSequenceClassification';

export interface RewardHeadWeights {
  /** [N, D] */
  weight: Float32Array;
  /** [N] */
  bias: Float32Array;
}

export interface RewardModelInfo {
  format: 'steer-reward-model';
  version: 1;
  /** Slot names, in head order (N). */
  attributes: string[];
  /** Merge weights [N]: reward = Σ w_a · slot_a. */
  rewardWeights: number[];
  textFormat: TextFormat;
  /** Longest sequence scored (longer ones keep their last maxLength tokens). */
  maxLength: number;
  /** How the model was trained (null: not trained by steer, e.g. an ExPO merge). */
  loss: RewardLossKind | null;
  /** Where training started: a model/RM directory, a llama2.c file, or "scratch". */
  initFrom: string;
  [k: string]: unknown;
}

export interface RewardModel {
  config: LlamaConfig;
  /** The trunk, HF names (lm_head kept when untied; a reward model never uses it). */
  weights: LlamaWeights;
  head: RewardHeadWeights;
  info: RewardModelInfo;
  encoder: RewardEncoder;
}

/** Trunk weights a reward model trains: every Llama weight except the LM head. */
export function trunkWeightShapes(c: LlamaConfig): [string, number[]][] {
  return expectedWeightShapes(c).filter(([n]) => n !== LM_HEAD);
}

/** A fresh head: W ~ N(0, std²) (HF initializer_range 0.02), b = `bias` (e.g. the label means of a regression model). */
export function initRewardHead(D: number, N: number, rng: Rng, bias?: readonly number[], std = 0.02): RewardHeadWeights {
  const weight = new Float32Array(N * D);
  for (let i = 0; i < weight.length; i++) weight[i] = rng.normal(0, std);
  return { weight, bias: Float32Array.from(bias ?? new Array<number>(N).fill(0)) };
}

// ---- the graph ----------------------------------------------------------------------------------

export interface RewardForward {
  /** int64 [R, T] */
  ids: Tensor;
  /** int64 [R, T] */
  positions: Tensor;
  /** float32 [R, T] */
  mask: Tensor;
  /** int64 [R]: index of each row's last real token */
  last: Tensor;
  /** Trainable/fed parameters in a fixed order (trunk without lm_head, then score.weight, score.bias). */
  params: Tensor[];
  /** [R, N] */
  scores: Tensor;
}

/**
 * The scoring graph for R rows of T tokens with every parameter a graph input (fed from host
 * arrays). With `lora`, the trunk is frozen inside the graph (initializers: never fed, never an
 * output) and the parameters are the adapter's A/B (src/nn/lora.ts) and the head.
 */
export function buildRewardForward(g: Graph, c: LlamaConfig, N: number, R: number, T: number, lora?: { config: LoraConfig; base: LlamaWeights }): RewardForward {
  const ids = g.input('ids', [R, T], 'int64');
  const positions = g.input('positions', [R, T], 'int64');
  const mask = g.input('mask', [R, T]);
  const last = g.input('last', [R], 'int64');
  const p = new Map<string, Tensor>();
  const params: Tensor[] = [];
  let adapter: LoraGraph | undefined;
  if (lora) {
    for (const [name, shape] of trunkWeightShapes(c)) p.set(name, g.initializer(name, lora.base.get(name)!.data, shape));
    const ap = new Map<string, Tensor>();
    for (const [name, shape] of loraWeightShapes(c, lora.config)) {
      const t = g.input(name, shape);
      ap.set(name, t);
      params.push(t);
    }
    adapter = { scale: loraScale(lora.config), params: ap };
  } else {
    for (const [name, shape] of trunkWeightShapes(c)) {
      const t = g.input(name, shape);
      p.set(name, t);
      params.push(t);
    }
  }
  const w = g.input(HEAD_WEIGHT, [N, c.hiddenSize]);
  const b = g.input(HEAD_BIAS, [N]);
  params.push(w, b);
  const hidden = llamaHidden(c, p, { ids, positions, attentionMask: mask }, adapter); // [R, T, D]
  const scores = rewardHead(lastTokenHidden(hidden, last), w, b); // [R, N]
  return { ids, positions, mask, last, params, scores };
}

/** Host arrays of a reward model under the graph's parameter names (not copied). */
export function rewardParamArrays(rm: Pick<RewardModel, 'config' | 'weights' | 'head'>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name] of trunkWeightShapes(rm.config)) out[name] = rm.weights.get(name)!.data;
  out[HEAD_WEIGHT] = rm.head.weight;
  out[HEAD_BIAS] = rm.head.bias;
  return out;
}

// ---- on disk ---------------------------------------------------------------------------------------

function readConfigJson(dir: string): Record<string, unknown> | null {
  const p = join(dir, 'config.json');
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** True when config.json names a *ForSequenceClassification architecture. */
function isSequenceClassificationDir(path: string): boolean {
  const archs = readConfigJson(path)?.architectures;
  return Array.isArray(archs) && archs.some((a) => typeof a === 'string' && a.endsWith('ForSequenceClassification'));
}

/** True when `path` is a reward model directory: a sequence-classification checkpoint, or steer's earlier layout. */
export function isRewardModelDir(path: string): boolean {
  return existsSync(join(path, HEAD_FILE)) || isSequenceClassificationDir(path);
}

/** config.json fields that make a Llama checkpoint a transformers sequence classifier with these slots. */
export function sequenceClassificationConfig(attributes: readonly string[], padTokenId: number): Record<string, unknown> {
  return {
    architectures: [SEQ_CLS_ARCHITECTURE],
    id2label: Object.fromEntries(attributes.map((a, i) => [String(i), a])),
    label2id: Object.fromEntries(attributes.map((a, i) => [a, i])),
    pad_token_id: padTokenId,
  };
}

export interface SaveRewardOptions {
  /** on-disk dtype of the weights (default F32) */
  dtype?: SafeDType;
  /** shard above this many bytes per file (default 5 GB) */
  maxShardBytes?: number;
}

/** Save atomically as a LlamaForSequenceClassification directory (see the file header). Returns the directory. */
export function saveRewardModel(dir: string, rm: RewardModel, meta: Record<string, unknown> = {}, opts: SaveRewardOptions = {}): string {
  const N = rm.info.attributes.length;
  const D = rm.config.hiddenSize;
  if (rm.head.weight.length !== N * D || rm.head.bias.length !== N || rm.info.rewardWeights.length !== N) {
    throw new UserError({ what: 'the reward head does not match its slots', where: `saveRewardModel(${dir})`, expected: `score.weight [${N}, ${D}], score.bias [${N}], ${N} merge weights`, received: `${rm.head.weight.length} / ${rm.head.bias.length} / ${rm.info.rewardWeights.length} values` });
  }
  const head = new Map([[HEAD_WEIGHT, { shape: [N, D], data: rm.head.weight }]]);
  if (rm.head.bias.some((b) => b !== 0)) head.set(HEAD_BIAS, { shape: [N], data: rm.head.bias });
  const files = rm.encoder.files();
  return saveModelDir(dir, {
    config: rm.config,
    weights: rm.weights,
    withoutLmHead: true,
    extraWeights: head,
    hfConfig: sequenceClassificationConfig(rm.info.attributes, rm.encoder.padId),
    dtype: opts.dtype,
    maxShardBytes: opts.maxShardBytes,
    tokenizerFrom: files.tokenizerFrom ?? null,
    meta: { ...meta, reward: rm.info },
    extraFiles: files.extraFiles ?? {},
  });
}

/** The weights of a reward model directory, without its tokenizer: trunk, head, slot names, pad id. */
export interface RewardWeightsOnDisk {
  config: LlamaConfig;
  weights: LlamaWeights;
  head: RewardHeadWeights;
  /** slot names: steer.json's, else config.json id2label (one label → "reward") */
  attributes: string[];
  /** config.json pad_token_id (null when unset) */
  padTokenId: number | null;
  /** steer.json's reward entry, when the directory has one */
  info: RewardModelInfo | null;
  /** the dtype most weights were stored in */
  dtype: SafeDType;
}

/** Slot names: steer.json's, else config.json id2label (one label → "reward"), else LABEL_k. */
function slotNames(cfg: Record<string, unknown>, N: number, info: RewardModelInfo | null): string[] {
  if (info) return [...info.attributes];
  if (N === 1) return [SCALAR_SLOT];
  const id2label = cfg.id2label as Record<string, unknown> | undefined;
  const labels = id2label && typeof id2label === 'object' ? Array.from({ length: N }, (_, i) => id2label[String(i)]) : [];
  return labels.every((l) => typeof l === 'string') ? (labels as string[]) : Array.from({ length: N }, (_, i) => `LABEL_${i}`);
}

/** steer.json's reward entry, or one describing a transformers/TRL save (default merge weights, no training record). */
function rewardInfoFor(dir: string, config: LlamaConfig, attributes: string[], info: RewardModelInfo | null, encoder: RewardEncoder): RewardModelInfo {
  return (
    info ?? {
      format: 'steer-reward-model',
      version: 1,
      attributes,
      rewardWeights: defaultRewardWeights(attributes),
      textFormat: encoder.format,
      maxLength: Math.min(config.maxPositionEmbeddings, 4096),
      loss: null,
      initFrom: dir,
    }
  );
}

function readSteerRewardInfo(dir: string, meta: unknown): RewardModelInfo | null {
  const info = (meta as { reward?: RewardModelInfo } | null)?.reward ?? null;
  if (info !== null && (info.format !== 'steer-reward-model' || !Array.isArray(info.attributes) || !Array.isArray(info.rewardWeights))) {
    throw new UserError({ what: 'steer.json has no valid "reward" entry', where: join(dir, 'steer.json'), expected: '{"reward": {"format": "steer-reward-model", "attributes": [...], "rewardWeights": [...], ...}}', fix: 'save the model with `steer rm train` or `steer rm expo`, or delete steer.json to read the directory as a plain transformers checkpoint' });
  }
  return info;
}

/** Read a reward model's weights: a sequence-classification checkpoint (steer's or transformers'/TRL's) or steer's earlier layout. */
export function readRewardWeights(dir: string): RewardWeightsOnDisk {
  const m = loadModel(dir, { extraWeights: (n) => n === HEAD_WEIGHT || n === HEAD_BIAS, withoutLmHead: true });
  const info = readSteerRewardInfo(dir, m.meta);
  let w = m.extras.get(HEAD_WEIGHT);
  let b = m.extras.get(HEAD_BIAS);
  const headFile = join(dir, HEAD_FILE);
  if (!w && existsSync(headFile)) {
    const { tensors } = readSafetensors(headFile);
    w = tensors.get(HEAD_WEIGHT);
    b = tensors.get(HEAD_BIAS);
  }
  const D = m.config.hiddenSize;
  if (!w || w.shape.length !== 2 || w.shape[1] !== D) {
    throw new UserError({ what: `no usable reward head ${HEAD_WEIGHT}`, where: dir, expected: `${HEAD_WEIGHT} [num_labels, ${D}] in the model's safetensors (LlamaForSequenceClassification)`, received: w ? `[${w.shape.join(', ')}]` : 'absent', fix: 'pass a reward model directory (`steer rm train`, or a transformers *ForSequenceClassification save)' });
  }
  const N = w.shape[0];
  const cfg = readConfigJson(dir) ?? {};
  const attributes = slotNames(cfg, N, info);
  if (attributes.length !== N) {
    throw new UserError({ what: 'the reward head does not match steer.json', where: dir, expected: `${HEAD_WEIGHT} [${attributes.length}, ${D}] (slots ${attributes.join(', ')})`, received: `[${w.shape.join(', ')}]`, fix: 'the directory is damaged: retrain or copy it again' });
  }
  if (b && (b.shape.length !== 1 || b.shape[0] !== N)) {
    throw new UserError({ what: `${HEAD_BIAS} does not match the head`, where: dir, expected: `[${N}]`, received: `[${b.shape.join(', ')}]`, fix: 'the directory is damaged: retrain or copy it again' });
  }
  const pad = cfg.pad_token_id;
  return {
    config: m.config,
    weights: m.weights,
    head: { weight: w.data, bias: b ? b.data : new Float32Array(N) },
    attributes,
    padTokenId: typeof pad === 'number' ? pad : null,
    info,
    dtype: m.dtype,
  };
}

/** Load a reward model directory (or a training run directory holding it in model/). */
export function loadRewardModel(path: string): RewardModel {
  const dir = !isRewardModelDir(path) && isRewardModelDir(join(path, 'model')) ? join(path, 'model') : path;
  if (!existsSync(dir)) throw new UserError({ what: 'the reward model directory does not exist', where: dir, fix: 'pass a directory written by `steer rm train` or `steer rm expo`' });
  if (!isRewardModelDir(dir)) {
    throw new UserError({ what: 'not a reward model: config.json does not name a *ForSequenceClassification architecture', where: dir, expected: `a directory written by \`steer rm train\` or a transformers ${SEQ_CLS_ARCHITECTURE} (config.json, model.safetensors with ${HEAD_WEIGHT})`, fix: 'to start a reward model from a language model, use it as --init of `steer rm train`' });
  }
  const r = readRewardWeights(dir);
  const encoder = loadRewardEncoder(dir, r.config.vocabSize);
  if (r.info && encoder.format !== r.info.textFormat) {
    throw new UserError({ what: `the tokenizer in the directory gives the ${encoder.format} format, steer.json says ${r.info.textFormat}`, where: dir, fix: 'copy the tokenizer the model was trained with into the directory' });
  }
  const info = rewardInfoFor(dir, r.config, r.attributes, r.info, encoder);
  return { config: r.config, weights: r.weights, head: r.head, info, encoder };
}

/** A reward model directory opened for streaming: headers validated, tensors read in slices, nothing loaded. */
export interface OpenRewardModel {
  dir: string;
  config: LlamaConfig;
  info: RewardModelInfo;
  encoder: RewardEncoder;
  /** config.json pad_token_id, else the tokenizer's pad id */
  padTokenId: number;
  /** the trunk (no lm_head) in file order, then score.weight and score.bias (when stored) */
  names: string[];
  entry(name: string): { dtype: SafeDType; shape: number[] };
  /** elements [start, start + count) of a tensor, float32 */
  readSlice(name: string, start: number, count: number): Float32Array;
  /** data bytes of the largest weights file (to keep the shard size when writing a derived model) */
  largestFileBytes: number;
  close(): void;
}

/** Open a reward model directory for tensor-by-tensor work (streaming ExPO) without loading its weights. */
export function openRewardModel(path: string): OpenRewardModel {
  const dir = !isRewardModelDir(path) && isRewardModelDir(join(path, 'model')) ? join(path, 'model') : path;
  if (!existsSync(dir) || !isRewardModelDir(dir)) {
    throw new UserError({ what: existsSync(dir) ? 'not a reward model: config.json does not name a *ForSequenceClassification architecture' : 'the reward model directory does not exist', where: dir, expected: `a directory written by \`steer rm train\` or a transformers ${SEQ_CLS_ARCHITECTURE}`, fix: 'pass reward model directories' });
  }
  const config = readHfLlamaConfig(join(dir, 'config.json'));
  const metaPath = join(dir, 'steer.json');
  let meta: unknown = null;
  if (existsSync(metaPath)) {
    try {
      meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    } catch (e) {
      throw new UserError({ what: `steer.json is not valid JSON (${(e as Error).message})`, where: metaPath, fix: 'repair it or delete it' });
    }
  }
  const stored = readSteerRewardInfo(dir, meta);
  const source = openModelWeights(dir);
  const headFile = existsSync(join(dir, HEAD_FILE)) ? new SafetensorsFile(join(dir, HEAD_FILE)) : null;
  const close = () => {
    source.close();
    headFile?.close();
  };
  try {
    const inHeadFile = (n: string) => headFile !== null && headFile.entries.has(n) && !source.has(n);
    const has = (n: string) => source.has(n) || inHeadFile(n);
    if (!has(HEAD_WEIGHT)) {
      throw new UserError({ what: `no reward head ${HEAD_WEIGHT}`, where: dir, expected: `${HEAD_WEIGHT} [num_labels, ${config.hiddenSize}] in the model's safetensors`, fix: 'pass a reward model directory' });
    }
    const entry = (n: string) => {
      const e = inHeadFile(n) ? headFile!.entry(n) : source.entry(n);
      return { dtype: e.dtype, shape: [...e.shape] };
    };
    const trunk = new Set(expectedWeightShapes(config).map(([n]) => n).filter((n) => n !== LM_HEAD));
    for (const [n, shape] of trunkWeightShapes(config)) {
      if (!source.has(n)) throw new UserError({ what: `weight ${n} is missing`, where: dir, expected: `[${shape.join(', ')}]`, fix: 'use a checkpoint saved for this config.json' });
      const got = source.entry(n).shape;
      if (got.join() !== shape.join()) throw new UserError({ what: `weight ${n} has the wrong shape`, where: dir, expected: `[${shape.join(', ')}] (from config.json)`, received: `[${got.join(', ')}]`, fix: 'the weights and config.json disagree' });
    }
    const extra = source.names().filter((n) => !trunk.has(n) && n !== LM_HEAD && n !== HEAD_WEIGHT && n !== HEAD_BIAS && !n.endsWith('rotary_emb.inv_freq'));
    if (extra.length > 0) throw new UserError({ what: `unexpected weight ${extra[0]}`, where: dir, expected: 'a Llama trunk and score.weight', received: `${extra.length} extra tensor(s)`, fix: 'steer runs Llama-family models without biases' });
    const N = entry(HEAD_WEIGHT).shape[0];
    const attributes = slotNames(readConfigJson(dir) ?? {}, N, stored);
    const encoder = loadRewardEncoder(dir, config.vocabSize);
    const info = rewardInfoFor(dir, config, attributes, stored, encoder);
    if (info.attributes.length !== N) throw new UserError({ what: 'the reward head does not match steer.json', where: dir, expected: `${HEAD_WEIGHT} [${info.attributes.length}, ${config.hiddenSize}]`, received: `[${entry(HEAD_WEIGHT).shape.join(', ')}]`, fix: 'the directory is damaged' });
    const names = [...source.names().filter((n) => trunk.has(n)), HEAD_WEIGHT, ...(has(HEAD_BIAS) ? [HEAD_BIAS] : [])];
    const pad = readConfigJson(dir)?.pad_token_id;
    let largest = 0;
    for (const ns of source.layout.values()) {
      let bytes = 0;
      for (const n of ns) bytes += source.entry(n).end - source.entry(n).begin;
      largest = Math.max(largest, bytes);
    }
    return {
      dir,
      config,
      info,
      encoder,
      padTokenId: typeof pad === 'number' ? pad : encoder.padId,
      names,
      entry,
      readSlice: (n, start, count) => (inHeadFile(n) ? headFile!.readSlice(n, start, count) : source.readSlice(n, start, count)),
      largestFileBytes: largest,
      close,
    };
  } catch (e) {
    close();
    throw e;
  }
}

/** Read steer.json's reward entry without loading the weights. */
export function readRewardInfo(dir: string): RewardModelInfo {
  const p = join(dir, 'steer.json');
  if (!existsSync(p)) throw new UserError({ what: 'no steer.json', where: dir, fix: 'pass a reward model directory' });
  return (JSON.parse(readFileSync(p, 'utf8')) as { reward: RewardModelInfo }).reward;
}
