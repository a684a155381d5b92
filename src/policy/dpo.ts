// DPO and its margin / scaled variants (docs/recipe.md: the three Bradley-Terry losses on DPO's
// implicit reward r = β·Σ_t (log π − log π_ref) over the response tokens; src/policy/losses.ts).
// The reference's summed log-probs are computed once per pair, before training (dpo-reference.ts),
// and cached in <out>/reference-logps.json. A batch of B pairs is one [2B, T] sequence batch: rows
// [c0 … cB−1, r0 … rB−1] (src/data/pairs.ts pairBatchLayout), so a pair never straddles batches.
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import type { TypedArray } from '../graph/index.js';
import type { PreferencePair } from '../data/pairs.js';
import { TrainState } from '../train/optim.js';
import { runTrainLoop } from '../train/loop.js';
import { contentHash } from '../train/run.js';
import { FIRST_ITEM, nextBatch, type EpochCursor } from '../train/batches.js';
import { loopOptions, maxLengthSchema, num, parseTrainerOptions, posInt, trainerFields, type TrainerDefaults } from '../train/options.js';
import { DPO_LOSS_KINDS, type DpoLossKind } from './losses.js';
import type { PolicyModel } from './model.js';
import { initialParams } from './lora.js';
import { PolicyForward, PolicyUpdater } from './update.js';
import { finishPolicy, microBatch, openPolicyRun, startPolicy, type TrainerResult } from './common.js';
import { dpoGraph, pairFeeds, pairMetrics, pairRows, referenceGraph, referenceLogpsCached, tokenizePairs } from './dpo-pairs.js';

export const DPO_DEFAULTS: TrainerDefaults = { steps: 100, lr: 1e-4 };

export const dpoSchema = z.strictObject({
  ...trainerFields(DPO_DEFAULTS),
  /** regular | margin | scaled. */
  loss: z.enum(DPO_LOSS_KINDS as [DpoLossKind, ...DpoLossKind[]], { error: DPO_LOSS_KINDS.join(' | ') }).default('regular'),
  /** β of the implicit reward. */
  beta: num.positive({ error: 'a positive number, e.g. 0.1' }).default(0.1),
  /** Pairs per step. */
  batchSize: posInt.default(8),
  /** Pairs per micro-batch (default: the whole batch); a pair's two responses stay together. */
  microBatchSize: posInt.optional(),
  /** Longest prompt + response in tokens (default: the model's context); longer pairs are dropped. */
  maxLength: maxLengthSchema.optional(),
  lengthMultiple: posInt.default(16),
});

export type DpoOptions = z.input<typeof dpoSchema> & {
  /** The starting policy (usually the SFT model). */
  policy: PolicyModel | string;
  /** The frozen reference (default: the starting policy). */
  reference?: PolicyModel | string;
  pairs: readonly PreferencePair[];
  /** Held-out pairs: loss and implicit-reward accuracy at each evaluation. */
  evalPairs?: readonly PreferencePair[];
};

/** Train with DPO (regular / margin / scaled) on preference pairs. */
export async function trainDpo(o: DpoOptions): Promise<TrainerResult> {
  const { policy: p, reference: ref, pairs, evalPairs, ...rest } = o;
  const cfg = parseTrainerOptions(dpoSchema, rest, 'dpo');
  const st = startPolicy('dpo', cfg, p, ref);
  const { policy, reference, c, lora, engine, maxLength } = st;
  const B = cfg.batchSize;
  const micro = microBatch('dpo.microBatchSize', B, cfg.microBatchSize);
  const needMargin = cfg.loss !== 'regular';
  const train = tokenizePairs(policy, pairs, maxLength, needMargin);
  if (train.pairs.length === 0) throw new UserError({ what: `no preference pair fits in ${maxLength} tokens (or there are none)`, where: 'dpo.pairs', received: `${pairs.length} pairs`, fix: 'raise maxLength or pass shorter pairs' });
  if (train.dropped > 0 && !cfg.quiet) process.stderr.write(`dpo: dropped ${train.dropped} of ${pairs.length} pairs longer than ${maxLength} tokens\n`);
  const evalSet = evalPairs ? tokenizePairs(policy, evalPairs, maxLength, needMargin).pairs : [];
  const layout = { padId: policy.codec.padId, multiple: cfg.lengthMultiple, maxLength };
  const run = openPolicyRun(cfg, 'dpo', { microBatchSize: micro, maxLength, policy: policy.source, reference: reference.source, pairs: train.pairs.length, dropped: train.dropped, evalPairs: evalSet.length, data: contentHash(pairs), evalData: evalPairs ? contentHash(evalPairs) : null });
  // With LoRA the reference (default: the starting policy = the base without the adapter) is read
  // once by its own graph, released before the step graphs are built.
  const refForward = new PolicyForward(c, referenceGraph, reference.weights, engine, false, lora);
  const build = dpoGraph(cfg.loss, cfg.beta);
  const updater = new PolicyUpdater(c, build, cfg, engine, lora);
  const evalForward = new PolicyForward(c, (g, cc, b, T, pp) => ({ ...build(g, cc, b, T, pp), loss: undefined }), null, engine, true, lora);
  let ok = false;
  try {
    const refs = await referenceLogpsCached(refForward, cfg, reference.source, train.pairs, evalSet, layout);
    await refForward.release();
    const evaluate = async ({ state }: { state: TrainState }) => {
      const sum = { loss: 0, accuracy: 0, margin: 0 };
      for (let i = 0; i < evalSet.length; i += B) {
        // a short last batch repeats its last pair; only the real pairs are counted
        const idx = Array.from({ length: B }, (_, j) => Math.min(i + j, evalSet.length - 1));
        const real = Math.min(B, evalSet.length - i);
        const { feeds, T } = pairFeeds(evalSet, idx, refs.eval, layout);
        const m = pairMetrics(await evalForward.run(state.params, 2 * B, T, feeds), real);
        sum.loss += m.loss * real;
        sum.accuracy += m.reward_accuracy * real;
        sum.margin += m.reward_margin * real;
      }
      const n = evalSet.length;
      return { eval_loss: sum.loss / n, eval_reward_accuracy: sum.accuracy / n, eval_reward_margin: sum.margin / n };
    };
    const res = await runTrainLoop<EpochCursor>(loopOptions(cfg, `dpo-${cfg.loss}`, cfg.steps!, ['loss', 'reward_accuracy']), {
      init: () => TrainState.init(initialParams(c, lora, policy.weights, cfg.seed)),
      initialCursor: FIRST_ITEM,
      step: async ({ state, lr, cursor }) => {
        const next = nextBatch(train.pairs.length, B, cursor, cfg.seed, 'dpo/epoch');
        // one T for the whole batch; each micro-batch lays out its own pairs [c…, r…]
        const T = pairRows(next.indices.map((i) => train.pairs[i]), layout).T;
        const parts: Record<string, TypedArray>[] = [];
        for (let i = 0; i < B; i += micro) parts.push(pairFeeds(train.pairs, next.indices.slice(i, i + micro), refs.train, layout, T).feeds);
        const res = await updater.step(state, 2 * micro, T, parts.length === 1 ? parts[0] : parts, lr);
        return { metrics: { ...pairMetrics(res.extra, B), loss: res.loss, grad_norm: res.gradNorm, epoch: next.cursor.epoch }, cursor: next.cursor };
      },
      evaluate: evalSet.length > 0 ? evaluate : undefined,
    });
    const result = finishPolicy(cfg, st, res, { stage: `dpo-${cfg.loss}`, reference: reference.source, beta: cfg.beta });
    ok = true;
    return result;
  } finally {
    await refForward.release();
    await updater.release();
    await evalForward.release();
    run.release(ok);
  }
}
