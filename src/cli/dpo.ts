// `steer dpo`: DPO and its margin / scaled variants (the three Bradley-Terry losses on DPO's implicit
// reward), reference log-probs computed once and cached. A thin shell over src/policy/dpo.ts.
import { Command } from 'commander';
import { z } from 'zod';
import { addCommonOptions, announce, resolveConfig } from './command.js';
import { addTrainerOptions, commandSchema, defaultOf, reportTrainer, trainerOptions } from './sft.js';
import { readPairsFile } from '../policy/data.js';
import { loadPolicy } from '../policy/model.js';
import { dpoSchema, trainDpo } from '../policy/dpo.js';
import { DPO_LOSS_KINDS } from '../policy/losses.js';

export function registerDpo(program: Command): void {
  const cmd = program
    .command('dpo')
    .description('direct preference optimisation: regular −log σ(d), margin −log σ(d − m), scaled −m·log σ(d) with d = β·(Δlog π(chosen) − Δlog π(rejected)) vs the reference, m = |strength|; writes OUT/metrics.jsonl, OUT/reference-logps.json, OUT/checkpoints/ (resumable) and OUT/model')
    .requiredOption('--policy <dir>', 'starting policy (usually the SFT model directory)')
    .option('--reference <dir>', 'frozen reference (default: the starting policy)')
    .requiredOption('--pairs <file>', 'preference pairs: {prompt, chosen, rejected, strength?} (steer data prepare), raw HelpSteer2-Preference rows (aggregated; train split), HH-RLHF or LLMBar')
    .option('--eval-pairs <file>', 'held-out pairs (validation split of a HelpSteer2-Preference file): loss and implicit-reward accuracy')
    .option('--loss <kind>', DPO_LOSS_KINDS.join(' | '), defaultOf(dpoSchema, 'loss'))
    .option('--beta <x>', 'β of the implicit reward', defaultOf(dpoSchema, 'beta'))
    .option('--batch-size <n>', 'pairs per step', defaultOf(dpoSchema, 'batchSize'))
    .option('--micro-batch-size <n>', 'pairs per micro-batch (default: the whole batch)')
    .option('--max-length <n>', 'longest prompt + response in tokens; longer pairs are dropped (default: the model context)')
    .option('--length-multiple <n>', 'sequence lengths are rounded up to a multiple of this (few compiled shapes)', defaultOf(dpoSchema, 'lengthMultiple'))
    .option('--tokenizer <path>', 'tokenizer (default: the one in the policy directory)')
    .addHelpText('after', '\nExample (the toy world):\n  steer dpo --policy runs/sft/model --pairs toy/helpsteer2/preference.jsonl --eval-pairs toy/helpsteer2/preference.jsonl --loss scaled --out runs/dpo-scaled');
  addTrainerOptions(cmd, dpoSchema);
  addCommonOptions(cmd, { out: 'runs/dpo' });
  cmd.action(async () => {
    const cfg = resolveConfig(
      cmd,
      commandSchema(dpoSchema, {
        policy: z.string().min(1),
        reference: z.string().min(1).optional(),
        pairs: z.string().min(1),
        evalPairs: z.string().min(1).optional(),
        tokenizer: z.string().min(1).optional(),
      }),
    );
    announce('dpo', cfg, cfg.quiet);
    const { pairs } = await readPairsFile(cfg.pairs, { split: 'train' });
    // the same file may serve both: its validation split is held out
    const evalPairs = cfg.evalPairs ? (await readPairsFile(cfg.evalPairs, { split: cfg.evalPairs === cfg.pairs ? 'validation' : 'all' })).pairs : undefined;
    const policy = loadPolicy(cfg.policy, { tokenizer: cfg.tokenizer });
    const reference = cfg.reference ? loadPolicy(cfg.reference, { tokenizer: cfg.tokenizer }) : undefined;
    const r = await trainDpo({ ...trainerOptions(dpoSchema, cfg), policy, reference, pairs, evalPairs });
    reportTrainer(`dpo (${cfg.loss})`, r);
  });
}
