// Reading the files the policy trainers take, with errors that name file, line and field:
//   SFT rows       {prompt, response}          (the toy world's sft.jsonl, HelpSteer2 rows, …)
//   prompt rows    {prompt}                     (rl-prompts.jsonl; rows with more fields are fine)
//   pairs          {prompt, chosen, rejected, margin?|strength?}, HH-RLHF, LLMBar, or raw
//                  HelpSteer2-Preference rows (aggregated by the paper's rules; ties/spread dropped)
// A prompt is a string or turns ending with a user turn.
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { readRecords } from '../data/read.js';
import { parseRecord, promptSchema, pairRowSchema, hhRlhfRowSchema, llmBarRowSchema, helpSteer2PreferenceRowSchema } from '../data/schema.js';
import { detectKind } from '../data/stats.js';
import { aggregatePreferenceRow, genericPair, hhRlhfPair, llmBarPair, preferencePair, type PreferencePair } from '../data/pairs.js';
import type { PolicyPrompt } from './codec.js';

export interface SftExample {
  prompt: PolicyPrompt;
  response: string;
}

const sftRowSchema = z.object({ prompt: promptSchema, response: z.string({ error: 'a string' }) });
const promptRowSchema = z.object({ prompt: promptSchema });

function emptyFile(path: string, what: string, example: string): never {
  throw new UserError({ what: `no ${what} in the file`, where: path, expected: `JSON lines like ${example}`, fix: 'check the path, or write at least one row' });
}

/** SFT examples from a file of {prompt, response} rows. */
export async function readSftFile(path: string): Promise<SftExample[]> {
  const out: SftExample[] = [];
  for await (const rec of readRecords(path)) {
    const r = parseRecord(sftRowSchema, rec, 'SFT row');
    out.push({ prompt: r.prompt, response: r.response });
  }
  if (out.length === 0) emptyFile(path, 'SFT rows', '{"prompt": "How many r in strawberry?", "response": "3"}');
  return out;
}

/** Prompts from a file of {prompt} rows. */
export async function readPromptsFile(path: string): Promise<PolicyPrompt[]> {
  const out: PolicyPrompt[] = [];
  for await (const rec of readRecords(path)) out.push(parseRecord(promptRowSchema, rec, 'prompt row').prompt);
  if (out.length === 0) emptyFile(path, 'prompts', '{"prompt": "How many r in strawberry?"}');
  return out;
}

export interface PairFile {
  pairs: PreferencePair[];
  /** Rows not turned into pairs (ties, spread > 2, identical responses, other split). */
  dropped: number;
}

/**
 * Preference pairs from a file. `split` picks HelpSteer2-Preference / generic rows by their split
 * field ('train' keeps rows without one); raw HelpSteer2-Preference rows are aggregated.
 */
export async function readPairsFile(path: string, opts: { split?: 'train' | 'validation' | 'all' } = {}): Promise<PairFile> {
  const split = opts.split ?? 'all';
  const inSplit = (s: string | undefined) => split === 'all' || (split === 'validation' ? s !== undefined && /^val/i.test(s) : s === undefined || !/^val/i.test(s));
  const pairs: PreferencePair[] = [];
  let dropped = 0;
  let kind: string | null = null;
  for await (const rec of readRecords(path)) {
    kind ??= detectKind(rec);
    if (kind === 'helpsteer2-preference') {
      const row = parseRecord(helpSteer2PreferenceRowSchema, rec, 'HelpSteer2-Preference row');
      const agg = aggregatePreferenceRow(row);
      if (!inSplit(row.split) || agg.outcome !== 'kept' || row.response_1 === row.response_2) {
        dropped++;
        continue;
      }
      pairs.push(preferencePair(row, agg.strength, rec.where));
    } else if (kind === 'pairs') {
      const row = parseRecord(pairRowSchema, rec, 'pair row');
      if (!inSplit(row.split) || row.chosen === row.rejected) {
        dropped++;
        continue;
      }
      pairs.push(genericPair(row, rec.where));
    } else if (kind === 'hh-rlhf') {
      pairs.push(hhRlhfPair(parseRecord(hhRlhfRowSchema, rec, 'HH-RLHF row'), rec.where));
    } else if (kind === 'llmbar') {
      pairs.push(llmBarPair(parseRecord(llmBarRowSchema, rec, 'LLMBar item'), rec.where));
    } else {
      throw new UserError({
        what: `expected preference pairs, but this is a ${kind} file`,
        where: rec.where,
        expected: 'pairs {prompt, chosen, rejected, margin?}, HelpSteer2-Preference rows, HH-RLHF {chosen, rejected} or LLMBar {input, output_1, output_2, label}',
        fix: 'pass a pair file (e.g. pairs-train.jsonl from `steer data prepare`, or helpsteer2/preference.jsonl of the toy world)',
      });
    }
  }
  if (pairs.length === 0) {
    throw new UserError({ what: `no usable preference pairs (${dropped} rows dropped: ties, spread > 2, identical responses or another split)`, where: path, fix: 'check the file and the split' });
  }
  return { pairs, dropped };
}
