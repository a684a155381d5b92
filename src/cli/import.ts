// `steer import JOB_DIR --from OUTPUT --out DIR`: an engine's result back as a steer model directory.
import { Command } from 'commander';
import { z } from 'zod';
import { resolveConfig } from './command.js';
import { importJobOutput } from '../scale/import.js';

export function registerImport(program: Command): void {
  const cmd = program
    .command('import')
    .description('read what an exported job wrote (HF checkpoint, sharded or not, F32/F16/BF16; *ForSequenceClassification reward heads) back as a steer model directory')
    .argument('<job-dir>', 'the job directory `steer export` wrote (its manifest says what comes back and how to read it)')
    .requiredOption('--from <dir>', 'what the job wrote: the --output of `steer launch` (holding model/), or the model directory itself')
    .requiredOption('--out <dir>', 'the steer model directory to write (a reward model for rm jobs, a policy otherwise)')
    .addHelpText('after', '\nThen: `steer rm eval --model OUT pairs.jsonl`, `steer rm expo --weak … --strong OUT`, `steer generate --model OUT …`.');
  cmd.action((job: string) => {
    const cfg = resolveConfig(cmd, z.strictObject({ from: z.string().min(1), out: z.string().min(1) }));
    const r = importJobOutput({ job, from: cfg.from, out: cfg.out });
    process.stdout.write(`${r.kind === 'reward-model' ? 'reward model' : 'policy'} imported to ${r.dir} (${r.tensors} tensors)\n`);
  });
}
