// LoRA flags shared by the training commands: --lora-rank (0 = full fine-tuning), --lora-alpha,
// --lora-dropout, --lora-targets; validated by the trainers' loraOptionsSchema.
import type { Command } from 'commander';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { LORA_TARGETS } from '../nn/lora.js';

export function addLoraOptions(cmd: Command): Command {
  return cmd
    .option('--lora-rank <n>', 'train a LoRA adapter of this rank on a frozen base instead of every weight (0: full fine-tuning)', '0')
    .option('--lora-alpha <x>', 'LoRA scale numerator: the update is multiplied by alpha / rank (default 2 × rank)')
    .option('--lora-dropout <x>', 'dropout probability on the adapter input while training, as PEFT (sft, dpo, rl reinforce; reward models: 0 only)', '0')
    .option('--lora-targets <list>', `projections to adapt, comma-separated: ${LORA_TARGETS.join(', ')}`, 'q_proj,k_proj,v_proj,o_proj');
}

/** The flags' zod fields (merge into a command's strict schema). */
export const loraFlagsSchema = {
  loraRank: z.coerce.number().int().min(0),
  loraAlpha: z.coerce.number().positive().optional(),
  loraDropout: z.coerce.number().min(0).max(0.99),
  loraTargets: z.string(),
};

/** Flags → the trainers' `lora` option (undefined when --lora-rank is 0); `dropout: false` for trainers without lora_dropout. */
export function loraFromFlags(f: { loraRank: number; loraAlpha?: number; loraDropout: number; loraTargets: string }, opts: { dropout?: boolean } = {}) {
  if (f.loraRank === 0) return undefined;
  if (opts.dropout === false && f.loraDropout !== 0) {
    throw new UserError({ what: 'LoRA dropout is not implemented for reward models', where: '--lora-dropout', expected: '0', received: String(f.loraDropout), fix: 'drop --lora-dropout (sft, dpo and rl reinforce take it), or train with peft through `steer export trl`' });
  }
  const targets = f.loraTargets.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = targets.filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
  if (bad.length) throw new UserError({ what: `unknown LoRA target ${bad[0]}`, where: '--lora-targets', expected: `some of ${LORA_TARGETS.join(', ')}`, received: f.loraTargets, fix: 'name Llama projections as PEFT does, e.g. q_proj,v_proj' });
  return { rank: f.loraRank, alpha: f.loraAlpha ?? 2 * f.loraRank, dropout: f.loraDropout, targets: targets as (typeof LORA_TARGETS)[number][] };
}
