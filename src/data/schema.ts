// Record schemas (zod) for every format steer reads, and the one validation function that turns
// a schema failure into a UserError naming file, line and field, what was expected, what was
// received and how to fix it.
import { z } from 'zod';
import { UserError, describeValue } from '../util/errors.js';
import type { SourceRecord } from './read.js';

/** An integer in [lo, hi]; the message is what a user sees as "expected". */
export function intIn(lo: number, hi: number) {
  const error = `an integer in [${lo}, ${hi}]`;
  return z.number({ error }).int({ error }).min(lo, { error }).max(hi, { error });
}

/**
 * The longest text field steer reads (characters): a row beyond it is almost surely a broken file
 * (a missing newline joining records), and would size every graph after it.
 */
export const MAX_TEXT_CHARS = 1_000_000;

const text = (what = 'a string') => z.string({ error: what }).max(MAX_TEXT_CHARS, { error: `a string of at most ${MAX_TEXT_CHARS} characters (steer's cap on one text field; split or shorten the text)` });

/** The largest pair margin accepted: HelpSteer2-Preference's are 1–3; beyond this a loss overflows float32. */
export const MAX_MARGIN = 100;

export const chatTurnSchema = z.object({
  role: z.enum(['system', 'user', 'assistant'], { error: 'one of "system", "user", "assistant"' }),
  content: text(),
});

/** A prompt: a plain user message, or turns ending with a user turn. */
export const promptSchema = z.union([z.string(), z.array(chatTurnSchema).min(1)], {
  error: 'a string, or an array of {role, content} turns',
});

/** HelpSteer2 (HF nvidia/HelpSteer2 train/validation): one rated response. */
export const helpSteer2RowSchema = z.object({
  prompt: text(),
  response: text(),
  helpfulness: intIn(0, 4),
  correctness: intIn(0, 4),
  coherence: intIn(0, 4),
  complexity: intIn(0, 4),
  verbosity: intIn(0, 4),
});

/** HelpSteer2 disagreements: every annotator's rating per attribute. */
const ratingsList = z.array(intIn(0, 4), { error: 'an array of integers in [0, 4] (one per annotator)' }).min(1, { error: 'at least one rating' });
export const helpSteer2DisagreementRowSchema = z.object({
  prompt: text(),
  response: text(),
  helpfulness: ratingsList,
  correctness: ratingsList,
  coherence: ratingsList,
  complexity: ratingsList,
  verbosity: ratingsList,
});

/** NeMo-Aligner regression format: the rendered conversation and 9 label slots (−100 = unlabelled). */
const steerLmLabelError = 'an integer rating in [0, 4], or -100 for an unlabelled attribute';
export const steerLmRowSchema = z.object({
  text: text(),
  label: z
    .array(
      z.number({ error: steerLmLabelError }).refine((v) => v === -100 || (Number.isInteger(v) && v >= 0 && v <= 4), { error: steerLmLabelError }),
      { error: 'an array of 9 numbers' },
    )
    .length(9, { error: 'exactly 9 label slots' }),
});

/** One annotator's preference; −100 marks an annotation flagged as invalid. */
const annotatorStrengthError = 'an integer in [-3, 3] (or -100 for an invalid annotation)';
const annotatorStrength = z
  .number({ error: annotatorStrengthError })
  .int({ error: annotatorStrengthError })
  .refine((v) => (v >= -3 && v <= 3) || v === -100, { error: annotatorStrengthError });

export const helpSteer2PreferenceRowSchema = z.object({
  split: text('a string ("train" or "validation")').optional(),
  prompt: text(),
  response_1: text(),
  response_2: text(),
  preference_strength: intIn(-3, 3).optional(),
  preference_statement: text().optional(),
  preference_elaboration: text().optional(),
  three_most_similar_preferences: z
    .array(z.object({ statement: text().optional(), elaboration: text().optional(), strength: intIn(-3, 3) }))
    .optional(),
  all_preferences_unprocessed: z.array(z.object({ strength: annotatorStrength, justification: text().optional() })).optional(),
});

/** Generic preference pairs; `strength` (HelpSteer2-Preference magnitude) is read as the margin. */
export const pairRowSchema = z.object({
  prompt: promptSchema,
  chosen: text(),
  rejected: text(),
  margin: z.number({ error: `a finite number in [0, ${MAX_MARGIN}]` }).min(0, { error: `a finite number in [0, ${MAX_MARGIN}]` }).max(MAX_MARGIN, { error: `a finite number in [0, ${MAX_MARGIN}] (larger margins overflow the loss)` }).optional(),
  strength: intIn(1, 3).optional(),
  split: text().optional(),
});

/** Anthropic HH-RLHF: two full transcripts sharing everything up to the last Assistant turn. */
export const hhRlhfRowSchema = z.object({ chosen: text(), rejected: text() });

/** LLMBar / RewardBench-style: which of two outputs is better. */
export const llmBarRowSchema = z.object({
  input: text(),
  output_1: text(),
  output_2: text(),
  label: z.union([z.literal(1), z.literal(2)], { error: '1 or 2 (the better output)' }),
});

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function fieldName(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : s === '' ? String(k) : `.${String(k)}`;
  return s || '(record)';
}

/**
 * Validate one record. `kind` names the format for the message ("HelpSteer2-Preference row").
 * Throws a UserError at `file:line field x` with expected/received/fix.
 */
export function parseRecord<S extends z.ZodType>(schema: S, rec: SourceRecord, kind: string): z.output<S> {
  const r = schema.safeParse(rec.value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path;
  let message = issue.message;
  if (issue.code === 'invalid_union' && message === 'Invalid input') message = 'a value of the documented type';
  const field = fieldName(path);
  const received = valueAt(rec.value, path);
  const missing = received === undefined && path.length > 0;
  throw new UserError({
    what: missing ? `${kind}: missing field "${field}"` : `${kind}: field "${field}" is invalid`,
    where: `${rec.where} field ${field}`,
    expected: message.replace(/^Invalid input: expected /, ''),
    received: missing ? 'nothing (the field is absent)' : describeValue(received),
    fix: missing ? `add "${field}" to record ${rec.index}, or check that this file is a ${kind} file` : `correct "${field}" in record ${rec.index}`,
  });
}
