// `steer sft`: supervised fine-tuning of a policy on (prompt, response) rows, loss on response tokens
// only. A thin shell over src/policy/sft.ts; the trainer flags shared with `steer rl reinforce`,
// `steer dpo` and `steer rm train` are defined here, from the library's schemas (src/train/options.ts).
import { Command } from 'commander';
import { z } from 'zod';
import { addCommonOptions, announce, resolveConfig } from './command.js';
import { UserError } from '../util/errors.js';
import { readSftFile } from '../policy/data.js';
import { initToyPolicy, loadPolicy, type PolicyModel } from '../policy/model.js';
import { sftSchema, trainSft, type TrainerResult } from '../policy/sft.js';
import { addLoraOptions, loraFlagsSchema, loraFromFlags } from './lora.js';

/** A field's default in a trainer's schema (the one place it is written), as commander's default string. */
export function defaultOf(schema: z.ZodObject, key: string): string | undefined {
  const v = (schema.shape[key] as z.ZodType).parse(undefined);
  return v === undefined ? undefined : String(v);
}

/** Optimizer, schedule, run and LoRA options every trainer takes (src/train/options.ts; defaults from the trainer's schema). */
export function addTrainerOptions(cmd: Command, schema: z.ZodObject): Command {
  const d = (k: string) => defaultOf(schema, k);
  return addLoraOptions(cmd)
    .option('--steps <n>', d('steps') === undefined ? 'optimizer steps (default: --epochs over the data)' : 'optimizer steps', d('steps'))
    .option('--lr <x>', 'peak learning rate (AdamW)', d('lr'))
    .option('--schedule <kind>', 'constant | cosine (after warm-up)', d('schedule'))
    .option('--warmup-steps <n>', 'linear warm-up steps', d('warmupSteps'))
    .option('--min-lr-ratio <x>', 'floor of the cosine decay as a fraction of --lr', d('minLrRatio'))
    .option('--weight-decay <x>', 'decoupled weight decay (1-D weights — norm gains, biases — excluded)', d('weightDecay'))
    .option('--max-grad-norm <x>', 'clip gradients to this global norm (0: off)', d('maxGradNorm'))
    .option('--eval-every <n>', 'evaluate every N steps (0: only at the end)', d('evalEvery'))
    .option('--checkpoint-every <n>', 'save a checkpoint every N steps (0: only at the end)', d('checkpointEvery'))
    .option('--keep-checkpoints <n>', 'checkpoints kept', d('keepCheckpoints'))
    .option('--deterministic', 'bit-reproducible gradients (slower embedding gradient)')
    .option('--no-resume', 'start over even if OUT holds a checkpoint')
    .option('--no-spinning', 'idle engine threads sleep instead of spinning (faster when other processes share the cores)');
}

/** A trainer's schema as a command's: the library's fields (the --lora-* flags instead of lora) plus the command's own. */
export function commandSchema<T extends z.ZodRawShape & { lora: z.ZodType }, E extends z.ZodRawShape>(schema: z.ZodObject<T>, extra: E) {
  const { lora: _lora, ...fields } = schema.shape;
  return z.strictObject({ ...(fields as Omit<T, 'lora'>), ...loraFlagsSchema, ...extra });
}

/** The library's options out of a command's config: the schema's fields, and lora from the --lora-* flags. */
export function trainerOptions<S extends z.ZodObject>(schema: S, cfg: Record<string, unknown> & { loraRank: number; loraAlpha?: number; loraDropout: number; loraTargets: string }, lora: { dropout?: boolean } = {}): z.input<S> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(schema.shape)) if (k !== 'lora' && cfg[k] !== undefined) out[k] = cfg[k];
  return { ...out, lora: loraFromFlags(cfg, lora) } as z.input<S>;
}

const int = z.coerce.number().int();

/** The final line every trainer prints: where the model is and the last numbers. */
export function reportTrainer(name: string, r: TrainerResult): void {
  const fmt = (m: Record<string, number> | null) => (m ? Object.entries(m).filter(([k]) => !k.endsWith('_ms')).slice(0, 8).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(', ') : '');
  const lines = [`${name}: ${r.steps} steps${r.resumedFrom !== null ? ` (resumed from step ${r.resumedFrom})` : ''}; model in ${r.modelDir}${r.adapterDir ? ` (merged; LoRA adapter in ${r.adapterDir})` : ''}`, `  last step: ${fmt(r.lastMetrics)}`];
  if (r.lastEval) lines.push(`  evaluation: ${fmt(r.lastEval)}`);
  lines.push(`  metrics: ${r.metricsPath}`);
  process.stdout.write(lines.join('\n') + '\n');
}

/** --model DIR, or --init toy (a fresh char-level toy-world policy of the given size). */
export function policyFrom(cfg: { model?: string; init?: string; tokenizer?: string; seed: number; hiddenSize: number; layers: number; heads: number; kvHeads: number; intermediateSize: number }): PolicyModel {
  if ((cfg.model === undefined) === (cfg.init === undefined)) {
    throw new UserError({ what: 'give exactly one starting point', where: '--model / --init', expected: '--model DIR (a model directory) or --init toy (a fresh toy-world policy)', received: cfg.model && cfg.init ? 'both' : 'neither', fix: 'pass --model runs/sft/model, or --init toy for the toy world' });
  }
  if (cfg.model !== undefined) return loadPolicy(cfg.model, { tokenizer: cfg.tokenizer });
  if (cfg.init !== 'toy') throw new UserError({ what: `unknown --init ${JSON.stringify(cfg.init)}`, where: '--init', expected: 'toy', fix: 'use --init toy, or --model DIR to start from a model directory' });
  return initToyPolicy(cfg.seed, { hiddenSize: cfg.hiddenSize, numLayers: cfg.layers, numHeads: cfg.heads, numKvHeads: cfg.kvHeads, intermediateSize: cfg.intermediateSize });
}

export function registerSft(program: Command): void {
  const cmd = program
    .command('sft')
    .description('supervised fine-tuning: loss on response tokens only (prompt and padding masked), in the model\'s chat format; writes OUT/metrics.jsonl, OUT/checkpoints/ (resumable) and OUT/model')
    .requiredOption('--data <file>', 'training rows {prompt, response} (jsonl, jsonl.gz, json or parquet), e.g. the toy world\'s sft.jsonl')
    .option('--eval-data <file>', 'held-out rows: token-mean NLL at each evaluation')
    .option('--model <dir>', 'starting model directory (config.json + model.safetensors + tokenizer)')
    .option('--init <kind>', 'start from scratch instead: "toy" = a char-level Llama for the toy world')
    .option('--tokenizer <path>', 'tokenizer (default: the one in the model directory)')
    .option('--hidden-size <n>', '--init toy: model width', '64')
    .option('--layers <n>', '--init toy: decoder layers', '2')
    .option('--heads <n>', '--init toy: attention heads', '4')
    .option('--kv-heads <n>', '--init toy: key/value heads', '2')
    .option('--intermediate-size <n>', '--init toy: SwiGLU width', '176')
    .option('--batch-size <n>', 'sequences per step', defaultOf(sftSchema, 'batchSize'))
    .option('--micro-batch-size <n>', 'sequences per micro-batch (default: the whole batch); gradients are averaged')
    .option('--max-length <n>', 'longest prompt + response in tokens; longer rows are dropped (default: the model context)')
    .option('--length-multiple <n>', 'sequence lengths are rounded up to a multiple of this (few compiled shapes)', defaultOf(sftSchema, 'lengthMultiple'))
    .addHelpText('after', '\nExample (the toy world):\n  steer data toy --out toy\n  steer sft --init toy --data toy/sft.jsonl --out runs/sft --steps 1000 --lr 3e-3 --schedule cosine --warmup-steps 30');
  addTrainerOptions(cmd, sftSchema);
  addCommonOptions(cmd, { out: 'runs/sft' });
  cmd.action(async () => {
    const cfg = resolveConfig(
      cmd,
      commandSchema(sftSchema, {
        data: z.string().min(1),
        evalData: z.string().min(1).optional(),
        model: z.string().min(1).optional(),
        init: z.string().min(1).optional(),
        tokenizer: z.string().min(1).optional(),
        hiddenSize: int.min(2),
        layers: int.min(1),
        heads: int.min(1),
        kvHeads: int.min(1),
        intermediateSize: int.min(1),
      }),
    );
    announce('sft', cfg, cfg.quiet);
    const policy = policyFrom(cfg);
    const data = await readSftFile(cfg.data);
    const evalData = cfg.evalData ? await readSftFile(cfg.evalData) : undefined;
    const r = await trainSft({ ...trainerOptions(sftSchema, cfg), policy, data, evalData });
    reportTrainer('sft', r);
  });
}
