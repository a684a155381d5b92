// `steer dpo`: DPO and its margin / scaled variants (the three Bradley-Terry losses on DPO's implicit
// reward), reference log-probs computed once and cached. A thin shell over src/policy/dpo.ts.
import { Command } from 'commander';
import { z } from 'zod';
import { addCommonOptions, announce, resolveConfig } from './command.js';
import { addTrainerOptions, reportTrainer, trainerSchema } from './sft.js';
import { loraFromFlags } from './lora.js';
import { readPairsFile } from '../policy/data.js';
import { loadPolicy } from '../policy/model.js';
import { DPO_DEFAULTS, trainDpo } from '../policy/dpo.js';
import { DPO_LOSS_KINDS, type DpoLossKind } from '../policy/losses.js';

const num = z.coerce.number();
const int = z.coerce.number().int();

export function registerDpo(program: Command): void {
  const cmd = program
    .command('dpo')
    .description('direct preference optimisation: regular −log σ(d), margin −log σ(d − m), scaled −m·log σ(d) with d = β·(Δlog π(chosen) − Δlog π(rejected)) vs the reference, m = |strength|; writes OUT/metrics.jsonl, OUT/reference-logps.json, OUT/checkpoints/ (resumable) and OUT/model')
    .requiredOption('--policy <dir>', 'starting policy (usually the SFT model directory)')
    .option('--reference <dir>', 'frozen reference (default: the starting policy)')
    .requiredOption('--pairs <file>', 'preference pairs: {prompt, chosen, rejected, strength?} (steer data prepare), raw HelpSteer2-Preference rows (aggregated; train split), HH-RLHF or LLMBar')
    .option('--eval-pairs <file>', 'held-out pairs (validation split of a HelpSteer2-Preference file): loss and implicit-reward accuracy')
    .option('--loss <kind>', DPO_LOSS_KINDS.join(' | '), DPO_DEFAULTS.loss)
    .option('--beta <x>', 'β of the implicit reward', String(DPO_DEFAULTS.beta))
    .option('--batch-size <n>', 'pairs per step', String(DPO_DEFAULTS.batchSize))
    .option('--micro-batch-size <n>', 'pairs per micro-batch (default: the whole batch)')
    .option('--max-length <n>', 'longest prompt + response in tokens; longer pairs are dropped (default: the model context)')
    .option('--tokenizer <path>', 'tokenizer (default: the one in the policy directory)')
    .addHelpText('after', '\nExample (the toy world):\n  steer dpo --policy runs/sft/model --pairs toy/helpsteer2/preference.jsonl --eval-pairs toy/helpsteer2/preference.jsonl --loss scaled --out runs/dpo-scaled');
  addTrainerOptions(cmd, DPO_DEFAULTS);
  addCommonOptions(cmd, { out: 'runs/dpo' });
  cmd.action(async () => {
    const cfg = resolveConfig(
      cmd,
      z.strictObject({
        ...trainerSchema,
        policy: z.string().min(1),
        reference: z.string().min(1).optional(),
        pairs: z.string().min(1),
        evalPairs: z.string().min(1).optional(),
        loss: z.enum(DPO_LOSS_KINDS as [DpoLossKind, ...DpoLossKind[]]),
        beta: num.positive(),
        batchSize: int.min(1),
        maxLength: int.min(2).optional(),
        microBatchSize: int.min(1).optional(),
        tokenizer: z.string().min(1).optional(),
      }),
    );
    announce('dpo', cfg, cfg.quiet);
    const { pairs } = await readPairsFile(cfg.pairs, { split: 'train' });
    // the same file may serve both: its validation split is held out
    const evalPairs = cfg.evalPairs ? (await readPairsFile(cfg.evalPairs, { split: cfg.evalPairs === cfg.pairs ? 'validation' : 'all' })).pairs : undefined;
    const policy = loadPolicy(cfg.policy, { tokenizer: cfg.tokenizer });
    const reference = cfg.reference ? loadPolicy(cfg.reference, { tokenizer: cfg.tokenizer }) : undefined;
    const r = await trainDpo({ ...cfg, policy, reference, pairs, evalPairs, lora: loraFromFlags(cfg) });
    reportTrainer(`dpo (${cfg.loss})`, r);
  });
}
