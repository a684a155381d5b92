// The options every trainer takes (reward models, SFT, DPO, REINFORCE) — one zod schema, used by
// the library (trainRewardModel, trainSft, …) and by the `steer` commands (src/cli), so both
// accept the same values with the same bounds and defaults. A trainer adds its own fields with
// `z.strictObject({ ...trainerFields(ITS_DEFAULTS), … })`; its defaults object is the one place
// its default steps, lr, schedule and warm-up are written (the CLI's --help prints them from it).
// Numbers are coerced (command-line flags arrive as strings). The cosine floor is one option,
// minLrRatio: lr(s) never falls below lr · minLrRatio (schedule.ts).
import { z } from 'zod';
import { UserError, describeValue } from '../util/errors.js';
import { LORA_TARGETS } from '../nn/lora.js';
import type { ScheduleOptions } from './schedule.js';

export interface TrainerDefaults {
  /** Optimizer updates (absent: the trainer works it out, e.g. from epochs). */
  steps?: number;
  lr: number;
  schedule?: 'constant' | 'cosine';
  warmupSteps?: number;
  minLrRatio?: number;
}

// Typed as numbers for library callers; strings (flags) are coerced at run time.
export const num = z.coerce.number<number>();
export const int = z.coerce.number<number>().int();
export const posInt = int.min(1);
/** A boolean from a config file or a flag. */
const bool = z.boolean();

/** LoRA options (src/nn/lora.ts); the CLI's --lora-* flags map onto them (src/cli/lora.ts). */
export const loraOptionsSchema = z.strictObject({
  rank: posInt,
  alpha: z.number().positive(),
  /** lora_dropout on the adapter input (PEFT); 0 = none */
  dropout: num.min(0).lt(1).default(0),
  targets: z.array(z.enum(LORA_TARGETS)).min(1).default(['q_proj', 'k_proj', 'v_proj', 'o_proj']),
});

/** Longest sequence in tokens: at least a prompt token and a response token. */
export const maxLengthSchema = int.min(2);

/** The shared fields, with this trainer's defaults. */
export function trainerFields(d: TrainerDefaults) {
  return {
    /** Run directory: metrics.jsonl, checkpoints/, the run config and the final model in model/. */
    out: z.string().min(1, { error: 'a run directory' }),
    steps: d.steps === undefined ? int.min(0).optional() : int.min(0).default(d.steps),
    /** Peak learning rate (AdamW). */
    lr: num.positive({ error: 'a positive learning rate, e.g. 1e-4' }).default(d.lr),
    schedule: z.enum(['constant', 'cosine']).default(d.schedule ?? 'constant'),
    warmupSteps: int.min(0).default(d.warmupSteps ?? 0),
    /** Cosine floor as a fraction of lr. */
    minLrRatio: num.min(0).max(1).default(d.minLrRatio ?? 0),
    /** Decoupled weight decay; 1-D weights (norm gains, biases) are exempt (src/train/steps.ts). */
    weightDecay: num.min(0).default(0),
    /** Clip gradients to this global norm (0: off). */
    maxGradNorm: num.min(0).default(1),
    seed: int.min(0).default(0),
    /** Engine threads (physical cores is fastest). */
    threads: int.min(1).max(256).default(2),
    quiet: bool.default(false),
    /** Save a checkpoint every N steps (0: only at the end). */
    checkpointEvery: int.min(0).default(0),
    keepCheckpoints: posInt.default(2),
    /** Evaluate every N steps (0: only at the end). */
    evalEvery: int.min(0).default(0),
    /** Continue from the newest checkpoint in out. */
    resume: bool.default(true),
    /** Bit-reproducible gradients (slower embedding gradient); absent: the trainer's default. */
    deterministic: bool.optional(),
    /** Idle engine threads spin (lowest latency on a quiet machine); false when other processes share the cores. */
    spinning: bool.default(true),
    /** Train a LoRA adapter on a frozen base instead of every weight. */
    lora: loraOptionsSchema.optional(),
  };
}

/** The resolved shared options (what trainerFields parses to). */
export type TrainerOptions = z.output<z.ZodObject<ReturnType<typeof trainerFields>>>;

/** Fixes for fields whose mistake has one obvious remedy. */
const FIXES: Record<string, string> = { out: 'pass out: "runs/x" (--out runs/x)' };

/** Validate a trainer's options (defaults applied, unknown keys rejected); errors name each field, what it expects and what it got. */
export function parseTrainerOptions<S extends z.ZodType>(schema: S, input: unknown, trainer: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const fixes: string[] = [];
  const lines = r.error.issues.map((i) => {
    const field = `${trainer}.${i.path.join('.') || '(root)'}`;
    if (i.code === 'unrecognized_keys') return `${field}: unknown key(s) ${i.keys.join(', ')}`;
    const received = i.path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined), input);
    if (FIXES[String(i.path[0])]) fixes.push(FIXES[String(i.path[0])]);
    return `${field}: expected: ${i.message}; received: ${describeValue(received)}`;
  });
  const command = trainer === 'rm' ? 'rm train' : trainer === 'reinforce' ? 'rl reinforce' : trainer;
  throw new UserError({ what: `invalid ${trainer} options\n  ${lines.join('\n  ')}`, where: `${trainer} options`, fix: [...fixes, `correct the listed fields; \`steer ${command} --help\` lists each option with its default`].join('; ') });
}

/** The learning-rate schedule of a run of `steps` steps (warm-up never longer than the run). */
export function scheduleFor(o: Pick<TrainerOptions, 'schedule' | 'lr' | 'warmupSteps' | 'minLrRatio'>, steps: number): Omit<ScheduleOptions, 'totalSteps'> {
  return { kind: o.schedule, peakLr: o.lr, warmupSteps: Math.min(o.warmupSteps, Math.max(0, steps - 1)), minLr: o.lr * o.minLrRatio };
}

/** The loop options (src/train/loop.ts) a trainer's options give. */
export function loopOptions(o: TrainerOptions, name: string, steps: number, show: string[]) {
  return { name, runDir: o.out, steps, schedule: scheduleFor(o, steps), checkpointEvery: o.checkpointEvery, keepCheckpoints: o.keepCheckpoints, evalEvery: o.evalEvery, resume: o.resume, quiet: o.quiet, show };
}
