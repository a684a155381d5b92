// What a reward-model run starts from, worked out before its first step:
//   data        pairs / rated rows, in memory or read from files; checked against the loss
//   model       from scratch (a random Llama of `scratch` sizes, the char encoder unless a tokenizer
//               is given), a language model (a new head) or a reward model (its head kept)
//   tokens      every text encoded once, then cut to maxLength keeping the last tokens; maxLength
//               defaults to the longest sequence (at least 128, at most the model's positions;
//               past 4096 an explicit maxLength is required)
//   head        slots and the merge weights of the reward: a kept head reads helpfulness for pair
//               losses; a new regression head starts at the label means (its bias)
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { Rng, fnv1a32 } from '../util/rng.js';
import { checkLlamaConfig, type LlamaConfig } from '../nn/config.js';
import { initLlamaWeights } from '../nn/init.js';
import type { LlamaWeights } from '../nn/weights.js';
import { loadModel } from '../io/checkpoint.js';
import { HELPSTEER2_ATTRIBUTES } from '../data/helpsteer2.js';
import { posInt } from '../train/options.js';
import { SCALAR_SLOT, defaultRewardWeights, rewardWeights } from './head.js';
import { CharRewardEncoder, loadRewardEncoder, truncateLeft, type RewardEncoder } from './encode.js';
import { initRewardHead, isRewardModelDir, loadRewardModel } from './model.js';
import { readPairFile, readRatingFile, labelMatrix, type RatedRow, type RewardPair } from './data.js';
import type { RewardLossKind } from './losses.js';

/** Sizes of a model trained from scratch (the toy world's char-level RMs by default). */
export const scratchModelSchema = z.strictObject({
  hiddenSize: posInt.default(64),
  numLayers: posInt.default(2),
  numHeads: posInt.default(4),
  numKvHeads: posInt.default(2),
  intermediateSize: posInt.default(176),
});
export type ScratchModel = z.output<typeof scratchModelSchema>;

/** Rows in memory, or files to read. */
export type PairSource = readonly RewardPair[] | readonly string[];
export type RatingSource = readonly RatedRow[] | readonly string[];

export interface RewardTrainData {
  trainPairs?: PairSource;
  trainRatings?: RatingSource;
  valPairs?: PairSource;
  valRatings?: RatingSource;
}

/** What the start needs from the run's options. */
export interface StartOptions {
  loss: RewardLossKind;
  init?: string;
  tokenizer?: string;
  attributes?: string[];
  readSlot?: string;
  maxLength?: number;
  scratch: ScratchModel;
  seed: number;
}

export interface TokenPair {
  chosen: number[];
  rejected: number[];
  margin: number;
}

export interface RewardStart {
  config: LlamaConfig;
  weights: LlamaWeights;
  encoder: RewardEncoder;
  initFrom: string;
  maxLength: number;
  attributes: string[];
  /** Merge weights [N] of the reward. */
  rewardWeights: number[];
  head: { weight: Float32Array; bias: Float32Array };
  pairs: TokenPair[];
  rated: number[][];
  valPairs: TokenPair[];
  valRated: number[][];
  /** [rows, N] labels (−100 unlabelled) of the training / validation ratings. */
  labels: Float32Array | null;
  valLabels: Float32Array | null;
  /** Describes each data source for the run config (files, or row count and hash). */
  sources: Record<string, unknown>;
}

/** Positions a from-scratch model is declared for (RoPE has no table to outgrow; metadata for exports). */
const SCRATCH_MAX_POSITIONS = 512;
/** The longest default maxLength: longer data needs an explicit maxLength (--max-length). */
export const DEFAULT_MAX_LENGTH_CAP = 4096;
/** The smallest default maxLength: somewhat longer texts scored later (a policy's samples) are not cut. */
const MIN_MAX_LENGTH = 128;

const isFileList = (x: readonly unknown[]): x is readonly string[] => x.length > 0 && typeof x[0] === 'string';

async function rows<T>(src: readonly T[] | readonly string[] | undefined, read: (f: string) => Promise<T[]>): Promise<T[]> {
  if (!src) return [];
  if (!isFileList(src)) return [...(src as readonly T[])];
  const out: T[] = [];
  for (const f of src) out.push(...(await read(f)));
  return out;
}

function describeSource(src: readonly unknown[] | undefined): unknown {
  if (!src) return null;
  if (isFileList(src)) return src;
  return { rows: src.length, hash: fnv1a32(JSON.stringify(src)) };
}

/** Read and check the data, load or build the starting model, tokenise, and set up the head. */
export async function rewardStart(o: StartOptions, d: RewardTrainData): Promise<RewardStart> {
  const isPairs = o.loss !== 'regression';
  const [trainPairs, trainRatings, valPairs, valRatings] = await Promise.all([rows(d.trainPairs, readPairFile), rows(d.trainRatings, readRatingFile), rows(d.valPairs, readPairFile), rows(d.valRatings, readRatingFile)]);
  checkData(o.loss, trainPairs, trainRatings);
  // Encode once per encoder (the encoder comes with the starting model), then cut to maxLength.
  let memo: { enc: RewardEncoder; data: Encoded } | null = null;
  const encoded = (enc: RewardEncoder): Encoded => {
    if (memo?.enc !== enc) memo = { enc, data: encodeAll(enc, trainPairs, trainRatings, valPairs, valRatings) };
    return memo.data;
  };
  const m = startModel(o, (enc) => capped(o, encoded(enc), trainPairs));
  const maxLength = Math.min(o.maxLength ?? Math.max(capped(o, encoded(m.encoder), trainPairs), MIN_MAX_LENGTH), m.config.maxPositionEmbeddings);
  const cut = (ids: number[]) => truncateLeft(ids, maxLength);
  const cutPair = (p: TokenPair): TokenPair => ({ chosen: cut(p.chosen), rejected: cut(p.rejected), margin: p.margin });
  const data = encoded(m.encoder);

  // Head slots and the reward they merge into.
  let attributes: string[];
  let weights: number[];
  let head = m.head;
  if (head) {
    attributes = m.attributes;
    if (o.attributes && o.attributes.join() !== attributes.join()) {
      throw new UserError({ what: 'the initial reward model has other head slots', where: '--attributes', expected: attributes.join(','), received: o.attributes.join(','), fix: 'drop --attributes when --init is a reward model (its head is kept)' });
    }
    if (o.readSlot) weights = rewardWeights(attributes, o.readSlot);
    else if (isPairs && attributes.includes('helpfulness')) weights = rewardWeights(attributes, 'helpfulness');
    else weights = m.priorWeights ?? defaultRewardWeights(attributes);
  } else {
    attributes = isPairs ? (o.attributes ?? [SCALAR_SLOT]) : (o.attributes ?? [...HELPSTEER2_ATTRIBUTES]);
    weights = o.readSlot ? rewardWeights(attributes, o.readSlot) : defaultRewardWeights(attributes);
    // A regression head starts at the label means (its bias), so the first steps fit shape, not offset.
    const labels = isPairs ? null : labelMatrix(trainRatings, attributes);
    const bias = attributes.map((_, k) => {
      if (!labels) return 0;
      let s = 0;
      let n = 0;
      for (let i = k; i < labels.length; i += attributes.length) if (labels[i] !== -100) (s += labels[i]), n++;
      return n ? s / n : 0;
    });
    head = initRewardHead(m.config.hiddenSize, attributes.length, Rng.derive(o.seed, 'rm/head'), bias);
  }
  if (!isPairs) {
    const unlabelled = attributes.filter((a) => !trainRatings.some((r) => r.labels[a] !== undefined));
    if (unlabelled.length > 0) {
      throw new UserError({ what: `no training row labels ${unlabelled.join(', ')}`, where: '--attributes', received: attributes.join(','), fix: `train only labelled attributes, e.g. --attributes ${HELPSTEER2_ATTRIBUTES[0]}` });
    }
  }
  return {
    config: m.config,
    weights: m.weights,
    encoder: m.encoder,
    initFrom: m.initFrom,
    maxLength,
    attributes,
    rewardWeights: weights,
    head,
    pairs: data.pairs.map(cutPair),
    rated: data.rated.map(cut),
    valPairs: data.valPairs.map(cutPair),
    valRated: data.valRated.map(cut),
    labels: isPairs ? null : labelMatrix(trainRatings, attributes),
    valLabels: valRatings.length ? labelMatrix(valRatings, attributes) : null,
    sources: { trainPairs: describeSource(d.trainPairs), trainRatings: describeSource(d.trainRatings), valPairs: describeSource(d.valPairs), valRatings: describeSource(d.valRatings) },
  };
}

function checkData(loss: RewardLossKind, trainPairs: RewardPair[], trainRatings: RatedRow[]): void {
  if (loss !== 'regression' && trainPairs.length === 0) {
    throw new UserError({ what: `the ${loss} loss trains on preference pairs; none were given`, where: 'trainPairs (--pairs)', fix: 'pass pair files (steer data prepare writes pairs-train.jsonl)' });
  }
  if (loss === 'regression' && trainRatings.length === 0) {
    throw new UserError({ what: 'the regression loss trains on rated responses; none were given', where: 'trainRatings (--ratings)', fix: 'pass HelpSteer2 / SteerLM rating files (steer data prepare writes ratings-train.jsonl)' });
  }
  if (loss === 'margin-bt' || loss === 'scaled-bt') {
    const bad = trainPairs.find((p) => p.margin === undefined || !(p.margin >= 0));
    if (bad) {
      throw new UserError({ what: `the ${loss} loss needs a margin (|preference strength|) on every pair`, where: bad.source ?? 'a training pair', received: `margin ${String(bad.margin)}`, fix: 'use HelpSteer2-Preference pairs (strength 1–3) or pairs with a margin field, or --loss bt' });
    }
  }
}

interface Encoded {
  pairs: TokenPair[];
  rated: number[][];
  valPairs: TokenPair[];
  valRated: number[][];
}

function encodeAll(enc: RewardEncoder, pairs: RewardPair[], ratings: RatedRow[], valPairs: RewardPair[], valRatings: RatedRow[]): Encoded {
  const pair = (p: RewardPair): TokenPair => ({ chosen: enc.encode(p.prompt, p.chosen), rejected: enc.encode(p.prompt, p.rejected), margin: p.margin ?? 1 });
  const rated = (r: RatedRow) => enc.encode(r.prompt, r.response);
  return { pairs: pairs.map(pair), rated: ratings.map(rated), valPairs: valPairs.map(pair), valRated: valRatings.map(rated) };
}

/**
 * The longest encoded sequence of the data. Without maxLength it sets the default, up to a cap:
 * one absurdly long row must not size every graph (a 1,000,000-character row would ask for a
 * million-token attention).
 */
function capped(o: StartOptions, d: Encoded, trainPairs: RewardPair[]): number {
  let m = 1;
  for (const p of [...d.pairs, ...d.valPairs]) m = Math.max(m, p.chosen.length, p.rejected.length);
  for (const r of [...d.rated, ...d.valRated]) m = Math.max(m, r.length);
  if (o.maxLength === undefined && m > DEFAULT_MAX_LENGTH_CAP) {
    const i = d.pairs.findIndex((p) => Math.max(p.chosen.length, p.rejected.length) === m);
    const where = i >= 0 ? (trainPairs[i].source ?? `training pair ${i + 1}`) : 'the training or validation data';
    throw new UserError({ what: `a sequence of ${m} tokens is longer than the default cap of ${DEFAULT_MAX_LENGTH_CAP} tokens`, where, expected: `prompt + response of at most ${DEFAULT_MAX_LENGTH_CAP} tokens, or an explicit --max-length`, fix: `pass --max-length N to train on longer data (longer sequences keep their last N tokens), or drop the row` });
  }
  return m;
}

interface StartModel {
  config: LlamaConfig;
  weights: LlamaWeights;
  head: { weight: Float32Array; bias: Float32Array } | null;
  attributes: string[];
  /** Merge weights the previous model used (an RM init). */
  priorWeights: number[] | null;
  encoder: RewardEncoder;
  initFrom: string;
}

function scratchConfig(s: ScratchModel, encoder: RewardEncoder, maxLength: number, bos: number | null, eos: number[]): LlamaConfig {
  if (s.hiddenSize % s.numHeads !== 0) {
    throw new UserError({ what: 'hiddenSize must be a multiple of numHeads', where: 'scratch model', received: `${s.hiddenSize} / ${s.numHeads}`, fix: 'e.g. hiddenSize 64 with 4 heads' });
  }
  const c: LlamaConfig = {
    vocabSize: encoder.vocabSize,
    hiddenSize: s.hiddenSize,
    intermediateSize: s.intermediateSize,
    numLayers: s.numLayers,
    numHeads: s.numHeads,
    numKvHeads: s.numKvHeads,
    headDim: s.hiddenSize / s.numHeads,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: Math.max(maxLength, SCRATCH_MAX_POSITIONS),
    tieWordEmbeddings: true,
    bosTokenId: bos,
    eosTokenIds: eos,
  };
  return checkLlamaConfig(c, 'scratch model');
}

function startModel(o: StartOptions, longest: (enc: RewardEncoder) => number): StartModel {
  if (o.init === undefined) {
    const encoder = o.tokenizer ? loadRewardEncoder(o.tokenizer) : new CharRewardEncoder();
    const maxLength = o.maxLength ?? longest(encoder);
    const bos = encoder instanceof CharRewardEncoder ? encoder.tok.bosId : null;
    const eos = encoder instanceof CharRewardEncoder ? [encoder.tok.eosId] : [];
    const config = scratchConfig(o.scratch, encoder, maxLength, bos, eos);
    return { config, weights: initLlamaWeights(config, Rng.derive(o.seed, 'rm/init')), head: null, attributes: [], priorWeights: null, encoder, initFrom: 'scratch' };
  }
  if (isRewardModelDir(o.init)) {
    const rm = loadRewardModel(o.init);
    if (o.tokenizer) {
      throw new UserError({ what: 'a reward model keeps its own tokenizer', where: '--tokenizer', received: o.tokenizer, fix: `drop --tokenizer when --init is a reward model (${o.init})` });
    }
    // copies: the loaded arrays become the state and must not alias the source model's
    return { config: rm.config, weights: rm.weights, head: { weight: rm.head.weight.slice(), bias: rm.head.bias.slice() }, attributes: [...rm.info.attributes], priorWeights: rm.info.rewardWeights, encoder: rm.encoder, initFrom: o.init };
  }
  const m = loadModel(o.init);
  const tokPath = o.tokenizer ?? m.tokenizerPath;
  if (!tokPath) {
    throw new UserError({ what: 'no tokenizer beside the model', where: o.init, fix: 'pass --tokenizer (a tokenizer.json, a llama2.c tokenizer .bin, or a directory holding one)' });
  }
  const encoder = loadRewardEncoder(tokPath, m.config.vocabSize);
  if (encoder.vocabSize > m.config.vocabSize) {
    throw new UserError({ what: `the tokenizer has ${encoder.vocabSize} tokens, the model ${m.config.vocabSize}`, where: tokPath, fix: 'use the tokenizer the model was trained with' });
  }
  return { config: m.config, weights: m.weights, head: null, attributes: [], priorWeights: null, encoder, initFrom: o.init };
}
