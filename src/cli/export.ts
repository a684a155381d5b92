// `steer export <engine> <stage>`: a recipe stage as a job directory for an external engine. A thin
// shell over src/scale/export.ts.
import { Command } from 'commander';
import { z } from 'zod';
import { announce, resolveConfig } from './command.js';
import { packageVersion } from './main.js';
import { exportJob, DPO_VARIANTS, RM_VARIANTS } from '../scale/export.js';
import { ENGINES, STAGES, parseSetOptions } from '../scale/engines.js';

const collect = (v: string, prev: string[]) => [...prev, v];
const num = z.coerce.number();
const int = z.coerce.number().int();

export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description('write a recipe stage as a self-contained job directory for an external engine (data, model, config validated against the engine\'s pinned definitions, entry script, README)')
    .argument('<engine>', ENGINES.join(' | '))
    .argument('<stage>', `${STAGES.join(' | ')}`)
    .requiredOption('--model <dir>', 'starting model: a model directory (HF / steer); for rm also a steer reward model (its head is kept: Scaled BT from a regression RM)')
    .requiredOption('--out <dir>', 'the job directory to write (appears complete or not at all)')
    .option('--loss <kind>', `rm: ${RM_VARIANTS.join(' | ')} (default scaled-bt); dpo: ${DPO_VARIANTS.join(' | ')} (default regular)`)
    .option('--pairs <file>', 'rm / dpo: training pairs (repeatable)', collect, [])
    .option('--val-pairs <file>', 'rm: evaluation pairs (repeatable)', collect, [])
    .option('--ratings <file>', 'rm regression: rated responses (repeatable)', collect, [])
    .option('--val-ratings <file>', 'rm regression: evaluation ratings (repeatable)', collect, [])
    .option('--data <file>', 'sft: {prompt, response} rows (repeatable)', collect, [])
    .option('--prompts <file>', 'reinforce: {prompt} rows (repeatable)', collect, [])
    .option('--reward-url <url>', 'reinforce: a steer reward endpoint the cluster can reach (POST {"prompts","responses"} → {"rewards"})')
    .option('--attributes <list>', 'rm regression: head slots, comma-separated (default the five HelpSteer2 attributes)')
    .option('--read-slot <name>', 'rm from a multi-slot reward model: the slot the pair loss trains (default helpfulness)')
    .option('--max-length <n>', 'longest sequence in tokens (rm: longer keep their last tokens; policy: longer dropped)')
    .option('--lr <x>', 'peak learning rate (default: the stage\'s steer default)')
    .option('--epochs <x>', 'passes over the data (when --steps is not given)', '1')
    .option('--steps <n>', 'optimizer steps')
    .option('--batch-size <n>', 'pairs / rows per device step (reinforce: prompts per step)')
    .option('--grad-accum <n>', 'micro-batches per optimizer step', '1')
    .option('--warmup-steps <n>', 'linear warm-up steps')
    .option('--schedule <kind>', 'constant | cosine', 'cosine')
    .option('--min-lr-ratio <x>', 'cosine floor as a fraction of --lr', '0.1')
    .option('--weight-decay <x>', 'decoupled weight decay', '0')
    .option('--max-grad-norm <x>', 'gradient clipping norm', '1')
    .option('--beta <x>', 'dpo: β of the implicit reward (0.1); reinforce: KL coefficient (0.01)')
    .option('--samples-per-prompt <n>', 'reinforce: k samples per prompt', '4')
    .option('--max-new-tokens <n>', 'reinforce: longest sampled response', '48')
    .option('--temperature <x>', 'reinforce: sampling temperature', '1')
    .option('--set <key=value>', 'set an engine option verbatim (repeatable; validated against the engine\'s pinned definitions)', collect, [])
    .option('--cpus <n>', 'CPUs the job asks Ray for', '1')
    .option('--gpus <n>', 'GPUs the job asks Ray for', '0')
    .option('--seed <n>', 'random seed', '0')
    .option('--quiet', 'no announcement or notes', false)
    .addHelpText(
      'after',
      '\nFrom the toy recipe to a cluster (the README\'s three commands):\n' +
        '  steer export trl rm --loss scaled-bt --model rm/reg/model --pairs prep/pairs-train.jsonl --val-pairs prep/pairs-val.jsonl --out job-sbt\n' +
        '  steer launch job-sbt --ray http://HEAD:8265 --output /shared/runs/sbt\n' +
        '  steer import job-sbt --from /shared/runs/sbt --out rm/sbt-trl\n' +
        'Data are pre-tokenised by steer (the engine trains on exactly what steer scores); where the engine cannot\n' +
        'express the recipe exactly, the job README and stderr say what it does instead.',
    );
  cmd.action(async (engine: string, stage: string) => {
    const cfg = resolveConfig(
      cmd,
      z.strictObject({
        model: z.string().min(1),
        out: z.string().min(1),
        loss: z.string().optional(),
        pairs: z.array(z.string()),
        valPairs: z.array(z.string()),
        ratings: z.array(z.string()),
        valRatings: z.array(z.string()),
        data: z.array(z.string()),
        prompts: z.array(z.string()),
        rewardUrl: z.string().optional(),
        attributes: z.string().optional(),
        readSlot: z.string().optional(),
        maxLength: int.min(2).optional(),
        lr: num.positive().optional(),
        epochs: num.positive(),
        steps: int.min(1).optional(),
        batchSize: int.min(1).optional(),
        gradAccum: int.min(1),
        warmupSteps: int.min(0).optional(),
        schedule: z.enum(['constant', 'cosine']),
        minLrRatio: num.min(0).max(1),
        weightDecay: num.min(0),
        maxGradNorm: num.positive(),
        beta: num.min(0).optional(),
        samplesPerPrompt: int.min(2),
        maxNewTokens: int.min(1),
        temperature: num.positive(),
        set: z.array(z.string()),
        cpus: num.min(0),
        gpus: num.min(0),
        seed: int.min(0),
        quiet: z.boolean(),
      }),
    );
    announce(`export ${engine} ${stage}`, cfg, cfg.quiet);
    const { attributes, set, quiet, ...rest } = cfg;
    const r = await exportJob({
      ...rest,
      engine,
      stage,
      attributes: attributes?.split(',').map((s) => s.trim()),
      set: parseSetOptions(set),
      steerVersion: packageVersion(),
      log: quiet ? () => {} : undefined,
    });
    const rows = Object.entries(r.rows).map(([f, n]) => `${f} ${n} rows`).join(', ');
    process.stdout.write(`job for ${r.manifest.engine} ${r.manifest.engineVersion} ${r.manifest.stage} (${r.manifest.variant}) written to ${r.dir}: ${rows}${r.dropped ? `; ${r.dropped} rows dropped (too long)` : ''}\n  next: steer launch ${r.dir} --ray http://HEAD:8265\n`);
  });
}
