// Supervised fine-tuning: L = −Σ m·log π(y_t) / Σ m with m = 1 on response tokens only (prompt and
// padding masked; TRL SFTTrainer's completion-only loss, NeMo-Aligner SFT's loss mask), the prompt
// formatted by the policy's chat format (src/policy/codec.ts). Batches are drawn from seeded,
// shuffled epochs; lengths are rounded up to a multiple of `lengthMultiple` so only a few graph
// shapes are compiled. The run directory holds metrics.jsonl, checkpoints/, config.json and model/.
import { UserError } from '../util/errors.js';
import type { Graph } from '../graph/index.js';
import type { LlamaConfig } from '../nn/config.js';
import type { LlamaParams } from '../nn/llama.js';
import { TrainState } from '../train/optim.js';
import { runTrainLoop } from '../train/loop.js';
import { adamOptions, bad, nextBatch, positiveInt, resolveCommon, scheduleOf, openPolicyRun, type EpochCursor, type TrainerCommonOptions } from './common.js';
import { contentHash } from '../train/run.js';
import type { SftExample } from './data.js';
import { policyTokenLogProbs, sequenceFeeds, sequenceInputList, sequenceInputs, type SequenceInputs } from './graph.js';
import { sftLoss } from './losses.js';
import { finalModelDir, resolvePolicy, savePolicy, type PolicyModel } from './model.js';
import { initialParams, policyLora, policyWeights, savePolicyAdapter } from './lora.js';
import { bucketLength, buildSequenceBatch, type TokenizedExample } from './sequences.js';
import { PolicyForward, PolicyUpdater, splitRows } from './update.js';

export interface SftOptions extends TrainerCommonOptions {
  /** The starting policy (a model directory or a loaded policy). */
  policy: PolicyModel | string;
  data: readonly SftExample[];
  /** Held-out examples: token-mean NLL reported at each evaluation. */
  evalData?: readonly SftExample[];
  /** Sequences per step (default 16). */
  batchSize?: number;
  /** Sequences per micro-batch (default: the whole batch); gradients are averaged over micro-batches. */
  microBatchSize?: number;
  /** Longest prompt + response in tokens (default: the model's context); longer examples are dropped. */
  maxLength?: number;
  /** Sequence lengths are rounded up to a multiple of this (default 16). */
  lengthMultiple?: number;
}

export interface TrainerResult {
  policy: PolicyModel;
  modelDir: string;
  /** With LoRA: the adapter in PEFT's layout (OUT/adapter); model/ is then the merged policy. */
  adapterDir: string | null;
  runDir: string;
  metricsPath: string;
  steps: number;
  resumedFrom: number | null;
  lastMetrics: Record<string, number>;
  lastEval: Record<string, number> | null;
}

export const SFT_DEFAULTS = { steps: 300, lr: 3e-3, warmupSteps: 20, batchSize: 16, lengthMultiple: 16 } as const;

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

function sftGraph(g: Graph, c: LlamaConfig, B: number, T: number, policy: LlamaParams) {
  const s: SequenceInputs = sequenceInputs(g, B, T);
  const logp = policyTokenLogProbs(c, policy, s); // [B, T]
  const loss = sftLoss(logp, s.lossMask);
  // summed NLL and token count, so evaluation can average over any number of batches exactly
  return { loss, batch: sequenceInputList(s), outputs: { nll_sum: logp.mul(s.lossMask).sum().neg(), tokens: s.lossMask.sum() } };
}

/** Token-mean NLL of `examples` under `params` (batches of `batchSize`, the last one padded with repeats that carry no weight). */
export async function sftNll(forward: PolicyForward, params: Record<string, Float32Array>, examples: readonly TokenizedExample[], batchSize: number, padId: number, lengthMultiple: number, maxLength: number): Promise<number> {
  let nll = 0;
  let tokens = 0;
  for (let i = 0; i < examples.length; i += batchSize) {
    const chunk = examples.slice(i, i + batchSize);
    const real = chunk.length;
    while (chunk.length < batchSize) chunk.push(chunk[0]);
    const T = bucketLength(Math.max(...chunk.map((e) => e.prompt.length + e.response.length)), lengthMultiple, maxLength);
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
  const r = resolveCommon('sft', o, SFT_DEFAULTS);
  const policy = resolvePolicy(o.policy);
  const c = policy.config;
  const batchSize = positiveInt('sft.batchSize', o.batchSize ?? SFT_DEFAULTS.batchSize);
  const micro = positiveInt('sft.microBatchSize', o.microBatchSize ?? batchSize);
  if (batchSize % micro !== 0) bad('sft.microBatchSize', `a divisor of batchSize (${batchSize})`, micro);
  const lengthMultiple = positiveInt('sft.lengthMultiple', o.lengthMultiple ?? SFT_DEFAULTS.lengthMultiple);
  const maxLength = positiveInt('sft.maxLength', o.maxLength ?? c.maxPositionEmbeddings);
  if (maxLength > c.maxPositionEmbeddings) bad('sft.maxLength', `at most the model context (${c.maxPositionEmbeddings})`, maxLength);
  const { examples, dropped } = tokenizeSft(policy, o.data, maxLength);
  if (examples.length === 0) {
    throw new UserError({ what: `every SFT example is longer than ${maxLength} tokens (or there are none)`, where: 'sft.data', received: `${o.data.length} examples, ${dropped} too long`, fix: 'raise maxLength (--max-length) or pass shorter examples' });
  }
  if (dropped > 0 && !r.quiet) process.stderr.write(`sft: dropped ${dropped} of ${o.data.length} examples longer than ${maxLength} tokens\n`);
  const evalExamples = o.evalData ? tokenizeSft(policy, o.evalData, maxLength).examples : [];
  const lora = policyLora(o.lora, policy.weights, 'sft.lora', r.seed);
  const run = openPolicyRun(r, 'sft', { ...r, ...(o.lora ? { lora: o.lora } : {}), batchSize, microBatchSize: micro, lengthMultiple, maxLength, policy: policy.source, examples: examples.length, dropped, evalExamples: evalExamples.length, data: contentHash(o.data), evalData: o.evalData ? contentHash(o.evalData) : null });
  let ok = false;

  const engine = { threads: r.threads, deterministic: r.deterministic };
  const updater = new PolicyUpdater(c, (g, cc, B, T, p) => sftGraph(g, cc, B, T, p), adamOptions(r, c), engine, lora);
  const forward = new PolicyForward(c, (g, cc, B, T, p) => sftGraph(g, cc, B, T, p), null, engine, true, lora);
  const padId = policy.codec.padId;
  const evaluate = evalExamples.length > 0
    ? async ({ state }: { state: TrainState }) => ({ eval_nll: await sftNll(forward, state.params as Record<string, Float32Array>, evalExamples, batchSize, padId, lengthMultiple, maxLength) })
    : undefined;
  try {
    const res = await runTrainLoop<EpochCursor>(
      { name: 'sft', runDir: r.out, steps: r.steps, schedule: scheduleOf(r), checkpointEvery: r.checkpointEvery, evalEvery: r.evalEvery, resume: r.resume, quiet: r.quiet, show: ['loss'] },
      {
        init: () => TrainState.init(initialParams(c, lora, policy.weights, r.seed)),
        initialCursor: { epoch: 0, index: 0 },
        step: async ({ state, lr, cursor }) => {
          const next = nextBatch(examples.length, batchSize, cursor, r.seed, 'sft');
          const rows = next.indices.map((i) => examples[i]);
          const T = bucketLength(Math.max(...rows.map((e) => e.prompt.length + e.response.length)), lengthMultiple, maxLength);
          const batch = buildSequenceBatch(rows, { padId, T });
          const parts = batchSize / micro;
          const res = await updater.step(state, micro, T, parts === 1 ? sequenceFeeds(batch) : splitRows(sequenceFeeds(batch), batchSize, parts), lr);
          const tokens = Array.from(res.extra.tokens as Float32Array).reduce((a, b) => a + b, 0);
          return { metrics: { loss: res.loss, grad_norm: res.gradNorm, tokens, epoch: next.cursor.epoch }, cursor: next.cursor };
        },
        evaluate,
      },
    );
    const trained: PolicyModel = { config: c, weights: policyWeights(c, lora, res.state.params), codec: policy.codec, source: finalModelDir(r.out) };
    const adapterDir = lora ? savePolicyAdapter(r.out, c, lora, res.state.params, policy.source) : null;
    const modelDir = savePolicy(finalModelDir(r.out), trained, { stage: 'sft', steps: res.steps, from: policy.source, ...(lora ? { lora: { ...lora.config, adapter: adapterDir } } : {}) });
    ok = true;
    return { policy: trained, modelDir, adapterDir, runDir: r.out, metricsPath: res.metricsPath, steps: res.steps, resumedFrom: res.resumedFrom, lastMetrics: res.lastMetrics, lastEval: res.lastEval };
  } finally {
    await updater.release();
    await forward.release();
    run.release(ok);
  }
}
