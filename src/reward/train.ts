// Reward-model training, top to bottom:
//   1. options validated once (zod, defaults, unknown keys rejected); data read and tokenised;
//   2. the starting model: from scratch (random Llama), a language model (new head), or a reward
//      model (its head kept — e.g. Scaled BT initialised from helpfulness-only regression, reading
//      the helpfulness slot);
//   3. runTrainLoop (schedule, progress with ETA, metrics.jsonl, evaluation every N steps,
//      checkpoints, exact resume) with this trainer's step: `gradAccum` micro-batches, each one
//      graph (forward + backward, AdamW fused when there is no accumulation). A pair's chosen and
//      rejected sequences are rows i and B + i of the same micro-batch, always;
//   4. the final reward model directory (model.ts) under <out>/model.
// Losses (losses.ts): regression = masked MSE of all slots; BT / margin BT / Scaled BT on the
// merged reward r = Σ_a w_a · slot_a.
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { Rng, fnv1a32 } from '../util/rng.js';
import { Graph, type TypedArray } from '../graph/index.js';
import type { LlamaConfig } from '../nn/config.js';
import { checkLlamaConfig } from '../nn/config.js';
import { initLlamaWeights } from '../nn/init.js';
import { padBatch } from '../nn/llama.js';
import { LM_HEAD, type LlamaWeights } from '../nn/weights.js';
import { LORA_TARGETS, initLora, loraWeightShapes, mergeLora, type LoraConfig } from '../nn/lora.js';
import { savePeftAdapter } from '../io/peft.js';
import { loadModel } from '../io/checkpoint.js';
import { HELPSTEER2_ATTRIBUTES } from '../data/helpsteer2.js';
import { TrainState, compileAccumulation, compileTrainStep, type Accumulation, type TrainStep } from '../train/optim.js';
import { runTrainLoop } from '../train/loop.js';
import { openRun } from '../train/run.js';
import { REWARD_LOSSES, logSigmoid, pairLoss, regressionLoss, type PairLossKind, type RewardLossKind } from './losses.js';
import { SCALAR_SLOT, defaultRewardWeights, mergeSlots, rewardWeights } from './head.js';
import { CharRewardEncoder, loadRewardEncoder, truncateLeft, type RewardEncoder } from './encode.js';
import { HEAD_BIAS, HEAD_WEIGHT, buildRewardForward, initRewardHead, isRewardModelDir, loadRewardModel, saveRewardModel, trunkWeightShapes, type RewardModel, type RewardModelInfo } from './model.js';
import { SequenceScorer, lengthBucket } from './score.js';
import { readPairFile, readRatingFile, labelMatrix, type RatedRow, type RewardPair } from './data.js';
import { pairStats, type PairStats } from './evaluate.js';

// ---- options -----------------------------------------------------------------------------------

const posInt = z.number().int().min(1);

/** Sizes of a model trained from scratch (the toy world's char-level RMs by default). */
export const scratchModelSchema = z.strictObject({
  hiddenSize: posInt.default(64),
  numLayers: posInt.default(2),
  numHeads: posInt.default(4),
  numKvHeads: posInt.default(2),
  intermediateSize: posInt.default(176),
});
export type ScratchModel = z.output<typeof scratchModelSchema>;

/** LoRA options (src/nn/lora.ts); shared with the policy trainers' CLI flags. */
export const loraOptionsSchema = z.strictObject({
  rank: posInt,
  alpha: z.number().positive(),
  /** lora_dropout: reward models take only 0 (the policy trainers take p > 0, src/policy/lora.ts) */
  dropout: z.number().refine((p) => p === 0, { message: 'reward models train LoRA without dropout: pass --lora-dropout 0 (sft, dpo and rl reinforce take p > 0)' }).default(0),
  targets: z.array(z.enum(LORA_TARGETS)).min(1).default(['q_proj', 'k_proj', 'v_proj', 'o_proj']),
});

export const rewardTrainSchema = z.strictObject({
  loss: z.enum(REWARD_LOSSES as [RewardLossKind, ...RewardLossKind[]]),
  /** Run directory: metrics.jsonl, checkpoints/, train-config.json and the final model/. */
  out: z.string().min(1),
  /** Start from: a reward model dir (head kept), a model dir or llama2.c file (new head); absent = from scratch. */
  init: z.string().min(1).optional(),
  /** Tokenizer (default: the init's, else the toy world's char tokenizer). */
  tokenizer: z.string().min(1).optional(),
  /** Head slots of a new regression head (default the five HelpSteer2 attributes). */
  attributes: z.array(z.string().min(1)).min(1).optional(),
  /** Which slot (or "nemotron") a pair loss trains and the model's reward reads (default helpfulness for a multi-slot init). */
  readSlot: z.string().min(1).optional(),
  /** Longest sequence in tokens (longer ones keep their last maxLength tokens). Default: the longest in the data. */
  maxLength: posInt.optional(),
  scratch: scratchModelSchema.default(scratchModelSchema.parse({})),
  /** Optimizer steps (default: epochs over the training items). */
  steps: posInt.optional(),
  epochs: z.number().positive().default(1),
  /** Pairs (or rated rows) per micro-batch. */
  batchSize: posInt.default(16),
  /** Micro-batches per optimizer step. */
  gradAccum: posInt.default(1),
  lr: z.number().positive().default(1e-3),
  /** Cosine floor as a fraction of lr. */
  minLrRatio: z.number().min(0).max(1).default(0.1),
  warmupSteps: z.number().int().min(0).default(10),
  schedule: z.enum(['constant', 'cosine']).default('cosine'),
  weightDecay: z.number().min(0).default(0),
  maxGradNorm: z.number().positive().default(1),
  /** Evaluate on the validation data every N steps (0: only at the end). */
  evalEvery: z.number().int().min(0).default(0),
  checkpointEvery: z.number().int().min(0).default(0),
  keepCheckpoints: posInt.default(2),
  seed: z.number().int().min(0).default(0),
  threads: posInt.default(2),
  quiet: z.boolean().default(false),
  /** Idle engine threads spin (lowest latency on a quiet machine); false when other processes share the cores. */
  spinning: z.boolean().default(true),
  /** Bit-reproducible gradients (default: on for vocabularies up to 4096, where it is cheap). */
  deterministic: z.boolean().optional(),
  /** Continue from the newest checkpoint in out (default true). */
  resume: z.boolean().default(true),
  /** Sequence-length bucket width (tokens): one compiled graph per bucket. */
  bucketWidth: posInt.default(32),
  /** Train a LoRA adapter (and the head) on a frozen trunk instead of every weight. */
  lora: loraOptionsSchema.optional(),
});
export type RewardTrainConfig = z.output<typeof rewardTrainSchema>;

/** Rows in memory, or files to read. */
export type PairSource = readonly RewardPair[] | readonly string[];
export type RatingSource = readonly RatedRow[] | readonly string[];

export interface RewardTrainData {
  trainPairs?: PairSource;
  trainRatings?: RatingSource;
  valPairs?: PairSource;
  valRatings?: RatingSource;
}

export interface RewardTrainHooks {
  /** Called after every optimizer step with its metrics (progress displays, plots). An exception stops training like a crash: resume continues from the last checkpoint. */
  onStep?: (info: { step: number; metrics: Readonly<Record<string, number>> }) => void | Promise<void>;
}

export type RewardTrainOptions = z.input<typeof rewardTrainSchema> & RewardTrainData & RewardTrainHooks;

export interface RewardTrainResult {
  /** The trained reward model directory (<out>/model). */
  modelDir: string;
  runDir: string;
  metricsPath: string;
  steps: number;
  resumedFrom: number | null;
  /** Validation pairs at the end (null without validation pairs). */
  eval: PairStats | null;
  /** Validation masked MSE at the end (regression with validation ratings). */
  valMse: number | null;
  /** Real (non-padding) tokens per second of training steps run in this call. */
  tokensPerSecond: number;
  /** Padded tokens per second (what the engine computed). */
  paddedTokensPerSecond: number;
  config: RewardTrainConfig;
}

// ---- data --------------------------------------------------------------------------------------

const isFileList = (x: readonly unknown[]): x is readonly string[] => x.length > 0 && typeof x[0] === 'string';

async function loadPairs(src: PairSource | undefined): Promise<RewardPair[]> {
  if (!src) return [];
  if (!isFileList(src)) return [...(src as readonly RewardPair[])];
  const out: RewardPair[] = [];
  for (const f of src) out.push(...(await readPairFile(f)));
  return out;
}

async function loadRatings(src: RatingSource | undefined): Promise<RatedRow[]> {
  if (!src) return [];
  if (!isFileList(src)) return [...(src as readonly RatedRow[])];
  const out: RatedRow[] = [];
  for (const f of src) out.push(...(await readRatingFile(f)));
  return out;
}

function describeSource(src: PairSource | RatingSource | undefined): unknown {
  if (!src) return null;
  if (isFileList(src)) return src;
  return { rows: src.length, hash: fnv1a32(JSON.stringify(src)) };
}

export interface TokenPair {
  chosen: number[];
  rejected: number[];
  margin: number;
}

/** Positions a from-scratch model is declared for (RoPE has no table to outgrow; metadata for exports). */
const SCRATCH_MAX_POSITIONS = 512;
/** The longest default maxLength: longer data needs an explicit maxLength (--max-length). */
export const DEFAULT_MAX_LENGTH_CAP = 4096;
/** The smallest default maxLength (see trainRewardModel). */
const MIN_MAX_LENGTH = 128;

// ---- the starting model --------------------------------------------------------------------------

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

function startModel(cfg: RewardTrainConfig, maxLengthHint: (enc: RewardEncoder) => number): StartModel {
  const rng = Rng.derive(cfg.seed, 'rm/init');
  if (cfg.init === undefined) {
    const encoder = cfg.tokenizer ? loadRewardEncoder(cfg.tokenizer) : new CharRewardEncoder();
    const maxLength = cfg.maxLength ?? maxLengthHint(encoder);
    const bos = encoder instanceof CharRewardEncoder ? encoder.tok.bosId : null;
    const eos = encoder instanceof CharRewardEncoder ? [encoder.tok.eosId] : [];
    const config = scratchConfig(cfg.scratch, encoder, maxLength, bos, eos);
    return { config, weights: initLlamaWeights(config, rng), head: null, attributes: [], priorWeights: null, encoder, initFrom: 'scratch' };
  }
  if (isRewardModelDir(cfg.init)) {
    const rm = loadRewardModel(cfg.init);
    if (cfg.tokenizer) {
      throw new UserError({ what: 'a reward model keeps its own tokenizer', where: '--tokenizer', received: cfg.tokenizer, fix: `drop --tokenizer when --init is a reward model (${cfg.init})` });
    }
    // copies: the loaded arrays become the state and must not alias the source model's
    return { config: rm.config, weights: rm.weights, head: { weight: rm.head.weight.slice(), bias: rm.head.bias.slice() }, attributes: [...rm.info.attributes], priorWeights: rm.info.rewardWeights, encoder: rm.encoder, initFrom: cfg.init };
  }
  const m = loadModel(cfg.init);
  const tokPath = cfg.tokenizer ?? m.tokenizerPath;
  if (!tokPath) {
    throw new UserError({ what: 'no tokenizer beside the model', where: cfg.init, fix: 'pass --tokenizer (a tokenizer.json, a llama2.c tokenizer .bin, or a directory holding one)' });
  }
  const encoder = loadRewardEncoder(tokPath, m.config.vocabSize);
  if (encoder.vocabSize > m.config.vocabSize) {
    throw new UserError({ what: `the tokenizer has ${encoder.vocabSize} tokens, the model ${m.config.vocabSize}`, where: tokPath, fix: 'use the tokenizer the model was trained with' });
  }
  return { config: m.config, weights: m.weights, head: null, attributes: [], priorWeights: null, encoder, initFrom: cfg.init };
}

// ---- the trainer ---------------------------------------------------------------------------------

interface Cursor {
  epoch: number;
  /** Next micro-batch of the epoch. */
  batch: number;
}

/** Train a reward model (see the file header). Returns the model directory and the run's numbers. */
export async function trainRewardModel(options: RewardTrainOptions): Promise<RewardTrainResult> {
  const { trainPairs: tp, trainRatings: tr, valPairs: vp, valRatings: vr, onStep, ...rest } = options;
  const cfg = parseTrainConfig(rest);
  const isPairs = cfg.loss !== 'regression';
  const [trainPairs, trainRatings, valPairs, valRatings] = await Promise.all([loadPairs(tp), loadRatings(tr), loadPairs(vp), loadRatings(vr)]);
  if (isPairs && trainPairs.length === 0) {
    throw new UserError({ what: `the ${cfg.loss} loss trains on preference pairs; none were given`, where: 'trainPairs (--pairs)', fix: 'pass pair files (steer data prepare writes pairs-train.jsonl)' });
  }
  if (!isPairs && trainRatings.length === 0) {
    throw new UserError({ what: 'the regression loss trains on rated responses; none were given', where: 'trainRatings (--ratings)', fix: 'pass HelpSteer2 / SteerLM rating files (steer data prepare writes ratings-train.jsonl)' });
  }
  if (cfg.loss === 'margin-bt' || cfg.loss === 'scaled-bt') {
    const bad = trainPairs.find((p) => p.margin === undefined || !(p.margin >= 0));
    if (bad) {
      throw new UserError({ what: `the ${cfg.loss} loss needs a margin (|preference strength|) on every pair`, where: bad.source ?? 'a training pair', received: `margin ${String(bad.margin)}`, fix: 'use HelpSteer2-Preference pairs (strength 1–3) or pairs with a margin field, or --loss bt' });
    }
  }

  // Tokenise once (the encoder comes with the starting model), then truncate to maxLength.
  type Encoded = { pairs: TokenPair[]; rated: number[][]; valPairs: TokenPair[]; valRated: number[][] };
  let full: { enc: RewardEncoder; data: Encoded } | null = null;
  const encodeAll = (enc: RewardEncoder): Encoded => {
    if (full?.enc !== enc) {
      const tp2 = (p: RewardPair): TokenPair => ({ chosen: enc.encode(p.prompt, p.chosen), rejected: enc.encode(p.prompt, p.rejected), margin: p.margin ?? 1 });
      const rr = (r: RatedRow) => enc.encode(r.prompt, r.response);
      full = { enc, data: { pairs: trainPairs.map(tp2), rated: trainRatings.map(rr), valPairs: valPairs.map(tp2), valRated: valRatings.map(rr) } };
    }
    return full.data;
  };
  const longest = (enc: RewardEncoder) => {
    const d = encodeAll(enc);
    let m = 1;
    for (const p of [...d.pairs, ...d.valPairs]) m = Math.max(m, p.chosen.length, p.rejected.length);
    for (const r of [...d.rated, ...d.valRated]) m = Math.max(m, r.length);
    return m;
  };
  // Without --max-length the longest sequence sets it, up to a cap: one absurdly long row must not
  // size every graph (a 1,000,000-character row would ask for a million-token attention).
  const capped = (enc: RewardEncoder) => {
    const m = longest(enc);
    if (cfg.maxLength === undefined && m > DEFAULT_MAX_LENGTH_CAP) {
      const d = encodeAll(enc);
      const i = d.pairs.findIndex((p) => Math.max(p.chosen.length, p.rejected.length) === m);
      const where = i >= 0 ? (trainPairs[i].source ?? `training pair ${i + 1}`) : 'the training or validation data';
      throw new UserError({ what: `a sequence of ${m} tokens is longer than the default cap of ${DEFAULT_MAX_LENGTH_CAP} tokens`, where, expected: `prompt + response of at most ${DEFAULT_MAX_LENGTH_CAP} tokens, or an explicit --max-length`, fix: `pass --max-length N to train on longer data (longer sequences keep their last N tokens), or drop the row` });
    }
    return m;
  };
  const start = startModel(cfg, capped);
  const c = start.config;
  // Default: the longest sequence in the data, but at least MIN_MAX_LENGTH so that somewhat longer
  // texts scored later (a policy's samples) are not cut; training buckets follow the real lengths.
  const maxLength = Math.min(cfg.maxLength ?? Math.max(capped(start.encoder), MIN_MAX_LENGTH), c.maxPositionEmbeddings);
  const cut = (ids: number[]) => truncateLeft(ids, maxLength);
  const cutPair = (p: TokenPair): TokenPair => ({ chosen: cut(p.chosen), rejected: cut(p.rejected), margin: p.margin });
  const enc0 = encodeAll(start.encoder);
  const tokenised: Encoded = { pairs: enc0.pairs.map(cutPair), rated: enc0.rated.map(cut), valPairs: enc0.valPairs.map(cutPair), valRated: enc0.valRated.map(cut) };
  full = null;

  // Head slots and the reward they merge into.
  let attributes: string[];
  let weights: number[];
  let head = start.head;
  if (head) {
    attributes = start.attributes;
    if (cfg.attributes && cfg.attributes.join() !== attributes.join()) {
      throw new UserError({ what: 'the initial reward model has other head slots', where: '--attributes', expected: attributes.join(','), received: cfg.attributes.join(','), fix: 'drop --attributes when --init is a reward model (its head is kept)' });
    }
    if (cfg.readSlot) weights = rewardWeights(attributes, cfg.readSlot);
    else if (isPairs && attributes.includes('helpfulness')) weights = rewardWeights(attributes, 'helpfulness');
    else weights = start.priorWeights ?? defaultRewardWeights(attributes);
  } else {
    attributes = isPairs ? (cfg.attributes ?? [SCALAR_SLOT]) : (cfg.attributes ?? [...HELPSTEER2_ATTRIBUTES]);
    weights = cfg.readSlot ? rewardWeights(attributes, cfg.readSlot) : defaultRewardWeights(attributes);
    // A regression head starts at the label means (its bias), so the first steps fit shape, not offset.
    const labels = isPairs ? null : labelMatrix(trainRatings, attributes);
    const bias = attributes.map((_, k) => {
      if (!labels) return 0;
      let s = 0;
      let n = 0;
      for (let i = k; i < labels.length; i += attributes.length) if (labels[i] !== -100) (s += labels[i]), n++;
      return n ? s / n : 0;
    });
    head = initRewardHead(c.hiddenSize, attributes.length, Rng.derive(cfg.seed, 'rm/head'), bias);
  }
  if (!isPairs) {
    const unlabelled = attributes.filter((a) => !trainRatings.some((r) => r.labels[a] !== undefined));
    if (unlabelled.length > 0) {
      throw new UserError({ what: `no training row labels ${unlabelled.join(', ')}`, where: '--attributes', received: attributes.join(','), fix: `train only labelled attributes, e.g. --attributes ${HELPSTEER2_ATTRIBUTES[0]}` });
    }
  }
  const N = attributes.length;
  const labelsTrain = isPairs ? null : labelMatrix(trainRatings, attributes);
  const labelsVal = valRatings.length ? labelMatrix(valRatings, attributes) : null;

  // Micro-batches.
  const items = isPairs ? tokenised.pairs.length : tokenised.rated.length;
  const B = cfg.batchSize;
  if (items < B) {
    throw new UserError({ what: `${items} training ${isPairs ? 'pairs' : 'rows'} do not fill one micro-batch of ${B}`, where: '--batch-size', fix: `use --batch-size ${Math.max(1, items)} or more data` });
  }
  const perEpoch = Math.floor(items / B);
  const steps = cfg.steps ?? Math.max(1, Math.floor((cfg.epochs * perEpoch) / cfg.gradAccum));
  const orders = new Map<number, number[]>();
  const epochOrder = (epoch: number) => {
    let o = orders.get(epoch);
    if (!o) {
      o = Rng.derive(cfg.seed, `rm/order/${epoch}`).shuffle(Array.from({ length: items }, (_, i) => i));
      orders.set(epoch, o);
      orders.delete(epoch - 2);
    }
    return o;
  };
  const next = (cur: Cursor): { idx: number[]; cursor: Cursor } => {
    const cc = cur.batch >= perEpoch ? { epoch: cur.epoch + 1, batch: 0 } : cur;
    const o = epochOrder(cc.epoch);
    return { idx: o.slice(cc.batch * B, (cc.batch + 1) * B), cursor: { epoch: cc.epoch, batch: cc.batch + 1 } };
  };

  // Run directory: output guard, lock, the resume rule (src/train/run.ts).
  const deterministic = cfg.deterministic ?? c.vocabSize <= 4096;
  const record = { ...cfg, steps, maxLength, attributes, rewardWeights: weights, deterministic, data: { trainPairs: describeSource(tp), trainRatings: describeSource(tr), valPairs: describeSource(vp), valRatings: describeSource(vr) } };
  const run = openRun({ runDir: cfg.out, stage: 'rm train', configFile: 'train-config.json', config: record, resume: cfg.resume, pathKeys: ['init', 'tokenizer', 'trainPairs', 'trainRatings', 'valPairs', 'valRatings'] });
  let ok = false;
  try {

  // Compiled steps, one per sequence-length bucket.
  const trunk = trunkWeightShapes(c);
  const lora: LoraConfig | null = cfg.lora ?? null;
  /** The trunk + head a scorer is fed: with LoRA, the frozen trunk merged with the live adapter. */
  const scoringParams = (p: Record<string, Float32Array>): Record<string, Float32Array> => {
    if (!lora) return p;
    const merged = mergeLora(c, start.weights, lora, new Map(loraWeightShapes(c, lora).map(([n, shape]) => [n, { shape, data: p[n] }])));
    const out: Record<string, Float32Array> = { [HEAD_WEIGHT]: p[HEAD_WEIGHT], [HEAD_BIAS]: p[HEAD_BIAS] };
    for (const [n] of trunk) out[n] = merged.get(n)!.data;
    return out;
  };
  const steppers = new Map<number, Promise<TrainStep | Accumulation>>();
  const stepperFor = (T: number) => {
    let p = steppers.get(T);
    if (!p) {
      p = compileRewardTrainStep(c, { loss: cfg.loss, slots: N, rewardWeights: weights, batchSize: B, T, gradAccum: cfg.gradAccum, maxGradNorm: cfg.maxGradNorm, weightDecay: cfg.weightDecay, threads: cfg.threads, deterministic, spinning: cfg.spinning, lora: lora ? { config: lora, base: start.weights } : undefined });
      steppers.set(T, p);
    }
    return p;
  };

  const padId = start.encoder.padId;
  const microFeeds = (idx: number[]) => {
    const seqs = isPairs ? pairRows(tokenised.pairs, idx) : idx.map((i) => tokenised.rated[i]);
    const T = lengthBucket(Math.max(...seqs.map((s) => s.length)), maxLength, cfg.bucketWidth);
    const pb = padBatch(seqs, { side: 'right', padId, length: T });
    const feeds: Record<string, TypedArray> = { ids: pb.ids, positions: pb.positions, mask: pb.mask, last: pb.lastIndex };
    if (isPairs && cfg.loss !== 'bt') feeds.margin = Float32Array.from(idx, (i) => tokenised.pairs[i].margin);
    if (!isPairs) {
      const lab = new Float32Array(B * N);
      idx.forEach((i, k) => lab.set(labelsTrain!.subarray(i * N, (i + 1) * N), k * N));
      feeds.labels = lab;
    }
    let real = 0;
    for (const s of seqs) real += s.length;
    return { T, feeds, real, padded: seqs.length * T };
  };

  // Evaluation on validation pairs / ratings with the live parameters.
  const scorer = new SequenceScorer(c, N, { maxLength, padId, threads: cfg.threads, rows: 32, bucketWidth: cfg.bucketWidth, spinning: cfg.spinning });
  let lastPairStats: PairStats | null = null;
  let lastMse: number | null = null;
  const evaluate = async ({ state }: { state: TrainState }) => {
    const out: Record<string, number> = {};
    const params = scoringParams(state.params as Record<string, Float32Array>);
    if (tokenised.valPairs.length) {
      const vpT = tokenised.valPairs;
      const s = await scorer.score(params, [...vpT.map((p) => p.chosen), ...vpT.map((p) => p.rejected)]);
      const r = mergeSlots(s, weights);
      const rows = vpT.map((_, i) => ({ chosen: r[i], rejected: r[vpT.length + i] }));
      lastPairStats = pairStats(rows);
      out.val_accuracy = lastPairStats.accuracy;
      out.val_margin = lastPairStats.meanMargin;
      out.val_bt_loss = rows.reduce((a, x) => a - logSigmoid(x.chosen - x.rejected), 0) / rows.length;
      out.val_pairs = rows.length;
    }
    if (labelsVal) {
      const s = await scorer.score(params, tokenised.valRated);
      let se = 0;
      let n = 0;
      for (let i = 0; i < s.length; i++) if (labelsVal[i] !== -100) (se += (s[i] - labelsVal[i]) ** 2), n++;
      lastMse = n ? se / n : null;
      if (lastMse !== null) out.val_mse = lastMse;
    }
    return out;
  };

  let tokens = 0;
  let paddedTokens = 0;
  let stepSeconds = 0;
  const initialParams = (): Record<string, Float32Array> => {
    const p: Record<string, Float32Array> = {};
    if (lora) for (const [n, t] of initLora(c, lora, Rng.derive(cfg.seed, 'rm/lora'))) p[n] = t.data;
    else for (const [n] of trunk) p[n] = start.weights.get(n)!.data.slice();
    p[HEAD_WEIGHT] = head!.weight;
    p[HEAD_BIAS] = head!.bias;
    return p;
  };
  const result = await runTrainLoop<Cursor>(
    {
      name: `rm-${cfg.loss}`,
      runDir: cfg.out,
      steps,
      schedule: { kind: cfg.schedule, peakLr: cfg.lr, warmupSteps: Math.min(cfg.warmupSteps, Math.max(0, steps - 1)), minLr: cfg.lr * cfg.minLrRatio },
      checkpointEvery: cfg.checkpointEvery,
      keepCheckpoints: cfg.keepCheckpoints,
      evalEvery: cfg.evalEvery,
      resume: cfg.resume,
      quiet: cfg.quiet,
      show: isPairs ? ['loss', 'accuracy'] : ['loss'],
    },
    {
      init: () => TrainState.init(initialParams()),
      initialCursor: { epoch: 0, batch: 0 },
      step: async ({ state, lr, cursor, step }) => {
        const t0 = performance.now();
        let cur = cursor;
        let lossSum = 0;
        let correct = 0;
        let marginSum = 0;
        let real = 0;
        let padded = 0;
        let gradNorm: number;
        const diffs = (d: TypedArray | undefined) => {
          if (!d) return;
          for (let i = 0; i < d.length; i++) {
            const v = Number(d[i]);
            if (v > 0) correct++;
            marginSum += v;
          }
        };
        if (cfg.gradAccum === 1) {
          const n = next(cur);
          cur = n.cursor;
          const mb = microFeeds(n.idx);
          const st = (await stepperFor(mb.T)) as TrainStep;
          const r = await st.run(state, mb.feeds, lr);
          lossSum = r.loss;
          gradNorm = r.gradNorm;
          diffs(r.extra.diff);
          real = mb.real;
          padded = mb.padded;
        } else {
          let acc: Record<string, TypedArray> | null = null;
          let any: Accumulation | null = null;
          for (let k = 0; k < cfg.gradAccum; k++) {
            const n = next(cur);
            cur = n.cursor;
            const mb = microFeeds(n.idx);
            const st = (await stepperFor(mb.T)) as Accumulation;
            any = st;
            const r = await st.accumulate(state, acc ?? st.zeros(), mb.feeds);
            acc = r.acc;
            lossSum += r.loss;
            diffs(r.extra.diff);
            real += mb.real;
            padded += mb.padded;
          }
          gradNorm = (await any!.apply(state, acc!, lr, 1 / cfg.gradAccum)).gradNorm;
        }
        const sec = (performance.now() - t0) / 1000;
        tokens += real;
        paddedTokens += padded;
        stepSeconds += sec;
        const metrics: Record<string, number> = { loss: lossSum / cfg.gradAccum, grad_norm: gradNorm, tokens: real, tokens_per_s: real / sec };
        if (isPairs) {
          const n = B * cfg.gradAccum;
          metrics.accuracy = correct / n;
          metrics.margin = marginSum / n;
        }
        if (onStep) await onStep({ step: step + 1, metrics });
        return { metrics, cursor: cur };
      },
      evaluate: tokenised.valPairs.length || labelsVal ? evaluate : undefined,
    },
  );

  // The final model: trained trunk and head, the untouched LM head of an untied model.
  const trained = result.state.params as Record<string, Float32Array>;
  const p = scoringParams(trained);
  const finalWeights: LlamaWeights = new Map();
  for (const [n, shape] of trunk) finalWeights.set(n, { shape, data: p[n] });
  const lm = start.weights.get(LM_HEAD);
  if (lm && !c.tieWordEmbeddings) finalWeights.set(LM_HEAD, lm);
  const info: RewardModelInfo = { format: 'steer-reward-model', version: 1, attributes, rewardWeights: weights, textFormat: start.encoder.format, maxLength, loss: cfg.loss, initFrom: start.initFrom };
  const rm: RewardModel = { config: c, weights: finalWeights, head: { weight: p[HEAD_WEIGHT], bias: p[HEAD_BIAS] }, info, encoder: start.encoder };
  // With LoRA: model/ holds the merged sequence classifier; adapter/ the PEFT adapter with the head (modules_to_save).
  const modelDir = saveRewardModel(join(cfg.out, 'model'), rm, { source: cfg.out, steps: result.steps, ...(lora ? { lora: { ...lora, adapter: join(cfg.out, 'adapter') } } : {}) });
  if (lora) {
    const adapter = new Map(loraWeightShapes(c, lora).map(([n, shape]) => [n, { shape, data: trained[n] }]));
    const head = new Map([[HEAD_WEIGHT, { shape: [N, c.hiddenSize], data: trained[HEAD_WEIGHT] }]]);
    if (trained[HEAD_BIAS].some((b) => b !== 0)) head.set(HEAD_BIAS, { shape: [N], data: trained[HEAD_BIAS] });
    savePeftAdapter(join(cfg.out, 'adapter'), { lora, weights: adapter, modules: head, taskType: 'SEQ_CLS', baseModel: start.initFrom });
  }
  ok = true;
  return {
    modelDir,
    runDir: cfg.out,
    metricsPath: result.metricsPath,
    steps: result.steps,
    resumedFrom: result.resumedFrom,
    eval: lastPairStats,
    valMse: lastMse,
    tokensPerSecond: stepSeconds > 0 ? tokens / stepSeconds : 0,
    paddedTokensPerSecond: stepSeconds > 0 ? paddedTokens / stepSeconds : 0,
    config: cfg,
  };
  } finally {
    run.release(ok);
  }
}

/** The rows of a micro-batch of pairs: chosen sequences first, then the same pairs' rejected ones (pair k = rows k and B + k). */
export function pairRows(pairs: readonly TokenPair[], idx: readonly number[]): number[][] {
  return [...idx.map((i) => pairs[i].chosen), ...idx.map((i) => pairs[i].rejected)];
}

export interface RewardStepSpec {
  loss: RewardLossKind;
  /** Head slots N. */
  slots: number;
  /** Merge weights [N] of the pair losses' reward. */
  rewardWeights: readonly number[];
  /** Pairs (or rated rows) per micro-batch. */
  batchSize: number;
  /** Padded sequence length. */
  T: number;
  gradAccum: number;
  maxGradNorm?: number;
  weightDecay?: number;
  threads?: number;
  deterministic?: boolean;
  spinning?: boolean;
  /** train a LoRA adapter on this frozen trunk (the trunk becomes graph initializers) */
  lora?: { config: LoraConfig; base: LlamaWeights };
}

/**
 * One micro-batch's graph: forward over R = 2B rows (pairs: chosen rows [0, B), rejected [B, 2B))
 * or B rated rows, the loss, its gradient, and AdamW fused in (gradAccum 1) or an accumulation
 * graph plus an apply graph. Feeds: ids, positions, mask, last, and margin [B] (margin/Scaled BT)
 * or labels [B, N] (regression); extra output `diff` = r_c − r_r [B] for pair losses.
 */
export async function compileRewardTrainStep(c: LlamaConfig, s: RewardStepSpec): Promise<TrainStep | Accumulation> {
  const isPairs = s.loss !== 'regression';
  const B = s.batchSize;
  const N = s.slots;
  const R = isPairs ? 2 * B : B;
  const g = new Graph();
  const f = buildRewardForward(g, c, N, R, s.T, s.lora);
  const batchInputs = [f.ids, f.positions, f.mask, f.last];
  let loss;
  const extra: Record<string, ReturnType<Graph['input']>> = {};
  if (isPairs) {
    const r = f.scores.matmul(g.constant(Float32Array.from(s.rewardWeights), [N, 1])).reshape([R]); // [2B] merged rewards
    const chosen = r.slice(0, 0, B); // rows [0, B): chosen
    const rejected = r.slice(0, B, 2 * B); // rows [B, 2B): the same pairs' rejected
    let margin;
    if (s.loss !== 'bt') {
      margin = g.input('margin', [B]);
      batchInputs.push(margin);
    }
    loss = pairLoss(s.loss as PairLossKind, chosen, rejected, margin);
    extra.diff = chosen.sub(rejected);
  } else {
    const labels = g.input('labels', [B, N]);
    batchInputs.push(labels);
    loss = regressionLoss(f.scores, labels);
  }
  const names = f.params.map((t) => t.attrs.name as string);
  const spec = { loss, params: f.params, batch: batchInputs, extraOutputs: extra };
  const opt = { maxGradNorm: s.maxGradNorm, weightDecay: s.weightDecay ?? 0, noDecay: names.filter((n) => n.endsWith('norm.weight') || n === HEAD_BIAS) };
  const run = { threads: s.threads ?? 2, deterministic: s.deterministic ?? c.vocabSize <= 4096, spinning: s.spinning };
  return s.gradAccum === 1 ? compileTrainStep(spec, opt, run) : compileAccumulation(spec, opt, run);
}

/** Validate options (defaults applied, unknown keys rejected) with messages naming the field. */
export function parseTrainConfig(input: unknown): RewardTrainConfig {
  const r = rewardTrainSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.join(', ')}` : i.message}`);
  throw new UserError({ what: `invalid reward-model training options\n  ${lines.join('\n  ')}`, where: 'trainRewardModel options', fix: 'correct the listed fields; `steer rm train --help` lists each option with its default' });
}
