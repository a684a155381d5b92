// A reward model: a Llama trunk, a linear head on the final hidden state of each sequence's last
// real token (src/nn/llama.ts rewardHead: scores = W h_last + b, [R, N]) and the weights that merge
// the N slots into one reward (head.ts). On disk it is a steer/HF model directory —
//   config.json, model.safetensors (the trunk, HF names), tokenizer files, steer.json
// — plus reward_head.safetensors (score.weight [N, D], score.bias [N]) and steer.json's "reward"
// entry (slots, merge weights, text format, max length, how it was trained). The trunk stays a
// plain HF checkpoint: any Llama reader loads it; steer reads the head beside it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { Graph, type Tensor } from '../graph/index.js';
import type { LlamaConfig } from '../nn/config.js';
import { lastTokenHidden, llamaHidden, rewardHead } from '../nn/llama.js';
import { expectedWeightShapes, LM_HEAD, type LlamaWeights } from '../nn/weights.js';
import { loadModel, saveModelDir } from '../io/checkpoint.js';
import { readSafetensors, serializeSafetensors } from '../io/safetensors.js';
import type { RewardLossKind } from './losses.js';
import { loadRewardEncoder, type RewardEncoder, type TextFormat } from './encode.js';

export const HEAD_WEIGHT = 'score.weight';
export const HEAD_BIAS = 'score.bias';
export const HEAD_FILE = 'reward_head.safetensors';

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

/** The scoring graph for R rows of T tokens with every parameter a graph input (fed from host arrays). */
export function buildRewardForward(g: Graph, c: LlamaConfig, N: number, R: number, T: number): RewardForward {
  const ids = g.input('ids', [R, T], 'int64');
  const positions = g.input('positions', [R, T], 'int64');
  const mask = g.input('mask', [R, T]);
  const last = g.input('last', [R], 'int64');
  const p = new Map<string, Tensor>();
  const params: Tensor[] = [];
  for (const [name, shape] of trunkWeightShapes(c)) {
    const t = g.input(name, shape);
    p.set(name, t);
    params.push(t);
  }
  const w = g.input(HEAD_WEIGHT, [N, c.hiddenSize]);
  const b = g.input(HEAD_BIAS, [N]);
  params.push(w, b);
  const hidden = llamaHidden(c, p, { ids, positions, attentionMask: mask }); // [R, T, D]
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

/** True when `path` is a directory saved by saveRewardModel. */
export function isRewardModelDir(path: string): boolean {
  return existsSync(join(path, HEAD_FILE));
}

/** Save atomically (the directory appears complete or not at all). Returns the directory. */
export function saveRewardModel(dir: string, rm: RewardModel, meta: Record<string, unknown> = {}): string {
  const N = rm.info.attributes.length;
  const D = rm.config.hiddenSize;
  if (rm.head.weight.length !== N * D || rm.head.bias.length !== N || rm.info.rewardWeights.length !== N) {
    throw new UserError({ what: 'the reward head does not match its slots', where: `saveRewardModel(${dir})`, expected: `score.weight [${N}, ${D}], score.bias [${N}], ${N} merge weights`, received: `${rm.head.weight.length} / ${rm.head.bias.length} / ${rm.info.rewardWeights.length} values` });
  }
  const head = serializeSafetensors(
    new Map([
      [HEAD_WEIGHT, { shape: [N, D], data: rm.head.weight }],
      [HEAD_BIAS, { shape: [N], data: rm.head.bias }],
    ]),
    { metadata: { format: 'pt' } },
  );
  const files = rm.encoder.files();
  return saveModelDir(dir, {
    config: rm.config,
    weights: rm.weights,
    tokenizerFrom: files.tokenizerFrom ?? null,
    meta: { ...meta, reward: rm.info },
    extraFiles: { ...(files.extraFiles ?? {}), [HEAD_FILE]: head },
  });
}

/** Load a directory written by saveRewardModel (or a training run directory holding it in model/). */
export function loadRewardModel(path: string): RewardModel {
  const dir = !isRewardModelDir(path) && isRewardModelDir(join(path, 'model')) ? join(path, 'model') : path;
  if (!existsSync(dir)) throw new UserError({ what: 'the reward model directory does not exist', where: dir, fix: 'pass a directory written by `steer rm train` or `steer rm expo`' });
  if (!isRewardModelDir(dir)) {
    throw new UserError({ what: `not a reward model: no ${HEAD_FILE}`, where: dir, expected: `a directory written by \`steer rm train\` (config.json, model.safetensors, ${HEAD_FILE}, steer.json)`, fix: 'to start a reward model from a language model, use it as --init of `steer rm train`' });
  }
  const m = loadModel(dir);
  const info = (m.meta as { reward?: RewardModelInfo } | null)?.reward;
  if (!info || info.format !== 'steer-reward-model' || !Array.isArray(info.attributes) || !Array.isArray(info.rewardWeights)) {
    throw new UserError({ what: 'steer.json has no valid "reward" entry', where: join(dir, 'steer.json'), expected: '{"reward": {"format": "steer-reward-model", "attributes": [...], "rewardWeights": [...], ...}}', fix: 'save the model with `steer rm train` or `steer rm expo`' });
  }
  const { tensors } = readSafetensors(join(dir, HEAD_FILE));
  const N = info.attributes.length;
  const D = m.config.hiddenSize;
  const w = tensors.get(HEAD_WEIGHT);
  const b = tensors.get(HEAD_BIAS);
  if (!w || !b || w.data.length !== N * D || b.data.length !== N) {
    throw new UserError({ what: 'the reward head does not match steer.json', where: join(dir, HEAD_FILE), expected: `${HEAD_WEIGHT} [${N}, ${D}] and ${HEAD_BIAS} [${N}]`, received: `${[...tensors.keys()].join(', ')}`, fix: 'the directory is damaged: retrain or copy it again' });
  }
  const encoder = loadRewardEncoder(dir, m.config.vocabSize);
  if (encoder.format !== info.textFormat) {
    throw new UserError({ what: `the tokenizer in the directory gives the ${encoder.format} format, steer.json says ${info.textFormat}`, where: dir, fix: 'copy the tokenizer the model was trained with into the directory' });
  }
  return { config: m.config, weights: m.weights, head: { weight: w.data, bias: b.data }, info, encoder };
}

/** Read steer.json's reward entry without loading the weights. */
export function readRewardInfo(dir: string): RewardModelInfo {
  const p = join(dir, 'steer.json');
  if (!existsSync(p)) throw new UserError({ what: 'no steer.json', where: dir, fix: 'pass a reward model directory' });
  return (JSON.parse(readFileSync(p, 'utf8')) as { reward: RewardModelInfo }).reward;
}
