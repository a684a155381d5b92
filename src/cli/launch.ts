// `steer launch JOB_DIR --ray URL` and `steer jobs list|logs|stop`: exported jobs on a Ray cluster
// through its Jobs REST API (src/scale/ray.ts). launch's exit code is the job's.
import { resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { resolveConfig } from './command.js';
import { readJobDir, JOB_OUTPUT_ENV } from '../scale/job.js';
import { RayJobsClient, jobExitCode, submitJobDir, watchJob, type JobDetails } from '../scale/ray.js';
import { UserError } from '../util/errors.js';

const collect = (v: string, prev: string[]) => [...prev, v];
const RAY_HELP = 'the Ray dashboard address, e.g. http://HEAD:8265 (default: $RAY_ADDRESS)';

function envPairs(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError({ what: `--env ${JSON.stringify(s)} is not NAME=VALUE`, where: '--env', fix: 'write e.g. --env HF_HOME=/shared/hf' });
    out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return out;
}

function address(v: string | undefined): string {
  const a = v ?? process.env.RAY_ADDRESS;
  if (!a) throw new UserError({ what: 'no Ray address', where: '--ray', fix: 'pass --ray http://HEAD:8265 or set RAY_ADDRESS' });
  return a;
}

/** Follow a job, streaming its log to stdout; Ctrl-C stops it. Returns its final details. */
async function follow(client: RayJobsClient, id: string): Promise<JobDetails> {
  const ctl = new AbortController();
  const onSigint = () => {
    if (ctl.signal.aborted) process.exit(130);
    process.stderr.write(`\nsteer: stopping job ${id} (Ctrl-C again to leave it running and quit)\n`);
    ctl.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await watchJob(client, id, {
      signal: ctl.signal,
      onLog: (t) => process.stdout.write(t),
      onStatus: (d) => process.stderr.write(`steer: job ${id} ${d.status}${d.message ? `: ${d.message.split('\n')[0]}` : ''}\n`),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function finish(d: JobDetails): void {
  const code = jobExitCode(d);
  if (code !== 0) process.stderr.write(`steer: job ${d.submission_id} ${d.status}${d.message ? `: ${d.message.trim().split('\n').slice(-3).join(' | ')}` : ''} (exit ${code})\n`);
  process.exitCode = code;
}

export function registerLaunch(program: Command): void {
  const cmd = program
    .command('launch')
    .description('submit a job directory (from `steer export`) to a Ray cluster: upload it as the working_dir package, run its entry point, stream its log; the exit code is the job\'s')
    .argument('<job-dir>', 'a directory written by `steer export`')
    .option('--ray <url>', RAY_HELP)
    .option('--output <dir>', `where the job writes its result (its $${JOB_OUTPUT_ENV}): a path every node can write, e.g. shared storage (default: JOB_DIR/output, right for a cluster on this machine)`)
    .option('--submission-id <id>', 'the job\'s id (default: Ray picks one)')
    .option('--env <NAME=VALUE>', 'environment variable for the job (repeatable)', collect, [])
    .option('--no-follow', 'submit and return the job id without waiting');
  cmd.action(async (jobDir: string) => {
    const cfg = resolveConfig(cmd, z.strictObject({ ray: z.string().optional(), output: z.string().optional(), submissionId: z.string().optional(), env: z.array(z.string()), follow: z.boolean() }));
    const m = readJobDir(jobDir);
    const client = new RayJobsClient(address(cfg.ray));
    const rayVersion = await client.version();
    const output = resolve(cfg.output ?? resolve(jobDir, 'output'));
    const sub = await submitJobDir(client, jobDir, {
      output,
      entrypoint: m.entrypoint,
      cpus: m.resources.cpus,
      gpus: m.resources.gpus,
      submissionId: cfg.submissionId,
      env: { [JOB_OUTPUT_ENV]: output, ...envPairs(cfg.env) },
      metadata: { steer_stage: m.stage, steer_variant: m.variant, steer_engine: `${m.engine} ${m.engineVersion}` },
    });
    process.stderr.write(`steer: job ${sub.id} submitted to Ray ${rayVersion} at ${client.address} (${m.engine} ${m.stage} ${m.variant}; package ${sub.packageUri}, ${(sub.packageBytes / 1e6).toFixed(1)} MB); output ${output}\n`);
    if (!cfg.follow) {
      process.stdout.write(sub.id + '\n');
      return;
    }
    const d = await follow(client, sub.id);
    finish(d);
    if (d.status === 'SUCCEEDED') process.stderr.write(`steer: done. Bring it back: steer import ${jobDir} --from ${output} --out DIR\n`);
  });

  const jobs = program.command('jobs').description('jobs on a Ray cluster: list, logs, stop');
  const list = jobs.command('list').description('submitted jobs, newest last').option('--ray <url>', RAY_HELP).option('--json', 'print the JSON Ray returns', false);
  list.action(async () => {
    const cfg = resolveConfig(list, z.strictObject({ ray: z.string().optional(), json: z.boolean() }));
    const all = (await new RayJobsClient(address(cfg.ray)).list()).filter((j) => j.submission_id);
    all.sort((a, b) => (a.start_time ?? 0) - (b.start_time ?? 0));
    if (cfg.json) {
      process.stdout.write(JSON.stringify(all) + '\n');
      return;
    }
    for (const j of all) {
      const when = j.start_time ? new Date(j.start_time).toISOString().replace('T', ' ').slice(0, 19) : '';
      process.stdout.write(`${String(j.submission_id).padEnd(28)} ${j.status.padEnd(9)} ${when}  ${j.metadata?.steer_stage ? `${j.metadata.steer_engine} ${j.metadata.steer_stage} ${j.metadata.steer_variant}` : j.entrypoint}\n`);
    }
  });
  const logs = jobs.command('logs').description('a job\'s driver log').argument('<id>', 'submission id').option('--ray <url>', RAY_HELP).option('--follow', 'keep streaming until the job ends (exit code: the job\'s)', false);
  logs.action(async (id: string) => {
    const cfg = resolveConfig(logs, z.strictObject({ ray: z.string().optional(), follow: z.boolean() }));
    const client = new RayJobsClient(address(cfg.ray));
    if (cfg.follow) finish(await follow(client, id));
    else process.stdout.write(await client.logs(id));
  });
  const stop = jobs.command('stop').description('stop a running job').argument('<id>', 'submission id').option('--ray <url>', RAY_HELP);
  stop.action(async (id: string) => {
    const cfg = resolveConfig(stop, z.strictObject({ ray: z.string().optional() }));
    const stopped = await new RayJobsClient(address(cfg.ray)).stop(id);
    process.stdout.write(stopped ? `job ${id} stopping\n` : `job ${id} was not running\n`);
  });
}
