// Exports to the engines that need GPUs and cannot run here — OpenRLHF 0.11.2, NeMo-RL v0.7.0,
// NeMo-Aligner v0.7.0: the stage's data in the engine's format, the engine's command line with every
// option checked against the engine's pinned definitions (engines.ts), and a README saying what is
// exact and what is emulated. What steer decides stays steer's: data are read and aggregated by
// src/data (ties dropped, strength → chosen/rejected, |strength|) and texts are rendered in steer's
// reward text format (reward/encode.ts) or as chat turns for policy stages (the engine applies the
// model's chat template, as steer's HF codec does). The engine tokenises (and adds BOS/EOS by its rules).
import { UserError, describeValue } from '../util/errors.js';
import { formatExample } from '../text/char.js';
import { readPairFile, readRatingFile, type RatedRow, type RewardPair } from '../reward/data.js';
import { transcript, loadRewardEncoder } from '../reward/encode.js';
import { readPromptsFile, readSftFile } from '../policy/data.js';
import { promptTurnsOf } from '../policy/codec.js';
import type { Prompt } from '../data/helpsteer2.js';
import { HELPSTEER2_ATTRIBUTES } from '../data/helpsteer2.js';
import type { Engine } from './engines.js';

export interface GpuStagePlan {
  /** Config surface of the engine spec. */
  surface: string;
  variant: string;
  /** Options, by the engine's own names (OpenRLHF flags without "--"; Hydra/YAML dotted paths). */
  options: Record<string, unknown>;
  /** The command run.sh executes (options appended by the caller). */
  command: string;
  /** How options are written on the command line. */
  style: 'flags' | 'hydra';
  files: Map<string, string>;
  rows: Record<string, number>;
  output: 'reward-model' | 'policy';
  emulations: string[];
  whatRuns: string;
  requirements: string[];
}

export interface GpuExportInput {
  engine: Exclude<Engine, 'trl'>;
  stage: string;
  model: string;
  loss?: string;
  pairs?: string[];
  ratings?: string[];
  data?: string[];
  prompts?: string[];
  rewardUrl?: string;
  attributes?: string[];
  lr?: number;
  epochs?: number;
  batchSize?: number;
  beta?: number;
  samplesPerPrompt?: number;
  maxNewTokens?: number;
  seed?: number;
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

function required(v: string[] | undefined, option: string, what: string): string[] {
  if (!v || v.length === 0) throw new UserError({ what: `${what} are required for this stage`, where: option, fix: `pass ${option} FILE` });
  return v;
}

/** The text steer's reward model scores for (prompt, response): char chat format or HH transcript. */
function rewardText(model: string): (prompt: RewardPair["prompt"] | RatedRow["prompt"], response: string) => string {
  const enc = loadRewardEncoder(model);
  return enc.format === 'char-chat' ? (p, r) => formatExample(typeof p === 'string' ? p : p.filter((t) => t.role !== 'system').map((t) => ({ role: t.role as 'user' | 'assistant', content: t.content })), r) : (p, r) => transcript(p, r);
}

async function pairs(files: readonly string[]): Promise<RewardPair[]> {
  const out: RewardPair[] = [];
  for (const f of files) out.push(...(await readPairFile(f)));
  return out;
}

/** Scaled BT / scaled DPO where the engine has no per-pair weight: each pair repeated m = |strength| times. */
function repeatByStrength(ps: readonly RewardPair[]): RewardPair[] {
  const out: RewardPair[] = [];
  for (const p of ps) {
    const m = p.margin;
    if (m === undefined || !Number.isInteger(m) || m < 1) {
      throw new UserError({ what: 'the scaled loss is emulated by repeating each pair |strength| times, so strengths must be whole numbers ≥ 1', where: p.source ?? 'pairs', received: describeValue(m), fix: 'use HelpSteer2-Preference strengths (1–3), or --loss bt' });
    }
    for (let k = 0; k < m; k++) out.push(p);
  }
  return out;
}

function repeatNote(n: number, total: number, what: string): string {
  return `${what} is emulated: each pair appears m = |strength| times in the training file (${n} pairs → ${total} rows). The mean loss over that set is Σ m·ℓ / Σ m; steer's is Σ m·ℓ / n — the same gradient direction scaled by n / Σ m = ${(n / Math.max(1, total)).toFixed(3)} (an effective learning-rate factor); with shuffling the repeats land in different batches, so it is equal in expectation, not step by step.`;
}

function chatTurns(p: Prompt): { role: string; content: string }[] {
  return promptTurnsOf(p).map((t) => ({ role: t.role, content: t.content }));
}

const RM_LOSSES = ['regression', 'bt', 'margin-bt', 'scaled-bt'];

/** The stage's preference pairs; a Scaled loss is emulated by repeating each pair by its strength (and the note says so). */
async function preferencePairs(o: GpuExportInput, scaled: boolean, what: string): Promise<{ ps: RewardPair[]; emulations: string[] }> {
  const ps = await pairs(required(o.pairs, '--pairs', 'preference pairs'));
  if (!scaled) return { ps, emulations: [] };
  const repeated = repeatByStrength(ps);
  return { ps: repeated, emulations: [repeatNote(ps.length, repeated.length, what)] };
}

/** Every SFT row of the stage's --data files. */
async function sftRows(o: GpuExportInput): Promise<Awaited<ReturnType<typeof readSftFile>>> {
  const rows: Awaited<ReturnType<typeof readSftFile>> = [];
  for (const f of required(o.data, '--data', 'SFT rows')) rows.push(...(await readSftFile(f)));
  return rows;
}

function checkLoss(loss: string, allowed: readonly string[], where: string): string {
  if (!allowed.includes(loss)) throw new UserError({ what: `unknown loss ${describeValue(loss)}`, where, expected: allowed.join(' | '), fix: 'pick one' });
  return loss;
}

function refuse(engine: string, what: string, instead: string): never {
  throw new UserError({ what: `${what} cannot be expressed on ${engine}`, where: `steer export ${engine}`, fix: instead });
}

// ---- OpenRLHF 0.11.2 --------------------------------------------------------------------------------

async function openrlhf(o: GpuExportInput): Promise<GpuStagePlan> {
  const files = new Map<string, string>();
  const base = { 'train.seed': o.seed ?? 0, 'ckpt.output_dir': '${STEER_JOB_OUTPUT}/model', 'ckpt.save_hf': true };
  const req = ['openrlhf==0.11.2'];
  if (o.stage === 'rm') {
    const loss = checkLoss(o.loss ?? 'scaled-bt', RM_LOSSES, '--loss');
    if (loss === 'regression') refuse('openrlhf', 'a regression (SteerLM) reward model', 'train it in-process (`steer rm train --loss regression`) or on nemo-aligner');
    const text = rewardText(o.model);
    const { ps, emulations } = await preferencePairs(o, loss === 'scaled-bt', 'Scaled BT (−m·log σ(r_c − r_r))');
    files.set('data/train.jsonl', jsonl(ps.map((p) => ({ chosen: text(p.prompt, p.chosen), rejected: text(p.prompt, p.rejected), ...(loss === 'margin-bt' ? { margin: p.margin } : {}) }))));
    emulations.push("Texts are rendered in steer's reward text format (no chat template); OpenRLHF tokenises them and appends EOS when missing.");
    return {
      surface: 'rm', variant: loss, style: 'flags', files, rows: { 'data/train.jsonl': ps.length }, output: 'reward-model', requirements: req, emulations,
      command: 'deepspeed --module openrlhf.cli.train_rm',
      options: { ...base, 'model.model_name_or_path': o.model, 'data.dataset': 'data/train.jsonl', 'data.chosen_key': 'chosen', 'data.rejected_key': 'rejected', 'train.max_epochs': o.epochs ?? 1, 'train.batch_size': o.batchSize ?? 16, 'train.micro_batch_size': 1, 'adam.lr': o.lr ?? 1e-5, ...(loss === 'margin-bt' ? { 'model.margin_loss_enable': true } : {}) },
      whatRuns: loss === 'margin-bt' ? 'OpenRLHF train_rm with its margin loss, −log σ(r_c − r_r − m) (exact).' : `OpenRLHF train_rm, Bradley-Terry loss −log σ(r_c − r_r)${loss === 'scaled-bt' ? ' on pairs repeated ∝ strength' : ' (exact)'}.`,
    };
  }
  if (o.stage === 'dpo') {
    const loss = checkLoss(o.loss ?? 'regular', ['regular', 'margin', 'scaled'], '--loss');
    if (loss === 'margin') refuse('openrlhf', 'margin DPO (−log σ(β·Δ − m))', 'run it in-process (`steer dpo --loss margin`), or export --loss scaled / regular');
    const { ps, emulations } = await preferencePairs(o, loss === 'scaled', 'Scaled DPO');
    files.set('data/train.jsonl', jsonl(ps.map((p) => ({ prompt: chatTurns(p.prompt), chosen: [{ role: 'assistant', content: p.chosen }], rejected: [{ role: 'assistant', content: p.rejected }] }))));
    return {
      surface: 'dpo', variant: loss, style: 'flags', files, rows: { 'data/train.jsonl': ps.length }, output: 'policy', requirements: req, emulations,
      command: 'deepspeed --module openrlhf.cli.train_dpo',
      options: { ...base, 'model.model_name_or_path': o.model, 'ref.model_name_or_path': o.model, 'data.dataset': 'data/train.jsonl', 'data.prompt_key': 'prompt', 'data.chosen_key': 'chosen', 'data.rejected_key': 'rejected', 'data.apply_chat_template': true, 'model.beta': o.beta ?? 0.1, 'train.max_epochs': o.epochs ?? 1, 'train.batch_size': o.batchSize ?? 8, 'train.micro_batch_size': 1, 'adam.lr': o.lr ?? 5e-7 },
      whatRuns: 'OpenRLHF train_dpo, −log σ(β·(Δ_chosen − Δ_rejected)) with the chat template applied to the prompt turns.',
    };
  }
  if (o.stage === 'sft') {
    const rows = await sftRows(o);
    files.set('data/train.jsonl', jsonl(rows.map((r) => ({ input: chatTurns(r.prompt), output: r.response }))));
    return {
      surface: 'sft', variant: 'sft', style: 'flags', files, rows: { 'data/train.jsonl': rows.length }, output: 'policy', requirements: req, emulations: [],
      command: 'deepspeed --module openrlhf.cli.train_sft',
      options: { ...base, 'model.model_name_or_path': o.model, 'data.dataset': 'data/train.jsonl', 'data.input_key': 'input', 'data.output_key': 'output', 'data.apply_chat_template': true, 'train.max_epochs': o.epochs ?? 1, 'train.batch_size': o.batchSize ?? 16, 'train.micro_batch_size': 1, 'adam.lr': o.lr ?? 5e-6 },
      whatRuns: 'OpenRLHF train_sft, loss on the response tokens (exact).',
    };
  }
  return reinforcePlan(o, 'openrlhf', req, files);
}

async function reinforcePlan(o: GpuExportInput, engine: 'openrlhf' | 'nemo-rl' | 'nemo-aligner', req: string[], files: Map<string, string>): Promise<GpuStagePlan> {
  if (o.stage !== 'reinforce') throw new UserError({ what: `unknown stage ${describeValue(o.stage)}`, where: `steer export ${engine} <stage>`, expected: 'sft | rm | dpo | reinforce', fix: 'pick one' });
  if (!o.rewardUrl) throw new UserError({ what: 'REINFORCE on an engine needs a reward endpoint the cluster can reach', where: '--reward-url', fix: 'serve the reward model (`steer serve`) and pass its URL' });
  const prompts: Prompt[] = [];
  for (const f of required(o.prompts, '--prompts', 'prompts')) prompts.push(...(await readPromptsFile(f)));
  const k = o.samplesPerPrompt ?? 4;
  const beta = o.beta ?? 0.01;
  if (engine === 'openrlhf') {
    files.set('data/prompts.jsonl', jsonl(prompts.map((p) => ({ input: chatTurns(p) }))));
    return {
      surface: 'ppo', variant: 'rloo', style: 'flags', files, rows: { 'data/prompts.jsonl': prompts.length }, output: 'policy', requirements: req,
      command: 'python -m openrlhf.cli.train_ppo_ray',
      options: { 'actor.model_name_or_path': o.model, 'reward.remote_url': o.rewardUrl, 'data.prompt_dataset': 'data/prompts.jsonl', 'data.input_key': 'input', 'data.apply_chat_template': true, 'algo.advantage.estimator': 'rloo', 'rollout.n_samples_per_prompt': k, 'algo.kl.init_coef': beta, 'algo.kl.estimator': 'k1', 'train.seed': o.seed ?? 0, 'ckpt.output_dir': '${STEER_JOB_OUTPUT}/model', 'ckpt.save_hf': true },
      emulations: [
        `KL: OpenRLHF's rloo estimator subtracts β·KL from the reward with the k1 estimator per token (log π_old − log π_ref) summed over the response; steer/NeMo-Aligner use β·mean_t |log π − log π_ref|. The same β = ${beta} is a different penalty.`,
        'Truncated samples (no EOS) stay in OpenRLHF\'s leave-one-out baseline; steer leaves them out.',
        `Rewards: OpenRLHF's remote reward protocol (POST {"query": [prompt+response texts], …} → {"rewards"}), which steer serve answers at /get_reward; --reward-url must point there (given: ${o.rewardUrl}).`,
      ],
      whatRuns: `OpenRLHF train_ppo_ray with advantage estimator rloo (REINFORCE with the leave-one-out baseline, no critic), k = ${k}, rewards from a remote steer reward model.`,
    };
  }
  if (engine === 'nemo-rl') {
    files.set('data/prompts.jsonl', jsonl(prompts.map((p) => ({ messages: chatTurns(p) }))));
    return {
      surface: 'grpo', variant: 'rloo', style: 'hydra', files, rows: { 'data/prompts.jsonl': prompts.length }, output: 'policy', requirements: ['nemo-rl (git tag v0.7.0)'],
      command: 'uv run examples/run_grpo.py --config examples/configs/grpo_math_1B.yaml',
      options: { 'policy.model_name': o.model, 'grpo.num_generations_per_prompt': k, 'grpo.use_leave_one_out_baseline': true, 'grpo.normalize_rewards': false, 'loss_fn.reference_policy_kl_penalty': beta, 'loss_fn.reference_policy_kl_type': 'k1', 'loss_fn.use_kl_in_reward': true, 'data.train.data_path': 'data/prompts.jsonl' },
      emulations: [
        'REINFORCE is NeMo-RL\'s GRPO with use_leave_one_out_baseline = true and normalize_rewards = false (no std scaling): the RLOO advantage of the paper, but through GRPO\'s clipped ratio loss.',
        `KL: use_kl_in_reward puts β·k1 (log π − log π_ref) into the reward; steer uses β·mean_t |log π − log π_ref|. Same β = ${beta}, different penalty.`,
        `Rewards: NeMo-RL calls reward models through its environment interface; point a reward-model environment at the steer endpoint ${o.rewardUrl} (no built-in HTTP reward environment in v0.7.0 — this part is not generated).`,
      ],
      whatRuns: `NeMo-RL GRPO as RLOO, k = ${k}.`,
    };
  }
  files.set('data/prompts.jsonl', jsonl(prompts.map((p) => ({ text: formatPromptText(p) }))));
  const u = new URL(o.rewardUrl);
  return {
    surface: 'reinforce', variant: 'rloo', style: 'hydra', files, rows: { 'data/prompts.jsonl': prompts.length }, output: 'policy', requirements: ['nemo-aligner==0.7.0 (its repository checkout for examples/)'],
    command: 'python ${NEMO_ALIGNER_DIR}/examples/nlp/gpt/train_gpt_reinforce_actor.py',
    options: { 'pretrained_checkpoint.restore_from_path': o.model, 'model.data.data_prefix': '{train: [data/prompts.jsonl], validation: [data/prompts.jsonl], test: [data/prompts.jsonl]}', 'trainer.reinforce.num_rollouts_per_prompt': k, 'trainer.reinforce.initial_policy_kl_penalty': beta, 'remote_rm.reward_model.ip': u.hostname, 'remote_rm.reward_model.port': Number(u.port || 80) },
    emulations: ['Exact REINFORCE semantics (NeMo-Aligner is where steer\'s REINFORCE comes from). The model must be a .nemo checkpoint (convert the HF model with NeMo\'s convert_llama_hf_to_nemo.py), and the reward server must speak NeMo-Aligner\'s PyTriton protocol — steer\'s HTTP endpoint does not; run NeMo-Aligner\'s serve_reward_model.py on the imported reward model instead.'],
    whatRuns: `NeMo-Aligner REINFORCE actor, k = ${k}, β = ${beta} on |KL| token mean, RLOO baseline over stopped samples.`,
  };
}

function formatPromptText(p: Prompt): string {
  const turns = promptTurnsOf(p);
  return turns.map((t) => `<extra_id_1>${t.role === 'user' ? 'User' : t.role === 'assistant' ? 'Assistant' : 'System'}\n${t.content}`).join('\n') + '\n<extra_id_1>Assistant\n';
}

// ---- NeMo-RL v0.7.0 -----------------------------------------------------------------------------------

async function nemoRl(o: GpuExportInput): Promise<GpuStagePlan> {
  const files = new Map<string, string>();
  const req = ['nemo-rl (git tag v0.7.0)'];
  if (o.stage === 'rm' || o.stage === 'dpo') {
    const rm = o.stage === 'rm';
    const loss = checkLoss(o.loss ?? (rm ? 'scaled-bt' : 'regular'), rm ? RM_LOSSES : ['regular', 'margin', 'scaled'], '--loss');
    if (loss === 'regression') refuse('nemo-rl', 'a regression (SteerLM) reward model (v0.7.0 supports reward_model_type bradley_terry only)', 'train it in-process or on nemo-aligner');
    if (loss === 'margin-bt' || loss === 'margin') refuse('nemo-rl', `the margin ${rm ? 'BT' : 'DPO'} loss`, 'export --loss scaled (repetition) or the plain loss');
    const { ps, emulations } = await preferencePairs(o, loss === 'scaled-bt' || loss === 'scaled', rm ? 'Scaled BT' : 'Scaled DPO');
    files.set('data/train.jsonl', jsonl(ps.map((p) => ({ prompt: chatTurns(p.prompt), chosen: p.chosen, rejected: p.rejected }))));
    emulations.push('NeMo-RL applies the model\'s chat template (policy.tokenizer.chat_template) to the prompt turns; steer\'s reward text format for HF tokenizers is the HH transcript, so an imported NeMo-RL RM scores chat-templated text best.');
    const cfg = rm ? 'examples/configs/rm.yaml' : 'examples/configs/dpo.yaml';
    return {
      surface: o.stage, variant: loss, style: 'hydra', files, rows: { 'data/train.jsonl': ps.length }, output: rm ? 'reward-model' : 'policy', requirements: req, emulations,
      command: `uv run examples/run_${rm ? 'rm' : 'dpo'}.py --config ${cfg}`,
      options: { 'policy.model_name': o.model, 'data.train.data_path': 'data/train.jsonl', 'data.train.dataset_name': 'BinaryPreferenceDataset', 'data.train.prompt_key': 'prompt', 'data.train.chosen_key': 'chosen', 'data.train.rejected_key': 'rejected', [`${o.stage}.max_num_epochs`]: o.epochs ?? 1, 'policy.optimizer.kwargs.lr': o.lr ?? (rm ? 2e-6 : 5e-6), [`${o.stage}.seed`]: o.seed ?? 0, ...(rm ? {} : { 'dpo.reference_policy_kl_penalty': o.beta ?? 0.1 }), 'checkpointing.checkpoint_dir': '${STEER_JOB_OUTPUT}/checkpoints' },
      whatRuns: rm ? 'NeMo-RL reward-model training (Bradley-Terry).' : 'NeMo-RL DPO (sigmoid loss, β = reference_policy_kl_penalty).',
    };
  }
  if (o.stage === 'sft') {
    const rows = await sftRows(o);
    files.set('data/train.jsonl', jsonl(rows.map((r) => ({ messages: [...chatTurns(r.prompt), { role: 'assistant', content: r.response }] }))));
    return {
      surface: 'sft', variant: 'sft', style: 'hydra', files, rows: { 'data/train.jsonl': rows.length }, output: 'policy', requirements: req, emulations: [],
      command: 'uv run examples/run_sft.py --config examples/configs/sft.yaml',
      options: { 'policy.model_name': o.model, 'data.train.data_path': 'data/train.jsonl', 'data.train.dataset_name': 'openai_format', 'sft.max_num_epochs': o.epochs ?? 1, 'policy.optimizer.kwargs.lr': o.lr ?? 5e-6, 'sft.seed': o.seed ?? 0, 'checkpointing.checkpoint_dir': '${STEER_JOB_OUTPUT}/checkpoints' },
      whatRuns: 'NeMo-RL SFT on OpenAI-format messages, loss on the assistant turn.',
    };
  }
  return reinforcePlan(o, 'nemo-rl', req, files);
}

// ---- NeMo-Aligner v0.7.0 --------------------------------------------------------------------------------

async function nemoAligner(o: GpuExportInput): Promise<GpuStagePlan> {
  const files = new Map<string, string>();
  const req = ['nemo-aligner==0.7.0 (its repository checkout for examples/)'];
  const common = { 'pretrained_checkpoint.restore_from_path': o.model, 'exp_manager.explicit_log_dir': '${STEER_JOB_OUTPUT}' };
  if (o.stage === 'rm') {
    const loss = checkLoss(o.loss ?? 'scaled-bt', RM_LOSSES, '--loss');
    if (loss === 'regression') {
      const attrs = o.attributes ?? [...HELPSTEER2_ATTRIBUTES];
      const rows: RatedRow[] = [];
      for (const f of required(o.ratings, '--ratings', 'rated responses')) rows.push(...(await readRatingFile(f)));
      // SteerLM regression format: text, label "helpfulness:3,correctness:2,…" (absent = unlabelled)
      const text = rewardText(o.model);
      files.set('data/train.jsonl', jsonl(rows.map((r) => ({ text: text(r.prompt, r.response), label: attrs.filter((a) => r.labels[a] !== undefined).map((a) => `${a}:${r.labels[a]}`).join(',') }))));
      return {
        surface: 'rm', variant: loss, style: 'hydra', files, rows: { 'data/train.jsonl': rows.length }, output: 'reward-model', requirements: req, emulations: ['Exact: NeMo-Aligner\'s regression reward model (masked MSE over labelled attributes) is where steer\'s comes from. The model must be .nemo (convert the HF checkpoint first).'],
        command: 'python ${NEMO_ALIGNER_DIR}/examples/nlp/gpt/train_reward_model.py',
        options: { ...common, 'model.reward_model_type': 'regression', 'model.regression.num_attributes': attrs.length, 'model.data.data_prefix': '{train: [data/train.jsonl], validation: [data/train.jsonl], test: [data/train.jsonl]}', 'trainer.rm.max_epochs': o.epochs ?? 1, 'model.optim.lr': o.lr ?? 3e-6, 'model.seed': o.seed ?? 0 },
        whatRuns: `NeMo-Aligner regression reward model over ${attrs.join(', ')}.`,
      };
    }
    if (loss === 'margin-bt') refuse('nemo-aligner', 'the margin BT loss (v0.7.0\'s binary_ranking loss has no margin)', 'export --loss bt or scaled-bt');
    const text = rewardText(o.model);
    const { ps, emulations } = await preferencePairs(o, loss === 'scaled-bt', 'Scaled BT (the released v0.7.0 has only the plain binary_ranking loss)');
    // RewardModelDataset: consecutive lines, chosen then rejected, each {"text": …}
    files.set('data/train.jsonl', jsonl(ps.flatMap((p) => [{ text: text(p.prompt, p.chosen) }, { text: text(p.prompt, p.rejected) }])));
    return {
      surface: 'rm', variant: loss, style: 'hydra', files, rows: { 'data/train.jsonl': 2 * ps.length }, output: 'reward-model', requirements: req, emulations,
      command: 'python ${NEMO_ALIGNER_DIR}/examples/nlp/gpt/train_reward_model.py',
      options: { ...common, 'model.reward_model_type': 'binary_ranking', 'model.data.data_prefix': '{train: [data/train.jsonl], validation: [data/train.jsonl], test: [data/train.jsonl]}', 'trainer.rm.max_epochs': o.epochs ?? 1, 'model.optim.lr': o.lr ?? 3e-6, 'model.seed': o.seed ?? 0 },
      whatRuns: 'NeMo-Aligner binary_ranking reward model (Bradley-Terry). Starting from a regression RM keeps its head: pass the regression .nemo as --model and set model.regression.load_rm_head_weights=true.',
    };
  }
  if (o.stage === 'dpo') {
    const loss = checkLoss(o.loss ?? 'regular', ['regular', 'margin', 'scaled'], '--loss');
    if (loss === 'margin') refuse('nemo-aligner', 'margin DPO', 'export --loss scaled or regular');
    const { ps, emulations } = await preferencePairs(o, loss === 'scaled', 'Scaled DPO');
    files.set('data/train.jsonl', jsonl(ps.map((p) => ({ prompt: formatPromptText(p.prompt), chosen_response: p.chosen, rejected_response: p.rejected }))));
    return {
      surface: 'dpo', variant: loss, style: 'hydra', files, rows: { 'data/train.jsonl': ps.length }, output: 'policy', requirements: req, emulations,
      command: 'python ${NEMO_ALIGNER_DIR}/examples/nlp/gpt/train_gpt_dpo.py',
      options: { ...common, 'model.data.data_prefix': '{train: [data/train.jsonl], validation: [data/train.jsonl], test: [data/train.jsonl]}', 'model.dpo.ref_policy_kl_penalty': o.beta ?? 0.1, 'model.dpo.preference_loss': 'dpo', 'trainer.dpo.max_epochs': o.epochs ?? 1, 'model.optim.lr': o.lr ?? 9e-6, 'model.seed': o.seed ?? 0 },
      whatRuns: 'NeMo-Aligner DPO (preference_loss dpo) with the SteerLM/Nemotron prompt format (<extra_id_1>User … <extra_id_1>Assistant).',
    };
  }
  if (o.stage === 'sft') {
    const rows = await sftRows(o);
    files.set('data/train.jsonl', jsonl(rows.map((r) => ({ input: formatPromptText(r.prompt), output: r.response }))));
    return {
      surface: 'sft', variant: 'sft', style: 'hydra', files, rows: { 'data/train.jsonl': rows.length }, output: 'policy', requirements: req, emulations: [],
      command: 'python ${NEMO_ALIGNER_DIR}/examples/nlp/gpt/train_gpt_sft.py',
      options: { 'model.restore_from_path': o.model, 'model.data.train_ds.file_path': 'data/train.jsonl', 'model.data.validation_ds.file_path': 'data/train.jsonl', 'trainer.sft.max_epochs': o.epochs ?? 1, 'model.optim.lr': o.lr ?? 5e-6, 'exp_manager.explicit_log_dir': '${STEER_JOB_OUTPUT}' },
      whatRuns: 'NeMo-Aligner SFT (input/output JSONL, loss on output tokens).',
    };
  }
  return reinforcePlan(o, 'nemo-aligner', req, files);
}

export function planGpuEngine(o: GpuExportInput): Promise<GpuStagePlan> {
  return o.engine === 'openrlhf' ? openrlhf(o) : o.engine === 'nemo-rl' ? nemoRl(o) : nemoAligner(o);
}

/** The shell command line: OpenRLHF flags (--name value, bare --flag for true) or Hydra overrides (key=value). */
export function commandLine(plan: GpuStagePlan): string {
  const q = (v: unknown) => {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return /^[\w./:@%+=-]+$/.test(s) ? s : s.includes('${') ? `"${s.replace(/"/g, '\\"')}"` : `'${s.replace(/'/g, "'\\''")}'`;
  };
  const parts = Object.entries(plan.options).filter(([, v]) => !(plan.style === 'flags' && v === false)).map(([k, v]) => (plan.style === 'flags' ? (v === true ? `--${k}` : `--${k} ${q(v)}`) : q(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)));
  return [plan.command, ...parts].join(' \\\n  ');
}

