// Supervised fine-tuning: L = −Σ m·log π(y_t) / Σ m with m = 1 on response tokens only (prompt and
// padding masked; TRL SFTTrainer's completion-only loss, NeMo-Aligner SFT's loss mask), the prompt
// formatted by the policy's chat format (src/policy/codec.ts). A step: the next batch of shuffled
// epochs (src/train/batches.ts), padded to its length bucket, split into micro-batches, one update
// (src/train/steps.ts). The run directory holds metrics.jsonl, checkpoints/, config.json and model/.
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import type { Graph } from '../graph/index.js';
import type { LlamaConfig } from '../nn/config.js';
import type { LlamaParams } from '../nn/llama.js';
import { TrainState } from '../train/optim.js';
import { runTrainLoop } from '../train/loop.js';
import { contentHash } from '../train/run.js';
import { FIRST_ITEM, lengthBucket, nextBatch, type EpochCursor } from '../train/batches.js';
import { splitRows } from '../train/steps.js';
import { loopOptions, maxLengthSchema, parseTrainerOptions, posInt, trainerFields, type TrainerDefaults } from '../train/options.js';
import type { SftExample } from './data.js';
import { policyTokenLogProbs, sequenceFeeds, sequenceInputList, sequenceInputs } from './graph.js';
import { sftLoss } from './losses.js';
import type { PolicyModel } from './model.js';
import { initialParams } from './lora.js';
import { buildSequenceBatch, type TokenizedExample } from './sequences.js';
import { PolicyForward, PolicyUpdater } from './update.js';
import { finishPolicy, microBatch, openPolicyRun, startPolicy, type TrainerResult } from './common.js';

export type { TrainerResult } from './common.js';

export const SFT_DEFAULTS: TrainerDefaults = { steps: 300, lr: 3e-3, warmupSteps: 20 };

export const sftSchema = z.strictObject({
  ...trainerFields(SFT_DEFAULTS),
  /** Sequences per step. */
  batchSize: posInt.default(16),
  /** Sequences per micro-batch (default: the whole batch); gradients are averaged over micro-batches. */
  microBatchSize: posInt.optional(),
  /** Longest prompt + response in tokens (default: the model's context); longer examples are dropped. */
  maxLength: maxLengthSchema.optional(),
  /** Sequence lengths are rounded up to a multiple of this. */
  lengthMultiple: posInt.default(16),
});

export type SftOptions = z.input<typeof sftSchema> & {
  /** The starting policy (a model directory or a loaded policy). */
  policy: PolicyModel | string;
  data: readonly SftExample[];
  /** Held-out examples: token-mean NLL reported at each evaluation. */
  evalData?: readonly SftExample[];
};

/** Tokenize examples; drop those longer than maxLength. */
export function tokenizeSft(policy: PolicyModel, data: readonly SftExample[], maxLength: number): { examples: TokenizedExample[]; dropped: number } {
  const examples: TokenizedExample[] = [];
  let dropped = 0;
  data.forEach((d, i) => {
    let prompt: number[];
    let response: number[];
    try {
      prompt = policy.codec.encodePrompt(d.prompt);
      response = policy.codec.encodeResponse(d.response);
    } catch (e) {
      if (e instanceof UserError) throw new UserError({ ...e.detail, where: `example ${i}${e.detail.where ? ` (${e.detail.where})` : ''}` });
      throw e;
    }
    if (prompt.length + response.length > maxLength) dropped++;
    else examples.push({ prompt, response });
  });
  return { examples, dropped };
}

/** The SFT loss of a [B, T] batch, and its summed NLL and token count (so evaluation averages exactly over any number of batches). */
function sftGraph(g: Graph, c: LlamaConfig, B: number, T: number, policy: LlamaParams) {
  const s = sequenceInputs(g, B, T);
  const logp = policyTokenLogProbs(c, policy, s); // [B, T]
  return { loss: sftLoss(logp, s.lossMask), batch: sequenceInputList(s), outputs: { nll_sum: logp.mul(s.lossMask).sum().neg(), tokens: s.lossMask.sum() } };
}

/** Token-mean NLL of `examples` under `params` (batches of `batchSize`, the last one padded with repeats that carry no weight). */
export async function sftNll(forward: PolicyForward, params: Record<string, Float32Array>, examples: readonly TokenizedExample[], batchSize: number, padId: number, lengthMultiple: number, maxLength: number): Promise<number> {
  let nll = 0;
  let tokens = 0;
  for (let i = 0; i < examples.length; i += batchSize) {
    const chunk = examples.slice(i, i + batchSize);
    const real = chunk.length;
    while (chunk.length < batchSize) chunk.push(chunk[0]);
    const T = lengthBucket(Math.max(...chunk.map((e) => e.prompt.length + e.response.length)), lengthMultiple, maxLength);
    const batch = buildSequenceBatch(chunk, { padId, T });
    batch.lossMask.fill(0, real * T); // the padding rows do not count
    const out = await forward.run(params, batchSize, T, sequenceFeeds(batch));
    nll += Number(out.nll_sum[0]);
    tokens += Number(out.tokens[0]);
  }
  return nll / Math.max(tokens, 1);
}

/** Supervised fine-tuning on (prompt, response) examples; returns the trained policy and its directory. */
export async function trainSft(o: SftOptions): Promise<TrainerResult> {
  const { policy: p, data, evalData, ...rest } = o;
  const cfg = parseTrainerOptions(sftSchema, rest, 'sft');
  const st = startPolicy('sft', cfg, p, null);
  const { policy, c, lora, engine, maxLength } = st;
  const micro = microBatch('sft.microBatchSize', cfg.batchSize, cfg.microBatchSize);
  const { examples, dropped } = tokenizeSft(policy, data, maxLength);
  if (examples.length === 0) {
    throw new UserError({ what: `every SFT example is longer than ${maxLength} tokens (or there are none)`, where: 'sft.data', received: `${data.length} examples, ${dropped} too long`, fix: 'raise maxLength (--max-length) or pass shorter examples' });
  }
  if (dropped > 0 && !cfg.quiet) process.stderr.write(`sft: dropped ${dropped} of ${data.length} examples longer than ${maxLength} tokens\n`);
  const evalExamples = evalData ? tokenizeSft(policy, evalData, maxLength).examples : [];
  const run = openPolicyRun(cfg, 'sft', { microBatchSize: micro, maxLength, policy: policy.source, examples: examples.length, dropped, evalExamples: evalExamples.length, data: contentHash(data), evalData: evalData ? contentHash(evalData) : null });
  const updater = new PolicyUpdater(c, sftGraph, cfg, engine, lora);
  const forward = new PolicyForward(c, sftGraph, null, engine, true, lora);
  const padId = policy.codec.padId;
  let ok = false;
  try {
    const res = await runTrainLoop<EpochCursor>(loopOptions(cfg, 'sft', cfg.steps!, ['loss']), {
      init: () => TrainState.init(initialParams(c, lora, policy.weights, cfg.seed)),
      initialCursor: FIRST_ITEM,
      step: async ({ state, lr, cursor }) => {
        const next = nextBatch(examples.length, cfg.batchSize, cursor, cfg.seed, 'sft/epoch');
        const rows = next.indices.map((i) => examples[i]);
        const T = lengthBucket(Math.max(...rows.map((e) => e.prompt.length + e.response.length)), cfg.lengthMultiple, maxLength);
        const feeds = sequenceFeeds(buildSequenceBatch(rows, { padId, T }));
        const res = await updater.step(state, micro, T, micro === cfg.batchSize ? feeds : splitRows(feeds, cfg.batchSize, cfg.batchSize / micro), lr);
        const tokens = Array.from(res.extra.tokens as Float32Array).reduce((a, b) => a + b, 0);
        return { metrics: { loss: res.loss, grad_norm: res.gradNorm, tokens, epoch: next.cursor.epoch }, cursor: next.cursor };
      },
      evaluate: evalExamples.length > 0 ? async ({ state }) => ({ eval_nll: await sftNll(forward, state.params as Record<string, Float32Array>, evalExamples, cfg.batchSize, padId, cfg.lengthMultiple, maxLength) }) : undefined,
    });
    const result = finishPolicy(cfg, st, res, { stage: 'sft' });
    ok = true;
    return result;
  } finally {
    await updater.release();
    await forward.release();
    run.release(ok);
  }
}
