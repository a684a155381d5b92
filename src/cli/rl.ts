// `steer rl reinforce`: REINFORCE with a leave-one-out baseline (NeMo-Aligner semantics) against a
// steer reward model, an HTTP reward endpoint, or the toy world's ground truth. A thin shell over
// src/policy/reinforce.ts.
import { Command } from 'commander';
import { z } from 'zod';
import { addCommonOptions, announce, resolveConfig } from './command.js';
import { addTrainerOptions, commandSchema, defaultOf, reportTrainer, trainerOptions } from './sft.js';
import { UserError } from '../util/errors.js';
import { readPromptsFile } from '../policy/data.js';
import { loadPolicy } from '../policy/model.js';
import { reinforceSchema, trainReinforce } from '../policy/reinforce.js';
import { httpRewardSource, rewardModelSource, toyCorrectnessReward, type RewardSource } from '../policy/reward.js';

function rewardFrom(cfg: { rewardModel?: string; rewardUrl?: string; reward?: string; threads: number }): RewardSource {
  const given = [cfg.rewardModel, cfg.rewardUrl, cfg.reward].filter((x) => x !== undefined).length;
  if (given !== 1) {
    throw new UserError({ what: 'give exactly one reward', where: '--reward-model / --reward-url / --reward', expected: '--reward-model DIR (a steer reward model), --reward-url URL (an HTTP endpoint) or --reward toy-truth', received: given === 0 ? 'none' : `${given} of them`, fix: 'e.g. --reward-model runs/rm/model' });
  }
  if (cfg.rewardModel) return rewardModelSource(cfg.rewardModel, { threads: cfg.threads });
  if (cfg.rewardUrl) return httpRewardSource(cfg.rewardUrl);
  if (cfg.reward !== 'toy-truth') throw new UserError({ what: `unknown --reward ${JSON.stringify(cfg.reward)}`, where: '--reward', expected: 'toy-truth (the toy world\'s ground truth: 1 right, 0 wrong)', fix: 'use --reward toy-truth, or --reward-model / --reward-url' });
  return toyCorrectnessReward();
}

export function registerRl(program: Command): void {
  const rl = program.command('rl').description('reinforcement learning from a reward: REINFORCE with a leave-one-out baseline');
  const cmd = rl
    .command('reinforce')
    .description('REINFORCE + RLOO as NeMo-Aligner: k samples per prompt, r̃ = r − β·KL (token-mean |log π − log π_ref|), baseline = mean r̃ of the prompt\'s other ended samples, token-mean loss −log π·(r̃ − baseline); writes OUT/metrics.jsonl, OUT/rollouts.jsonl, OUT/checkpoints/ (resumable) and OUT/model')
    .requiredOption('--policy <dir>', 'starting policy (usually the SFT model directory)')
    .option('--reference <dir>', 'frozen reference for the KL penalty (default: the starting policy)')
    .requiredOption('--prompts <file>', 'prompt rows {prompt}, e.g. the toy world\'s rl-prompts.jsonl')
    .option('--reward-model <dir>', 'a steer reward model directory (its merged reward)')
    .option('--reward-url <url>', 'an HTTP reward endpoint: POST {"prompts": [...], "responses": [...]} → {"rewards": [...]}')
    .option('--reward <kind>', '"toy-truth": the toy world\'s ground truth (1 right, 0 wrong), an oracle for experiments')
    .option('--prompts-per-step <n>', 'prompts per step', defaultOf(reinforceSchema, 'promptsPerStep'))
    .option('-k, --samples-per-prompt <n>', 'samples per prompt (the recipe: 4)', defaultOf(reinforceSchema, 'samplesPerPrompt'))
    .option('--beta <x>', 'KL penalty weight β (the recipe: 0.01)', defaultOf(reinforceSchema, 'beta'))
    .option('--kl <form>', 'abs (the recipe) | k1 | k3', defaultOf(reinforceSchema, 'klForm'))
    .option('--whiten', 'whiten advantages over the batch (off in the recipe)')
    .option('--reward-clip <x>', 'clip RM rewards to [−x, x] before the KL penalty')
    .option('--max-new-tokens <n>', 'new tokens per response at most', defaultOf(reinforceSchema, 'maxNewTokens'))
    .option('--micro-batch-size <n>', 'samples per micro-batch of the update (default: all prompts-per-step × k); gradients are averaged')
    .option('--temperature <x>', 'sampling temperature', defaultOf(reinforceSchema, 'temperature'))
    .option('--top-p <x>', 'nucleus sampling (1 = off)', defaultOf(reinforceSchema, 'topP'))
    .option('--top-k <n>', 'top-k sampling (0 = off)', defaultOf(reinforceSchema, 'topK'))
    .option('--recompute-logprobs', 'compute log π by a full forward pass even where generation\'s log-probs are exact (temperature 1, no top-k/top-p)')
    .option('--log-rollouts <n>', 'rollouts written to OUT/rollouts.jsonl per step (default: the first prompt\'s k samples)')
    .option('--tokenizer <path>', 'tokenizer (default: the one in the policy directory)')
    .addHelpText('after', '\nExample (the toy world, after `steer sft` and `steer rm train`):\n  steer rl reinforce --policy runs/sft/model --reward-model runs/rm/model --prompts toy/rl-prompts.jsonl --out runs/rl');
  addTrainerOptions(cmd, reinforceSchema);
  addCommonOptions(cmd, { out: 'runs/rl' });
  cmd.action(async () => {
    const cfg = resolveConfig(
      cmd,
      commandSchema(reinforceSchema, {
        policy: z.string().min(1),
        reference: z.string().min(1).optional(),
        prompts: z.string().min(1),
        rewardModel: z.string().min(1).optional(),
        rewardUrl: z.string().min(1).optional(),
        reward: z.string().min(1).optional(),
        kl: reinforceSchema.shape.klForm,
        tokenizer: z.string().min(1).optional(),
      }),
    );
    announce('rl reinforce', cfg, cfg.quiet);
    const prompts = await readPromptsFile(cfg.prompts);
    const reward = rewardFrom(cfg);
    const policy = loadPolicy(cfg.policy, { tokenizer: cfg.tokenizer });
    const reference = cfg.reference ? loadPolicy(cfg.reference, { tokenizer: cfg.tokenizer }) : undefined;
    try {
      const r = await trainReinforce({ ...trainerOptions(reinforceSchema, cfg), klForm: cfg.kl, policy, reference, reward, prompts });
      reportTrainer('rl reinforce', r);
    } finally {
      await reward.release?.();
    }
  });
}
