// The reward-model trainer's options — the one schema `trainRewardModel` and `steer rm train` parse
// (src/train/options.ts fields + the reward model's own) — and what a run returns.
import { z } from 'zod';
import { int, maxLengthSchema, num, posInt, trainerFields, type TrainerDefaults } from '../train/options.js';
import { REWARD_LOSSES, type RewardLossKind } from './losses.js';
import type { PairStats } from './evaluate.js';
import { scratchModelSchema, type RewardTrainData } from './start.js';

export const RM_DEFAULTS: TrainerDefaults = { lr: 1e-3, schedule: 'cosine', warmupSteps: 10, minLrRatio: 0.1 };

export const rewardTrainSchema = z.strictObject({
  ...trainerFields(RM_DEFAULTS),
  loss: z.enum(REWARD_LOSSES as [RewardLossKind, ...RewardLossKind[]]),
  /** Start from: a reward model dir (head kept), a model dir or llama2.c file (new head); absent = from scratch. */
  init: z.string().min(1).optional(),
  /** Tokenizer (default: the init's, else the toy world's char tokenizer). */
  tokenizer: z.string().min(1).optional(),
  /** Head slots of a new regression head (default the five HelpSteer2 attributes). */
  attributes: z.array(z.string().min(1)).min(1).optional(),
  /** Which slot (or "nemotron") a pair loss trains and the model's reward reads (default helpfulness for a multi-slot init). */
  readSlot: z.string().min(1).optional(),
  /** Longest sequence in tokens (longer ones keep their last maxLength tokens). Default: the longest in the data. */
  maxLength: maxLengthSchema.optional(),
  scratch: scratchModelSchema.default(scratchModelSchema.parse({})),
  /** Passes over the training items when steps is not given. */
  epochs: num.positive().default(1),
  /** Pairs (or rated rows) per micro-batch. */
  batchSize: posInt.default(16),
  /** Micro-batches per optimizer step. */
  gradAccum: posInt.default(1),
  /** Sequence-length bucket width (tokens): one compiled graph per bucket. */
  bucketWidth: int.min(1).default(32),
});
export type RewardTrainConfig = z.output<typeof rewardTrainSchema>;

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
