// `steer recipe run PLAN --out DIR` and `steer recipe example`: the whole recipe from one plan file
// (src/scale/recipe.ts), each stage in-process or through an engine on Ray.
import { Command } from 'commander';
import { z } from 'zod';
import { resolveConfig } from './command.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { exampleRecipe, readRecipe, runRecipe } from '../scale/recipe.js';

export function registerRecipe(program: Command): void {
  const recipe = program.command('recipe').description('the paper\'s recipe from one plan file: regression RM → Scaled BT from it → ExPO → REINFORCE → evaluations, each stage in-process or through an engine on Ray');
  const run = recipe
    .command('run')
    .description('run a plan\'s stages in order; finished stages are skipped when rerun')
    .argument('<plan>', 'a recipe JSON file (`steer recipe example` writes one)')
    .requiredOption('--out <dir>', 'directory for the stages\' outputs (DIR/<stage>/)');
  run.action(async (plan: string) => {
    const cfg = resolveConfig(run, z.strictObject({ out: z.string().min(1) }));
    const r = readRecipe(plan);
    const results = await runRecipe(r, { out: cfg.out });
    for (const s of results) process.stdout.write(`${s.name.padEnd(14)} ${s.kind.padEnd(10)} ${s.where.padEnd(12)} ${s.skipped ? 'skipped (done earlier)' : 'done'}${s.model ? `  ${s.model}` : ''}\n`);
  });
  const ex = recipe
    .command('example')
    .description('write the paper\'s recipe for the toy world\'s prepared files (see `steer rm --help`)')
    .requiredOption('--out <file>', 'the plan file to write')
    .option('--base <dir>', 'starting model of the reward models (default: a toy-sized model from scratch)')
    .option('--prep <dir>', 'output of `steer data prepare`', 'prep')
    .option('--prompts <file>', 'REINFORCE prompts', 'toy/rl-prompts.jsonl')
    .option('--sft <dir>', 'the policy REINFORCE starts from', 'sft/model')
    .option('--ray <url>', 'run the Scaled BT stage on TRL through this Ray cluster');
  ex.action(() => {
    const cfg = resolveConfig(ex, z.strictObject({ out: z.string().min(1), base: z.string().optional(), prep: z.string(), prompts: z.string(), sft: z.string(), ray: z.string().optional() }));
    const { out, ...o } = cfg;
    writeJsonAtomic(out, exampleRecipe(o));
    process.stdout.write(`recipe written to ${out}; run it with: steer recipe run ${out} --out runs/recipe\n`);
  });
}
