// What reward-model training and evaluation read: preference pairs (with an optional margin and
// subset) and rated responses (per-attribute labels, −100 = unlabelled), from any file format
// src/data knows (its readers in data/load.ts), or from in-memory rows (the demo passes the toy
// world's rows directly).
import { basename } from 'node:path';
import { UserError } from '../util/errors.js';
import { keptPreferencePair, ratedFromHelpSteer2Row, readPairRecords, readRatedRecords, type RatedResponseRow } from '../data/load.js';
import type { HelpSteer2PreferenceRow, PreferencePair } from '../data/pairs.js';
import type { HelpSteer2Row } from '../data/helpsteer2.js';

/** A pair to train on or evaluate; `subset` groups results (RewardBench subset, file name). */
export interface RewardPair extends PreferencePair {
  subset?: string;
}

/** A response with attribute labels (absent = unlabelled): data/load.ts's rated row. */
export type RatedRow = RatedResponseRow;

/** HelpSteer2 rows (the toy world's ratingsTrain) → rated rows. */
export function ratedFromHelpSteer2(rows: readonly HelpSteer2Row[]): RatedRow[] {
  return rows.map(ratedFromHelpSteer2Row);
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
    const pair = keptPreferencePair(row, { maxSpread: opts.maxSpread ?? 2 });
    if (pair) out.push(pair);
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
  const notPairs = { what: (kind: string) => `a ${kind} record is not a preference pair`, fix: 'pass rated responses with --ratings, pairs with --pairs' };
  for await (const { kind, record, pair } of readPairRecords(path, { detect: 'record', notPairs })) {
    if (!pair) continue;
    const subsetField = typeof record.value.subset === 'string' ? record.value.subset : undefined;
    const byName = kind === 'llmbar' ? LLMBAR_REWARDBENCH_SUBSETS[fileSubset.toLowerCase()] : undefined;
    out.push({ ...pair, subset: subsetField ?? byName ?? fileSubset });
  }
  if (out.length === 0) throw new UserError({ what: 'no preference pairs in the file (after dropping ties and spread-out annotations)', where: path, fix: 'check the file; `steer data stats FILE` shows what it holds' });
  return out;
}

/** Every rated response of a file: HelpSteer2 rows, per-annotator rows (aggregated) or SteerLM rows (system prompt as a first turn). */
export async function readRatingFile(path: string): Promise<RatedRow[]> {
  const out: RatedRow[] = [];
  const notRatings = { what: (kind: string) => `a ${kind} record is not a rated response`, fix: 'pass preference pairs with --pairs, rated responses with --ratings' };
  for await (const { prompt, system, response, labels } of readRatedRecords(path, { detect: 'record', notRatings })) {
    const turns = typeof prompt === 'string' ? [{ role: 'user' as const, content: prompt }] : prompt;
    out.push({ prompt: system ? [{ role: 'system' as const, content: system }, ...turns] : prompt, response, labels });
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
