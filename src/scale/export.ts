// `steer export <engine> <stage>`: one recipe stage as a self-contained job directory for an
// external engine (layout in job.ts). steer does the parts that decide the recipe's semantics —
// reading and aggregating the data (ties dropped, strength → chosen/rejected and |strength|), the
// text format and tokenisation, truncation — and the engine does the training:
//   - data are written pre-tokenised with steer's own encoders (reward: reward/encode.ts, policy:
//     policy/codec.ts), so a model trained by the engine scores exactly what steer scores;
//   - the starting model is written in Hugging Face layout (a steer reward model becomes a
//     LlamaForSequenceClassification with score.weight = the head rows the stage trains);
//   - the engine's config is built from steer's options and validated against the engine's pinned
//     definitions (engines.ts) before anything is written;
//   - the directory appears complete or not at all (written beside the target, then renamed).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError, describeValue } from '../util/errors.js';
import { toHfLlamaConfig } from '../io/hfconfig.js';
import { loadModel } from '../io/checkpoint.js';
import { serializeSafetensors } from '../io/safetensors.js';
import { LM_HEAD, type LlamaWeights } from '../nn/weights.js';
import type { LlamaConfig } from '../nn/config.js';
import { CharTokenizer, charTokenizerHfFiles } from '../text/char.js';
import { readPairFile, readRatingFile, type RatedRow, type RewardPair } from '../reward/data.js';
import { loadRewardEncoder, truncateLeft, type RewardEncoder } from '../reward/encode.js';
import { HEAD_WEIGHT, isRewardModelDir, loadRewardModel } from '../reward/model.js';
import { rewardWeights } from '../reward/head.js';
import { HELPSTEER2_ATTRIBUTES } from '../data/helpsteer2.js';
import { loadPolicy, type PolicyModel } from '../policy/model.js';
import { readPairsFile, readPromptsFile, readSftFile } from '../policy/data.js';
import { CharCodec } from '../policy/codec.js';
import type { Prompt } from '../data/helpsteer2.js';
import { checkEngine, checkStage, engineSpec, scaleAssetPath, validateEngineOptions, type Engine, type Stage } from './engines.js';
import { JOB_MANIFEST, JOB_OUTPUT_ENV, type JobManifest } from './job.js';
import { commandLine, planGpuEngine } from './gpu-engines.js';

export const RM_VARIANTS = ['regression', 'bt', 'margin-bt', 'scaled-bt'] as const;
export const DPO_VARIANTS = ['regular', 'margin', 'scaled'] as const;

export interface ExportOptions {
  engine: string;
  stage: string;
  out: string;
  /** The starting model: a model directory (HF / steer), or for rm a steer reward model (its head is kept). */
  model: string;
  /** rm: regression | bt | margin-bt | scaled-bt; dpo: regular | margin | scaled. */
  loss?: string;
  pairs?: string[];
  valPairs?: string[];
  ratings?: string[];
  valRatings?: string[];
  /** sft rows {prompt, response} */
  data?: string[];
  /** reinforce prompts {prompt} */
  prompts?: string[];
  /** reinforce: the reward endpoint (steer's protocol, src/policy/reward.ts), reachable from the cluster. */
  rewardUrl?: string;
  /** regression: head slots of a new head (default the five HelpSteer2 attributes). */
  attributes?: string[];
  /** rm from a multi-slot reward model: the slot the stage trains (default helpfulness). */
  readSlot?: string;
  maxLength?: number;
  lr?: number;
  epochs?: number;
  steps?: number;
  batchSize?: number;
  gradAccum?: number;
  warmupSteps?: number;
  schedule?: 'constant' | 'cosine';
  minLrRatio?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  seed?: number;
  /** dpo β; reinforce KL coefficient β. */
  beta?: number;
  samplesPerPrompt?: number;
  maxNewTokens?: number;
  temperature?: number;
  /** Engine options set verbatim (validated against the engine's definitions). */
  set?: Record<string, unknown>;
  /** Resources the job asks Ray for. */
  cpus?: number;
  gpus?: number;
  steerVersion?: string;
  /** Where stderr notes go (default process.stderr). */
  log?: (line: string) => void;
}

export interface ExportResult {
  dir: string;
  manifest: JobManifest;
  /** Rows written per data file. */
  rows: Record<string, number>;
  /** Rows dropped (ties, spread, too long for the model's context). */
  dropped: number;
}

type Files = Map<string, string | Uint8Array>;

function jsonl(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r) + '\n').join('');
}

function need(value: string[] | undefined, option: string, what: string): string[] {
  if (!value || value.length === 0) throw new UserError({ what: `${what} are required for this stage`, where: option, fix: `pass ${option} FILE` });
  return value;
}

// ---- models in Hugging Face layout ----------------------------------------------------------------

/** The tokenizer files an engine loads (HF), and steer's own files of the same tokenizer. */
function tokenizerFiles(modelDir: string, maxLength: number): { hf: Files; steer: Files } {
  const hf: Files = new Map();
  const steer: Files = new Map();
  const tj = join(modelDir, 'tokenizer.json');
  if (existsSync(tj)) {
    const spec = JSON.parse(readFileSync(tj, 'utf8')) as { type?: string };
    steer.set('tokenizer.json', readFileSync(tj));
    if (spec.type === 'steer-char') {
      for (const [n, v] of Object.entries(charTokenizerHfFiles(CharTokenizer.fromJSON(spec, tj), maxLength))) hf.set(n, v);
      return { hf, steer };
    }
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json']) {
      if (existsSync(join(modelDir, f))) {
        hf.set(f, readFileSync(join(modelDir, f)));
        steer.set(f, readFileSync(join(modelDir, f)));
      }
    }
    return { hf, steer };
  }
  throw new UserError({
    what: existsSync(join(modelDir, 'tokenizer.bin')) ? 'the model has a llama2.c tokenizer (tokenizer.bin), which the engines cannot load' : 'no tokenizer.json beside the model',
    where: modelDir,
    expected: 'a Hugging Face tokenizer.json (+ tokenizer_config.json) or a steer char tokenizer.json',
    fix: 'export a model whose tokenizer is a Hugging Face tokenizer.json (or a toy-world model)',
  });
}

function hfModelFiles(config: LlamaConfig, weights: LlamaWeights, extraConfig: Record<string, unknown> = {}): Files {
  const files: Files = new Map();
  files.set('config.json', JSON.stringify({ ...toHfLlamaConfig(config), ...extraConfig }, null, 2) + '\n');
  files.set('model.safetensors', serializeSafetensors(weights, { dtype: 'F32', metadata: { format: 'pt' } }));
  return files;
}

/** A language model directory as the engine's starting model (causal LM layout). */
function causalModelFiles(dir: string): Files {
  const m = loadModel(dir);
  if (m.kind !== 'hf-dir') throw new UserError({ what: 'a llama2.c file cannot be exported directly', where: dir, fix: 'convert it first: `steer convert --from FILE --tokenizer TOK --out DIR` (and give it a Hugging Face tokenizer)' });
  return hfModelFiles(m.config, m.weights);
}

/**
 * A steer reward model as LlamaForSequenceClassification: the trunk under its HF names and
 * score.weight = the rows of `slots` (HF's head has no bias; import restores steer's bias).
 */
function sequenceClassifierFiles(rmDir: string, slots: readonly string[]): { files: Files; bias: number[] } {
  const rm = loadRewardModel(rmDir);
  const D = rm.config.hiddenSize;
  const rows = slots.map((s) => {
    const i = rm.info.attributes.indexOf(s);
    if (i < 0) throw new UserError({ what: `the reward model has no slot ${describeValue(s)}`, where: rmDir, expected: rm.info.attributes.join(', '), fix: 'pass --read-slot with one of those' });
    return i;
  });
  const weight = new Float32Array(rows.length * D);
  rows.forEach((r, k) => weight.set(rm.head.weight.subarray(r * D, (r + 1) * D), k * D));
  const trunk: LlamaWeights = new Map([...rm.weights].filter(([n]) => n !== LM_HEAD));
  trunk.set(HEAD_WEIGHT, { shape: [rows.length, D], data: weight });
  const id2label = Object.fromEntries(slots.map((s, i) => [String(i), s]));
  const label2id = Object.fromEntries(slots.map((s, i) => [s, i]));
  const files = hfModelFiles(rm.config, trunk, { architectures: ['LlamaForSequenceClassification'], num_labels: slots.length, id2label, label2id, pad_token_id: rm.encoder.padId });
  return { files, bias: rows.map((r) => rm.head.bias[r]) };
}

// ---- data -----------------------------------------------------------------------------------------

async function readAllPairs(files: readonly string[]): Promise<RewardPair[]> {
  const out: RewardPair[] = [];
  for (const f of files) out.push(...(await readPairFile(f)));
  return out;
}

function encodePairRows(enc: RewardEncoder, pairs: readonly RewardPair[], maxLength: number, withMargin: boolean): Record<string, unknown>[] {
  return pairs.map((p) => {
    const row: Record<string, unknown> = {
      chosen_ids: truncateLeft(enc.encode(p.prompt, p.chosen), maxLength),
      rejected_ids: truncateLeft(enc.encode(p.prompt, p.rejected), maxLength),
    };
    if (withMargin) {
      if (p.margin === undefined) throw new UserError({ what: 'a pair has no strength, which this loss needs', where: p.source ?? 'pairs', expected: 'pairs with "margin" or "strength" (HelpSteer2-Preference gives 1–3)', fix: 'use --loss bt, or pairs from `steer data prepare --preferences`' });
      row.margin = p.margin;
    }
    return { ...row, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected };
  });
}

// ---- the TRL job ----------------------------------------------------------------------------------

interface StagePlan {
  /** Config surface of the engine spec (for TRL: sft, rm, dpo, rloo). */
  surface: string;
  variant: string;
  config: Record<string, unknown>;
  files: Files;
  rows: Record<string, number>;
  dropped: number;
  output: 'reward-model' | 'policy';
  rewardModel?: JobManifest['rewardModel'];
  emulations: string[];
  whatRuns: string;
}

const TRL_REQUIREMENTS = ['trl==1.16.0', 'transformers==5.23.0', 'accelerate==1.15.0', 'datasets==5.2.0', 'torch'];

/** steer's optimiser and schedule options as TrainingArguments fields. */
function trainerArgs(o: ExportOptions, defaults: { lr: number; batchSize: number }): Record<string, unknown> {
  const cosine = (o.schedule ?? 'cosine') === 'cosine';
  const args: Record<string, unknown> = {
    output_dir: 'trainer',
    learning_rate: o.lr ?? defaults.lr,
    per_device_train_batch_size: o.batchSize ?? defaults.batchSize,
    gradient_accumulation_steps: o.gradAccum ?? 1,
    warmup_steps: o.warmupSteps ?? 10,
    lr_scheduler_type: cosine ? 'cosine_with_min_lr' : 'constant_with_warmup',
    weight_decay: o.weightDecay ?? 0,
    max_grad_norm: o.maxGradNorm ?? 1,
    adam_beta1: 0.9,
    adam_beta2: 0.999,
    adam_epsilon: 1e-8,
    seed: o.seed ?? 0,
    logging_steps: 1,
    save_strategy: 'no',
    report_to: 'none',
    disable_tqdm: true,
    // TRL's configs default to bf16, which a CPU-only job rejects; a GPU job keeps it.
    bf16: (o.gpus ?? 0) > 0,
    use_cpu: (o.gpus ?? 0) === 0,
  };
  if (cosine) args.lr_scheduler_kwargs = { min_lr_rate: o.minLrRatio ?? 0.1 };
  if (o.steps !== undefined) args.max_steps = o.steps;
  else args.num_train_epochs = o.epochs ?? 1;
  return args;
}

async function planTrlRm(o: ExportOptions): Promise<StagePlan> {
  const variant = o.loss ?? 'scaled-bt';
  if (!(RM_VARIANTS as readonly string[]).includes(variant)) {
    throw new UserError({ what: `unknown reward-model loss ${describeValue(variant)}`, where: '--loss', expected: RM_VARIANTS.join(' | '), fix: 'pick one' });
  }
  const files: Files = new Map();
  const fromRm = isRewardModelDir(o.model) || isRewardModelDir(join(o.model, 'model'));
  const rmDir = fromRm && !isRewardModelDir(o.model) ? join(o.model, 'model') : o.model;
  let enc: RewardEncoder;
  let slots: string[];
  let bias: number[];
  let modelFiles: Files;
  let maxLengthOf: number | undefined = o.maxLength;
  let tokSource = rmDir;
  if (fromRm) {
    const rm = loadRewardModel(rmDir);
    enc = rm.encoder;
    maxLengthOf ??= rm.info.maxLength;
    slots = variant === 'regression' ? (o.attributes ?? rm.info.attributes) : [o.readSlot ?? (rm.info.attributes.length === 1 ? rm.info.attributes[0] : 'helpfulness')];
    ({ files: modelFiles, bias } = sequenceClassifierFiles(rmDir, slots));
  } else {
    const m = loadModel(o.model);
    if (m.kind !== 'hf-dir') causalModelFiles(o.model);
    enc = loadRewardEncoder(o.model, m.config.vocabSize);
    slots = variant === 'regression' ? (o.attributes ?? [...HELPSTEER2_ATTRIBUTES]) : ['reward'];
    bias = slots.map(() => 0);
    modelFiles = causalModelFiles(o.model);
    tokSource = o.model;
  }
  const config = { ...trainerArgs(o, { lr: 1e-3, batchSize: 16 }), max_length: null as number | null, remove_unused_columns: true };
  let rows: Record<string, number> = {};
  let dropped = 0;
  const emulations: string[] = [];
  let whatRuns: string;
  let maxLength: number;
  if (variant === 'regression') {
    const train: RatedRow[] = [];
    for (const f of need(o.ratings, '--ratings', 'rated responses')) train.push(...(await readRatingFile(f)));
    const val: RatedRow[] = [];
    for (const f of o.valRatings ?? []) val.push(...(await readRatingFile(f)));
    const lens = [...train, ...val].map((r) => enc.encode(r.prompt, r.response).length);
    maxLength = maxLengthOf ?? Math.max(...lens);
    const rowOf = (r: (typeof train)[number]) => ({ input_ids: truncateLeft(enc.encode(r.prompt, r.response), maxLength), labels: slots.map((a) => r.labels[a] ?? -100), prompt: r.prompt, response: r.response });
    files.set('data/train.jsonl', jsonl(train.map(rowOf)));
    rows = { 'data/train.jsonl': train.length };
    if (val.length) {
      files.set('data/eval.jsonl', jsonl(val.map(rowOf)));
      rows['data/eval.jsonl'] = val.length;
    }
    whatRuns = `SteerLM regression: a transformers Trainer (run.py RegressionTrainer) on LlamaForSequenceClassification with ${slots.length} outputs (${slots.join(', ')}); loss = mean over labelled attributes of (r_a − y_a)², −100 = unlabelled (masked), as steer's regressionLoss.`;
  } else {
    const train = await readAllPairs(need(o.pairs, '--pairs', 'preference pairs'));
    const val = await readAllPairs(o.valPairs ?? []);
    const lens = [...train, ...val].flatMap((p) => [enc.encode(p.prompt, p.chosen).length, enc.encode(p.prompt, p.rejected).length]);
    maxLength = maxLengthOf ?? Math.max(...lens);
    const withMargin = variant !== 'bt';
    files.set('data/train.jsonl', jsonl(encodePairRows(enc, train, maxLength, withMargin)));
    rows = { 'data/train.jsonl': train.length };
    if (val.length) {
      files.set('data/eval.jsonl', jsonl(encodePairRows(enc, val, maxLength, withMargin)));
      rows['data/eval.jsonl'] = val.length;
    }
    whatRuns =
      variant === 'bt'
        ? "Bradley-Terry: TRL's RewardTrainer as is, L = −log σ(r_c − r_r) (no margin column)."
        : variant === 'margin-bt'
          ? "BT with margin: TRL's RewardTrainer as is, L = −log σ(r_c − r_r − m), m = |strength| in the margin column (TRL's own margin loss)."
          : 'Scaled BT: run.py ScaledBTRewardTrainer, a RewardTrainer subclass whose loss is L = −m · log σ(r_c − r_r), m = |strength| (the margin column read as a weight), mean over the batch, as steer\'s scaledBradleyTerryLoss.';
  }
  dropped = 0;
  if (fromRm) whatRuns += ` Starts from the steer reward model ${rmDir}: trunk and head row(s) ${slots.join(', ')} kept (LlamaForSequenceClassification score.weight).`;
  else whatRuns += ` Starts from the language model ${o.model} with a new head (transformers initialises score.weight ~ N(0, initializer_range²); steer draws N(0, 0.02²) — both small random heads).`;
  emulations.push("Tokenisation is steer's (data pre-tokenised: chosen_ids/rejected_ids or input_ids), longer sequences keep their last max_length tokens as in steer; TRL's max_length filter is off (max_length null).");
  const tok = tokenizerFiles(tokSource, maxLength);
  for (const [n, v] of modelFiles) files.set(`model/${n}`, v);
  for (const [n, v] of tok.hf) files.set(`model/${n}`, v);
  for (const [n, v] of tok.steer) files.set(`steer-tokenizer/${n}`, v);
  const rewardModel = {
    attributes: slots,
    rewardWeights: variant === 'regression' ? rewardWeights(slots, slots.includes('helpfulness') ? 'helpfulness' : slots[0]) : [1],
    bias,
    textFormat: enc.format,
    maxLength,
    loss: variant as (typeof RM_VARIANTS)[number],
    initFrom: resolve(o.model),
  };
  return { surface: 'rm', variant, config, files, rows, dropped, output: 'reward-model', rewardModel, emulations, whatRuns };
}

function policyFiles(o: ExportOptions, p: PolicyModel, files: Files, maxLength: number): void {
  for (const [n, v] of causalModelFiles(o.model)) files.set(`model/${n}`, v);
  const tok = tokenizerFiles(o.model, maxLength);
  for (const [n, v] of tok.hf) files.set(`model/${n}`, v);
  for (const [n, v] of tok.steer) files.set(`steer-tokenizer/${n}`, v);
  if (!(p.codec instanceof CharCodec) && p.codec.kind !== 'hf') {
    throw new UserError({ what: 'the model\'s tokenizer has no chat template', where: o.model, fix: 'export a model whose tokenizer_config.json has a chat_template (or a toy-world model)' });
  }
}

async function planTrlDpo(o: ExportOptions): Promise<StagePlan> {
  const variant = o.loss ?? 'regular';
  if (!(DPO_VARIANTS as readonly string[]).includes(variant)) throw new UserError({ what: `unknown DPO loss ${describeValue(variant)}`, where: '--loss', expected: DPO_VARIANTS.join(' | '), fix: 'pick one' });
  if (variant === 'margin') {
    throw new UserError({
      what: 'margin DPO (−log σ(β·Δ − m)) cannot be expressed in TRL 1.16: DPOTrainer adds no per-pair margin to its loss and its collator drops extra columns',
      where: 'steer export trl dpo --loss margin',
      fix: 'run it in-process (`steer dpo --loss margin`), or export --loss scaled / regular',
    });
  }
  const p = loadPolicy(o.model);
  const files: Files = new Map();
  const emulations: string[] = [];
  const pairs = [];
  let dropped = 0;
  for (const f of need(o.pairs, '--pairs', 'preference pairs')) {
    const r = await readPairsFile(f, { split: 'train' });
    pairs.push(...r.pairs);
    dropped += r.dropped;
  }
  const maxLength = o.maxLength ?? p.config.maxPositionEmbeddings;
  const out: Record<string, unknown>[] = [];
  for (const pair of pairs) {
    const prompt_ids = p.codec.encodePrompt(pair.prompt);
    const chosen_ids = p.codec.encodeResponse(pair.chosen);
    const rejected_ids = p.codec.encodeResponse(pair.rejected);
    if (prompt_ids.length + Math.max(chosen_ids.length, rejected_ids.length) > maxLength) {
      dropped++;
      continue;
    }
    const copies = variant === 'scaled' ? pair.margin ?? NaN : 1;
    if (!(Number.isInteger(copies) && copies >= 1)) {
      throw new UserError({ what: 'scaled DPO on TRL repeats each pair |strength| times, so strengths must be whole numbers ≥ 1', where: pair.source ?? 'pairs', received: describeValue(pair.margin), fix: 'use HelpSteer2-Preference strengths (1–3), or --loss regular' });
    }
    for (let k = 0; k < copies; k++) out.push({ prompt_ids, chosen_ids, rejected_ids, prompt: pair.prompt, chosen: pair.chosen, rejected: pair.rejected, ...(variant === 'scaled' ? { strength: pair.margin } : {}) });
  }
  if (variant === 'scaled') {
    emulations.push(`Scaled DPO (−m·log σ(β·Δ)) is emulated: each pair appears m = |strength| times in data/train.jsonl (shuffled by the trainer). The mean loss over the repeated set is Σ m·ℓ / Σ m, steer's is Σ m·ℓ / n: the same gradient direction, scaled by n / Σ m = ${(pairs.length / Math.max(1, out.length)).toFixed(3)} (an effective learning-rate factor); an epoch is ${out.length} rows instead of ${pairs.length}.`);
  }
  files.set('data/train.jsonl', jsonl(out));
  policyFiles(o, p, files, maxLength);
  const config = { ...trainerArgs(o, { lr: 1e-4, batchSize: 8 }), beta: o.beta ?? 0.1, loss_type: ['sigmoid'], max_length: null as number | null };
  emulations.push("Tokenisation is steer's (prompt_ids/chosen_ids/rejected_ids pre-tokenised; pairs longer than the context dropped at export).");
  return { surface: 'dpo', variant, config, files, rows: { 'data/train.jsonl': out.length }, dropped, output: 'policy', emulations, whatRuns: `DPO (${variant}): TRL's DPOTrainer, loss_type sigmoid = −log σ(β·(Δ_chosen − Δ_rejected)) with the reference = the starting model.` };
}

async function planTrlSft(o: ExportOptions): Promise<StagePlan> {
  const p = loadPolicy(o.model);
  const files: Files = new Map();
  const maxLength = o.maxLength ?? p.config.maxPositionEmbeddings;
  const out: Record<string, unknown>[] = [];
  let dropped = 0;
  for (const f of need(o.data, '--data', 'SFT rows')) {
    for (const ex of await readSftFile(f)) {
      const prompt_ids = p.codec.encodePrompt(ex.prompt);
      const completion_ids = p.codec.encodeResponse(ex.response);
      if (prompt_ids.length + completion_ids.length > maxLength) dropped++;
      else out.push({ input_ids: [...prompt_ids, ...completion_ids], completion_mask: [...prompt_ids.map(() => 0), ...completion_ids.map(() => 1)], prompt: ex.prompt, completion: ex.response });
    }
  }
  files.set('data/train.jsonl', jsonl(out));
  policyFiles(o, p, files, maxLength);
  const config = { ...trainerArgs(o, { lr: 3e-3, batchSize: 16 }), completion_only_loss: true, max_length: null as number | null, dataset_kwargs: { skip_prepare_dataset: false } };
  return { surface: 'sft', variant: 'sft', config, files, rows: { 'data/train.jsonl': out.length }, dropped, output: 'policy', emulations: ["Tokenisation is steer's (input_ids + completion_mask pre-tokenised; the loss is on response tokens only, as steer's sftLoss)."], whatRuns: "SFT: TRL's SFTTrainer, completion-only loss on pre-tokenised rows." };
}

async function planTrlReinforce(o: ExportOptions): Promise<StagePlan> {
  const p = loadPolicy(o.model);
  if (!o.rewardUrl) {
    throw new UserError({ what: 'REINFORCE on an engine needs a reward endpoint the cluster can reach', where: '--reward-url', fix: 'serve the reward model (steer\'s reward protocol: POST {"prompts", "responses"} → {"rewards"}) and pass its URL' });
  }
  try {
    const u = new URL(o.rewardUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UserError({ what: 'the reward endpoint is not an http(s) URL', where: '--reward-url', received: describeValue(o.rewardUrl), fix: 'pass e.g. http://reward-host:8000/reward' });
  }
  const files: Files = new Map();
  const prompts: Prompt[] = [];
  for (const f of need(o.prompts, '--prompts', 'prompts')) prompts.push(...(await readPromptsFile(f)));
  const char = p.codec instanceof CharCodec ? p.codec : null;
  const rows = prompts.map((q) => ({
    // TRL tokenises `prompt`: the char format is rendered here (the HF tokenizer reads its specials
    // literally); an HF model gets conversational turns and TRL applies its chat template.
    prompt: char ? char.tokenizer.decode(char.encodePrompt(q)) : typeof q === 'string' ? [{ role: 'user', content: q }] : q,
    steer_prompt: q,
  }));
  files.set('data/train.jsonl', jsonl(rows));
  const maxNew = o.maxNewTokens ?? 48;
  policyFiles(o, p, files, p.config.maxPositionEmbeddings);
  const k = o.samplesPerPrompt ?? 4;
  const promptsPerStep = o.batchSize ?? 8;
  const config: Record<string, unknown> = {
    ...trainerArgs(o, { lr: 3e-4, batchSize: promptsPerStep * k }),
    per_device_train_batch_size: promptsPerStep * k,
    num_generations: k,
    beta: o.beta ?? 0.01,
    max_completion_length: maxNew,
    temperature: o.temperature ?? 1,
    normalize_advantages: false,
    steps_per_generation: 1,
    num_iterations: 1,
  };
  delete config.warmup_steps;
  config.warmup_steps = o.warmupSteps ?? 0;
  const emulations = [
    "KL: TRL puts β·Σ_t (log π_old − log π_ref) (first-order k1, summed over the response) into the reward; steer/NeMo-Aligner subtract β·mean_t |log π − log π_ref| (token mean of the absolute difference). The same β means a different penalty: TRL's scales with response length and can go negative per token.",
    "Leave-one-out baseline: steer's baseline averages the other samples of a prompt that ended with the stop token; here the reward function returns None for a truncated sample (no stop token within max_completion_length), so TRL leaves it out of its siblings' baseline — as steer does — but also gives it advantage 0 (steer still trains on it).",
    'The loss is TRL\'s RLOO objective (a clipped ratio with num_iterations = 1 and steps_per_generation = 1, i.e. the plain policy gradient −log π·A on fresh samples), token-averaged as TRL\'s loss_type default; steer averages −log π·A over response tokens.',
  ];
  return {
    surface: 'rloo',
    variant: 'rloo',
    config,
    files,
    rows: { 'data/train.jsonl': rows.length },
    dropped: 0,
    output: 'policy',
    emulations,
    whatRuns: `REINFORCE with the leave-one-out baseline: TRL's RLOOTrainer, k = ${k} samples per prompt, ${promptsPerStep} prompts per step, reward from ${o.rewardUrl} (steer's reward protocol, called by run.py's reward function).`,
  };
}

// ---- writing the job ------------------------------------------------------------------------------

function jobReadme(m: JobManifest, plan: StagePlan, engine: Engine): string {
  const spec = engineSpec(engine);
  return [
    `# steer job: ${m.stage} (${m.variant}) on ${engine} ${m.engineVersion}`,
    '',
    `Made by \`steer export\` (steer ${m.steerVersion}) on ${m.createdAt}.`,
    '',
    '## What runs',
    '',
    plan.whatRuns,
    '',
    `Entry point: \`${m.entrypoint}\` (in this directory). It reads \`trl_config.json\` (validated by steer against ${spec.source}), the data in \`data/\` and the model in \`model/\`, and writes the result to \`$${JOB_OUTPUT_ENV}\` (default \`./output\`): \`model/\` (Hugging Face layout) and \`steer-result.json\`.`,
    '',
    `Python packages it needs: ${m.requirements.join(', ')}.`,
    '',
    '## Differences from steer in-process',
    '',
    ...plan.emulations.map((e) => `- ${e}`),
    '',
    '## Run it',
    '',
    '```sh',
    `steer launch ${'.'} --ray http://HEAD:8265 --output /shared/path/run1   # on a Ray cluster`,
    `${JOB_OUTPUT_ENV}=out ${m.entrypoint}                              # or directly, on one machine`,
    `steer import . --from /shared/path/run1 --out ${m.output === 'reward-model' ? 'rm' : 'policy'}                      # back into steer`,
    '```',
    '',
    '## Files',
    '',
    ...Object.entries(plan.rows).map(([f, n]) => `- \`${f}\`: ${n} rows`),
    '- `model/`: the starting model (Hugging Face layout, tokenizer the engine loads)',
    "- `steer-tokenizer/`: steer's tokenizer of the model (import restores it)",
    '',
  ].join('\n');
}

/** Write a job directory for `engine`/`stage` (see the file header). */
export async function exportJob(o: ExportOptions): Promise<ExportResult> {
  const engine = checkEngine(o.engine);
  const stage: Stage = checkStage(o.stage);
  const log = o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  if (!existsSync(o.model)) throw new UserError({ what: 'the model does not exist', where: o.model, fix: 'pass --model: a model directory (or, for rm, a steer reward model)' });
  if (engine !== 'trl') return exportGpuJob(o, engine, stage, log);
  const plan = stage === 'rm' ? await planTrlRm(o) : stage === 'dpo' ? await planTrlDpo(o) : stage === 'sft' ? await planTrlSft(o) : await planTrlReinforce(o);
  const config = { ...plan.config, ...(o.set ?? {}) };
  validateEngineOptions(engine, plan.surface, config, o.set && Object.keys(o.set).length ? '--set / generated TRL config' : 'generated TRL config');
  const spec = engineSpec(engine);
  const manifest: JobManifest = {
    format: 'steer-job',
    version: 1,
    engine,
    engineVersion: spec.version,
    stage,
    variant: plan.variant,
    entrypoint: 'python run.py',
    resources: { cpus: o.cpus ?? 1, gpus: o.gpus ?? 0 },
    requirements: TRL_REQUIREMENTS,
    output: plan.output,
    ...(plan.rewardModel ? { rewardModel: plan.rewardModel } : {}),
    emulations: plan.emulations,
    createdAt: new Date().toISOString(),
    steerVersion: o.steerVersion ?? '0',
  };
  const files = plan.files;
  files.set('trl_config.json', JSON.stringify({ stage: plan.surface, variant: plan.variant, ...(o.rewardUrl && stage === 'reinforce' ? { rewardUrl: o.rewardUrl } : {}), args: config }, null, 2) + '\n');
  files.set('run.py', readFileSync(scaleAssetPath('python', 'trl_job.py')));
  files.set(JOB_MANIFEST, JSON.stringify(manifest, null, 2) + '\n');
  files.set('README.md', jobReadme(manifest, plan, engine));
  writeDirAtomic(o.out, files);
  for (const e of plan.emulations) log(`steer export: note: ${e}`);
  return { dir: resolve(o.out), manifest, rows: plan.rows, dropped: plan.dropped };
}

/** A job for an engine that needs GPUs (gpu-engines.ts): data, run.sh, README, manifest. */
async function exportGpuJob(o: ExportOptions, engine: Exclude<Engine, 'trl'>, stage: Stage, log: (line: string) => void): Promise<ExportResult> {
  const plan = await planGpuEngine({ ...o, engine, stage });
  Object.assign(plan.options, o.set ?? {});
  validateEngineOptions(engine, plan.surface, plan.options, o.set && Object.keys(o.set).length ? `--set / generated ${engine} options` : `generated ${engine} options`);
  const spec = engineSpec(engine);
  const manifest: JobManifest = {
    format: 'steer-job',
    version: 1,
    engine,
    engineVersion: spec.version,
    stage,
    variant: plan.variant,
    entrypoint: 'bash run.sh',
    resources: { cpus: o.cpus ?? 1, gpus: o.gpus ?? 0 },
    requirements: plan.requirements,
    output: plan.output,
    emulations: plan.emulations,
    createdAt: new Date().toISOString(),
    steerVersion: o.steerVersion ?? '0',
  };
  const files: Files = new Map(plan.files);
  const cmd = commandLine(plan);
  files.set('run.sh', `#!/usr/bin/env bash\n# ${engine} ${spec.version}: ${plan.whatRuns}\n# Options checked by steer against ${spec.source}.\nset -euo pipefail\ncd "$(dirname "$0")"\nexport STEER_JOB_OUTPUT="\${STEER_JOB_OUTPUT:-output}"\n${cmd}\n`);
  files.set(JOB_MANIFEST, JSON.stringify(manifest, null, 2) + '\n');
  const readme = [
    `# steer job: ${stage} (${plan.variant}) on ${engine} ${spec.version}`,
    '',
    `Made by \`steer export\` (steer ${manifest.steerVersion}). This engine needs GPUs: the job was generated and its options validated here, not run.`,
    '',
    '## What runs',
    '',
    plan.whatRuns,
    '',
    '```sh',
    cmd,
    '```',
    '',
    `Needs: ${plan.requirements.join(', ')}. The model path (${o.model}) must be readable on the cluster (shared storage).`,
    '',
    '## Differences from steer in-process',
    '',
    ...(plan.emulations.length ? plan.emulations.map((e) => `- ${e}`) : ['- none known']),
    '',
    '## Files',
    '',
    ...Object.entries(plan.rows).map(([f, n]) => `- \`${f}\`: ${n} rows`),
    '',
  ].join('\n');
  files.set('README.md', readme);
  writeDirAtomic(o.out, files);
  for (const e of plan.emulations) log(`steer export: note: ${e}`);
  return { dir: resolve(o.out), manifest, rows: plan.rows, dropped: 0 };
}

/** Write files into a fresh directory beside `dir`, then rename it into place (replacing an old job dir only). */
export function writeDirAtomic(dir: string, files: Files): void {
  const target = resolve(dir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new UserError({ what: 'the output path exists and is not a directory', where: target, fix: 'choose another --out' });
    if (!existsSync(join(target, JOB_MANIFEST))) throw new UserError({ what: 'the output directory exists and is not a steer job directory', where: target, fix: 'choose a new --out (steer only replaces a job directory it wrote)' });
  }
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    for (const [name, data] of files) {
      const p = join(tmp, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, data);
    }
    if (existsSync(target)) {
      const old = `${tmp}.old`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

