// A job directory: what `steer export` writes and `steer launch` / `steer import` read.
//   steer-job.json   this manifest: engine and version, stage, what runs (entrypoint, resources),
//                    what comes back (a reward model or a policy) and what import needs to read it
//   README.md        what runs, what is exact and what is emulated
//   run.py, *.json   the entry script and the engine's config (validated at export)
//   data/            the stage's data in the engine's format
//   model/           the starting model in Hugging Face layout, tokenizer the engine can load
//   steer-tokenizer/ steer's own tokenizer of that model (import puts it back)
// The job writes its result under $STEER_JOB_OUTPUT (default ./output): model/ (HF layout) and
// steer-result.json.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { parseConfig } from '../util/config.js';
import { ENGINES, STAGES } from './engines.js';

export const JOB_MANIFEST = 'steer-job.json';
export const JOB_OUTPUT_ENV = 'STEER_JOB_OUTPUT';

export const rewardOutputSchema = z.strictObject({
  /** Slot names of the head the job trains (score.weight rows). */
  attributes: z.array(z.string()).min(1),
  rewardWeights: z.array(z.number()),
  /** score.bias to restore when the engine's head has none (LlamaForSequenceClassification). */
  bias: z.array(z.number()),
  textFormat: z.enum(['char-chat', 'transcript']),
  maxLength: z.number().int().min(1),
  loss: z.enum(['regression', 'bt', 'margin-bt', 'scaled-bt']),
  initFrom: z.string(),
});

export const jobManifestSchema = z.strictObject({
  format: z.literal('steer-job'),
  version: z.literal(1),
  engine: z.enum(ENGINES),
  engineVersion: z.string(),
  stage: z.enum(STAGES),
  /** rm: regression | bt | margin-bt | scaled-bt; dpo: regular | margin | scaled; sft, reinforce: the stage. */
  variant: z.string(),
  /** Shell command run in the job directory (Ray's entrypoint). */
  entrypoint: z.string().min(1),
  resources: z.strictObject({ cpus: z.number().min(0), gpus: z.number().min(0) }),
  /** pip packages the job needs, pinned (what the cluster's Python must have). */
  requirements: z.array(z.string()),
  output: z.enum(['reward-model', 'policy']),
  rewardModel: rewardOutputSchema.optional(),
  /** What the export does differently from steer's in-process stage (also in README.md). */
  emulations: z.array(z.string()),
  createdAt: z.string(),
  steerVersion: z.string(),
});
export type JobManifest = z.output<typeof jobManifestSchema>;

/** Read and check a job directory's manifest. */
export function readJobDir(dir: string): JobManifest {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError({ what: 'the job directory does not exist', where: dir, fix: 'pass a directory written by `steer export <engine> <stage> --out DIR`' });
  }
  const path = join(dir, JOB_MANIFEST);
  if (!existsSync(path)) {
    throw new UserError({ what: `not a steer job directory: no ${JOB_MANIFEST}`, where: dir, expected: `a directory written by \`steer export\` (${JOB_MANIFEST}, run.py, data/, model/)`, fix: 'export the stage first: `steer export trl rm --help`' });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError({ what: `${JOB_MANIFEST} is not valid JSON (${(e as Error).message})`, where: path, fix: 'export the job again' });
  }
  return parseConfig(jobManifestSchema, raw, path);
}
