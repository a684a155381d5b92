// What reward-model training and evaluation read: preference pairs (with an optional margin and
// subset) and rated responses (per-attribute labels, −100 = unlabelled), from any file format
// src/data knows, or from in-memory rows (the demo passes the toy world's rows directly).
import { basename } from 'node:path';
import { UserError } from '../util/errors.js';
import { readRecords } from '../data/read.js';
import { detectKind } from '../data/stats.js';
import { parseRecord, pairRowSchema, hhRlhfRowSchema, llmBarRowSchema, helpSteer2RowSchema, helpSteer2PreferenceRowSchema, steerLmRowSchema, helpSteer2DisagreementRowSchema } from '../data/schema.js';
import { aggregatePreferenceRow, genericPair, hhRlhfPair, llmBarPair, preferencePair, helpSteer2Prompt, type HelpSteer2PreferenceRow, type PreferencePair } from '../data/pairs.js';
import { HELPSTEER2_ATTRIBUTES, aggregateDisagreement, fromSteerLm, type HelpSteer2Row } from '../data/helpsteer2.js';
import type { Prompt } from './encode.js';

/** A pair to train on or evaluate; `subset` groups results (RewardBench subset, file name). */
export interface RewardPair extends PreferencePair {
  subset?: string;
}

/** A response with attribute labels (absent = unlabelled). */
export interface RatedRow {
  prompt: Prompt;
  response: string;
  labels: Partial<Record<string, number>>;
}

/** HelpSteer2 rows (the toy world's ratingsTrain) → rated rows. */
export function ratedFromHelpSteer2(rows: readonly HelpSteer2Row[]): RatedRow[] {
  return rows.map((r) => {
    const labels: Record<string, number> = {};
    for (const a of HELPSTEER2_ATTRIBUTES) labels[a] = r[a];
    return { prompt: helpSteer2Prompt(r.prompt), response: r.response, labels };
  });
}

/**
 * HelpSteer2-Preference rows (raw, with annotator strengths) → pairs by the real rules: three most
 * similar strengths, mean, round; spread > maxSpread and ties dropped; negative = response_1 better.
 * `split` keeps only rows of that split ("train" / "validation").
 */
export function pairsFromPreferenceRows(rows: readonly HelpSteer2PreferenceRow[], opts: { split?: string; maxSpread?: number } = {}): RewardPair[] {
  const out: RewardPair[] = [];
  for (const row of rows) {
    if (opts.split !== undefined && row.split !== undefined && !sameSplit(row.split, opts.split)) continue;
    const agg = aggregatePreferenceRow(row, { maxSpread: opts.maxSpread ?? 2 });
    if (agg.outcome !== 'kept' || row.response_1 === row.response_2) continue;
    out.push(preferencePair(row, agg.strength));
  }
  return out;
}

function sameSplit(a: string, b: string): boolean {
  const norm = (s: string) => (/^val/i.test(s) ? 'validation' : s.toLowerCase());
  return norm(a) === norm(b);
}

/** LLMBar files by name → their RewardBench subsets (all five are in the Chat Hard section). */
export const LLMBAR_REWARDBENCH_SUBSETS: Readonly<Record<string, string>> = {
  natural: 'llmbar-natural',
  'adversarial-neighbor': 'llmbar-adver-neighbor',
  'adversarial-gptinst': 'llmbar-adver-GPTInst',
  'adversarial-gptout': 'llmbar-adver-GPTOut',
  'adversarial-manual': 'llmbar-adver-manual',
};

/** Every pair of a file: generic pairs (strength/margin, subset), HelpSteer2-Preference, HH-RLHF, LLMBar. */
export async function readPairFile(path: string): Promise<RewardPair[]> {
  const out: RewardPair[] = [];
  const fileSubset = basename(path).replace(/\.(jsonl|json|parquet|jsonl\.gz)$/i, '');
  for await (const rec of readRecords(path)) {
    const kind = detectKind(rec);
    const subsetField = typeof rec.value.subset === 'string' ? rec.value.subset : undefined;
    if (kind === 'pairs') {
      out.push({ ...genericPair(parseRecord(pairRowSchema, rec, 'pair row'), rec.where), subset: subsetField ?? fileSubset });
    } else if (kind === 'hh-rlhf') {
      out.push({ ...hhRlhfPair(parseRecord(hhRlhfRowSchema, rec, 'HH-RLHF row'), rec.where), subset: subsetField ?? fileSubset });
    } else if (kind === 'llmbar') {
      out.push({ ...llmBarPair(parseRecord(llmBarRowSchema, rec, 'LLMBar row'), rec.where), subset: subsetField ?? LLMBAR_REWARDBENCH_SUBSETS[fileSubset.toLowerCase()] ?? fileSubset });
    } else if (kind === 'helpsteer2-preference') {
      const row = parseRecord(helpSteer2PreferenceRowSchema, rec, 'HelpSteer2-Preference row');
      for (const p of pairsFromPreferenceRows([row])) out.push({ ...p, source: rec.where, subset: subsetField ?? fileSubset });
    } else {
      throw new UserError({
        what: `a ${kind} record is not a preference pair`,
        where: rec.where,
        expected: 'pairs {prompt, chosen, rejected, strength?|margin?, subset?}, HelpSteer2-Preference, HH-RLHF {chosen, rejected} or LLMBar {input, output_1, output_2, label}',
        received: `fields ${Object.keys(rec.value).join(', ')}`,
        fix: 'pass rated responses with --ratings, pairs with --pairs',
      });
    }
  }
  if (out.length === 0) throw new UserError({ what: 'no preference pairs in the file (after dropping ties and spread-out annotations)', where: path, fix: 'check the file; `steer data stats FILE` shows what it holds' });
  return out;
}

/** Every rated response of a file: HelpSteer2 rows, per-annotator rows (aggregated) or SteerLM rows. */
export async function readRatingFile(path: string): Promise<RatedRow[]> {
  const out: RatedRow[] = [];
  for await (const rec of readRecords(path)) {
    const kind = detectKind(rec);
    if (kind === 'helpsteer2') {
      out.push(...ratedFromHelpSteer2([parseRecord(helpSteer2RowSchema, rec, 'HelpSteer2 row')]));
    } else if (kind === 'helpsteer2-disagreements') {
      out.push(...ratedFromHelpSteer2([aggregateDisagreement(parseRecord(helpSteer2DisagreementRowSchema, rec, 'HelpSteer2 disagreements row')).row]));
    } else if (kind === 'steerlm') {
      const r = fromSteerLm(parseRecord(steerLmRowSchema, rec, 'SteerLM row'), rec.where);
      const turns = helpSteer2Prompt(r.prompt);
      const prompt = r.system ? [{ role: 'system' as const, content: r.system }, ...(typeof turns === 'string' ? [{ role: 'user' as const, content: turns }] : turns)] : turns;
      out.push({ prompt, response: r.response, labels: r.labels as Record<string, number> });
    } else {
      throw new UserError({
        what: `a ${kind} record is not a rated response`,
        where: rec.where,
        expected: 'HelpSteer2 {prompt, response, helpfulness, correctness, coherence, complexity, verbosity}, per-annotator HelpSteer2 rows, or SteerLM {text, label}',
        received: `fields ${Object.keys(rec.value).join(', ')}`,
        fix: 'pass preference pairs with --pairs, rated responses with --ratings',
      });
    }
  }
  if (out.length === 0) throw new UserError({ what: 'no rated responses in the file', where: path, fix: 'check the file; `steer data stats FILE` shows what it holds' });
  return out;
}

/** Labels of rows as a [R, N] row-major array over `attributes`, −100 where unlabelled. */
export function labelMatrix(rows: readonly RatedRow[], attributes: readonly string[]): Float32Array {
  const out = new Float32Array(rows.length * attributes.length);
  rows.forEach((r, i) => attributes.forEach((a, k) => (out[i * attributes.length + k] = r.labels[a] ?? -100)));
  return out;
}
