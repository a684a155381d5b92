// Reward-model training, top to bottom (the loop, checkpoints and resume are src/train/):
//   1. options: one zod schema (src/train/options.ts fields + the reward model's own), shared with
//      `steer rm train`;
//   2. the start (start.ts): data read and checked, the starting model (scratch, a language model
//      with a new head, or a reward model with its head kept), tokens cut to maxLength, the head;
//   3. the loop: each step takes `gradAccum` micro-batches of `batchSize` pairs (or rated rows)
//      from shuffled epochs, pads each to its length bucket, and runs the step graph (step.ts:
//      forward, loss, backward, AdamW; compiled once per bucket by src/train/steps.ts);
//      evaluation scores the validation pairs / ratings with the live weights;
//   4. the final reward model directory (model.ts) under <out>/model (+ adapter/ with LoRA).
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { LM_HEAD, type LlamaWeights } from '../nn/weights.js';
import { initLora, loraWeightShapes, mergeLora } from '../nn/lora.js';
import { savePeftAdapter } from '../io/peft.js';
import { TrainState } from '../train/optim.js';
import { runTrainLoop } from '../train/loop.js';
import { openRun } from '../train/run.js';
import { FIRST_ITEM, nextBatch, type EpochCursor } from '../train/batches.js';
import { ShapeSteps } from '../train/steps.js';
import { loopOptions, parseTrainerOptions } from '../train/options.js';
import { logSigmoid } from './losses.js';
import { mergeSlots } from './head.js';
import { HEAD_BIAS, HEAD_WEIGHT, saveRewardModel, trunkWeightShapes, type RewardModel, type RewardModelInfo } from './model.js';
import { SequenceScorer } from './score.js';
import { pairStats, type PairStats } from './evaluate.js';
import { rewardStart } from './start.js';
import { diffStats, rewardFeeds, rewardStepSpec } from './step.js';
import { rewardTrainSchema, type RewardTrainOptions, type RewardTrainResult } from './options.js';

export { RM_DEFAULTS, rewardTrainSchema, type RewardTrainConfig, type RewardTrainHooks, type RewardTrainOptions, type RewardTrainResult } from './options.js';
export type { RewardTrainData, PairSource, RatingSource, ScratchModel } from './start.js';

/** Train a reward model (see the file header). Returns the model directory and the run's numbers. */
export async function trainRewardModel(options: RewardTrainOptions): Promise<RewardTrainResult> {
  const { trainPairs, trainRatings, valPairs, valRatings, onStep, ...rest } = options;
  const cfg = parseTrainerOptions(rewardTrainSchema, rest, 'rm');
  const s = await rewardStart(cfg, { trainPairs, trainRatings, valPairs, valRatings });
  const c = s.config;
  const isPairs = cfg.loss !== 'regression';
  const N = s.attributes.length;
  const B = cfg.batchSize;
  const items = isPairs ? s.pairs.length : s.rated.length;
  if (items < B) throw new UserError({ what: `${items} training ${isPairs ? 'pairs' : 'rows'} do not fill one micro-batch of ${B}`, where: '--batch-size', fix: `use --batch-size ${Math.max(1, items)} or more data` });
  const steps = cfg.steps ?? Math.max(1, Math.floor((cfg.epochs * Math.floor(items / B)) / cfg.gradAccum));
  const deterministic = cfg.deterministic ?? c.vocabSize <= 4096;
  if (cfg.lora && cfg.lora.dropout !== 0) throw new UserError({ what: 'LoRA dropout is not implemented for reward models', where: 'rm.lora.dropout', expected: '0', received: String(cfg.lora.dropout), fix: 'drop --lora-dropout' });
  const lora = cfg.lora ? { config: cfg.lora, base: s.weights } : undefined;
  const record = { ...cfg, steps, maxLength: s.maxLength, attributes: s.attributes, rewardWeights: s.rewardWeights, deterministic, data: s.sources };
  const run = openRun({ runDir: cfg.out, stage: 'rm train', configFile: 'train-config.json', config: record, resume: cfg.resume, pathKeys: ['init', 'tokenizer', 'trainPairs', 'trainRatings', 'valPairs', 'valRatings'] });
  const engine = { threads: cfg.threads, deterministic, spinning: cfg.spinning };
  const stepper = new ShapeSteps(([T]) => rewardStepSpec(c, { loss: cfg.loss, slots: N, rewardWeights: s.rewardWeights, batchSize: B, T, lora }), cfg, engine);
  const scorer = new SequenceScorer(c, N, { maxLength: s.maxLength, padId: s.encoder.padId, threads: cfg.threads, rows: 32, bucketWidth: cfg.bucketWidth, spinning: cfg.spinning });
  const batchData = { pairs: s.pairs, rated: s.rated, labels: s.labels, slots: N, padId: s.encoder.padId, maxLength: s.maxLength, bucketWidth: cfg.bucketWidth };
  const trunk = trunkWeightShapes(c);
  /** The trunk + head a scorer is fed: with LoRA, the frozen trunk merged with the live adapter. */
  const scoringParams = (p: Record<string, Float32Array>): Record<string, Float32Array> => {
    if (!cfg.lora) return p;
    const merged = mergeLora(c, s.weights, cfg.lora, new Map(loraWeightShapes(c, cfg.lora).map(([n, shape]) => [n, { shape, data: p[n] }])));
    return { ...Object.fromEntries(trunk.map(([n]) => [n, merged.get(n)!.data])), [HEAD_WEIGHT]: p[HEAD_WEIGHT], [HEAD_BIAS]: p[HEAD_BIAS] };
  };
  let lastPairStats: PairStats | null = null;
  let lastMse: number | null = null;
  const evaluate = async ({ state }: { state: TrainState }) => {
    const out: Record<string, number> = {};
    const params = scoringParams(state.params as Record<string, Float32Array>);
    if (s.valPairs.length) {
      const r = mergeSlots(await scorer.score(params, [...s.valPairs.map((p) => p.chosen), ...s.valPairs.map((p) => p.rejected)]), s.rewardWeights);
      const rows = s.valPairs.map((_, i) => ({ chosen: r[i], rejected: r[s.valPairs.length + i] }));
      lastPairStats = pairStats(rows);
      Object.assign(out, { val_accuracy: lastPairStats.accuracy, val_margin: lastPairStats.meanMargin, val_bt_loss: rows.reduce((a, x) => a - logSigmoid(x.chosen - x.rejected), 0) / rows.length, val_pairs: rows.length });
    }
    if (s.valLabels) {
      const sc = await scorer.score(params, s.valRated);
      let se = 0;
      let n = 0;
      for (let i = 0; i < sc.length; i++) if (s.valLabels[i] !== -100) (se += (sc[i] - s.valLabels[i]) ** 2), n++;
      lastMse = n ? se / n : null;
      if (lastMse !== null) out.val_mse = lastMse;
    }
    return out;
  };
  const initialParams = (): Record<string, Float32Array> => {
    const p: Record<string, Float32Array> = {};
    if (cfg.lora) for (const [n, t] of initLora(c, cfg.lora, Rng.derive(cfg.seed, 'rm/lora'))) p[n] = t.data;
    else for (const [n] of trunk) p[n] = s.weights.get(n)!.data.slice();
    return { ...p, [HEAD_WEIGHT]: s.head.weight, [HEAD_BIAS]: s.head.bias };
  };

  let ok = false;
  const speed = { real: 0, padded: 0, seconds: 0 };
  try {
    const result = await runTrainLoop<EpochCursor>(loopOptions(cfg, `rm-${cfg.loss}`, steps, isPairs ? ['loss', 'accuracy'] : ['loss']), {
      init: () => TrainState.init(initialParams()),
      initialCursor: FIRST_ITEM,
      step: async ({ state, lr, cursor, step }) => {
        const t0 = performance.now();
        let cur = cursor;
        const micro = [];
        for (let k = 0; k < cfg.gradAccum; k++) {
          const n = nextBatch(items, B, cur, cfg.seed, 'rm/order');
          cur = n.cursor;
          micro.push(rewardFeeds(cfg.loss, batchData, n.indices));
        }
        const r = await stepper.step(state, micro.map((m) => ({ shape: [m.T], feeds: m.feeds })), lr);
        const sec = (performance.now() - t0) / 1000;
        const real = micro.reduce((a, m) => a + m.real, 0);
        speed.real += real;
        speed.padded += micro.reduce((a, m) => a + m.padded, 0);
        speed.seconds += sec;
        const metrics: Record<string, number> = { loss: r.loss, grad_norm: r.gradNorm, tokens: real, tokens_per_s: real / sec };
        if (isPairs) Object.assign(metrics, diffStats(r.extra.diff));
        if (onStep) await onStep({ step: step + 1, metrics });
        return { metrics, cursor: cur };
      },
      evaluate: s.valPairs.length || s.valLabels ? evaluate : undefined,
    });

    // The final model: trained trunk and head, the untouched LM head of an untied model.
    const trained = result.state.params as Record<string, Float32Array>;
    const p = scoringParams(trained);
    const finalWeights: LlamaWeights = new Map(trunk.map(([n, shape]) => [n, { shape, data: p[n] }]));
    const lm = s.weights.get(LM_HEAD);
    if (lm && !c.tieWordEmbeddings) finalWeights.set(LM_HEAD, lm);
    const info: RewardModelInfo = { format: 'steer-reward-model', version: 1, attributes: s.attributes, rewardWeights: s.rewardWeights, textFormat: s.encoder.format, maxLength: s.maxLength, loss: cfg.loss, initFrom: s.initFrom };
    const rm: RewardModel = { config: c, weights: finalWeights, head: { weight: p[HEAD_WEIGHT], bias: p[HEAD_BIAS] }, info, encoder: s.encoder };
    // With LoRA: model/ holds the merged sequence classifier; adapter/ the PEFT adapter with the head (modules_to_save).
    const modelDir = saveRewardModel(join(cfg.out, 'model'), rm, { source: cfg.out, steps: result.steps, ...(cfg.lora ? { lora: { ...cfg.lora, adapter: join(cfg.out, 'adapter') } } : {}) });
    if (cfg.lora) {
      const head = new Map([[HEAD_WEIGHT, { shape: [N, c.hiddenSize], data: trained[HEAD_WEIGHT] }]]);
      if (trained[HEAD_BIAS].some((b) => b !== 0)) head.set(HEAD_BIAS, { shape: [N], data: trained[HEAD_BIAS] });
      savePeftAdapter(join(cfg.out, 'adapter'), { lora: cfg.lora, weights: new Map(loraWeightShapes(c, cfg.lora).map(([n, shape]) => [n, { shape, data: trained[n] }])), modules: head, taskType: 'SEQ_CLS', baseModel: s.initFrom });
    }
    ok = true;
    const perSecond = (x: number) => (speed.seconds > 0 ? x / speed.seconds : 0);
    return { modelDir, runDir: cfg.out, metricsPath: result.metricsPath, steps: result.steps, resumedFrom: result.resumedFrom, eval: lastPairStats, valMse: lastMse, tokensPerSecond: perSecond(speed.real), paddedTokensPerSecond: perSecond(speed.padded), config: cfg };
  } finally {
    await stepper.release();
    await scorer.release();
    run.release(ok);
  }
}
