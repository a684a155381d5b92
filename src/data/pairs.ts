// Preference pairs {prompt, chosen, rejected, margin?} from every source steer reads
// (HelpSteer2-Preference, HH-RLHF, LLMBar, generic files), and batching that keeps a pair's two
// sequences in the same batch.
import { UserError, describeValue } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { aggregatePreference, type AggregatedPreference, type PreferenceAggregationOptions } from './aggregate.js';
import { splitHelpSteer2Prompt, type Turn } from './helpsteer2.js';

export interface PreferencePair {
  /** A user message, or turns ending with a user turn. */
  prompt: string | Turn[];
  chosen: string;
  rejected: string;
  /** How much better chosen is (≥ 0); HelpSteer2-Preference: |aggregated strength|, 1–3. */
  margin?: number;
  /** Where the pair came from ("file:line"), for error messages and audits. */
  source?: string;
}

// ---------------------------------------------------------------------------------------------
// HelpSteer2-Preference

export interface HelpSteer2PreferenceRow {
  split?: string;
  prompt: string;
  response_1: string;
  response_2: string;
  preference_strength?: number;
  preference_statement?: string;
  preference_elaboration?: string;
  three_most_similar_preferences?: { statement?: string; elaboration?: string; strength: number }[];
  all_preferences_unprocessed?: { strength: number; justification?: string }[];
}

export interface AggregatedPreferenceRow extends AggregatedPreference {
  /** Which field the strengths came from. */
  from: 'three_most_similar_preferences' | 'all_preferences_unprocessed' | 'preference_strength';
  /** The released preference_strength disagrees with the recomputed one (counted, not fatal). */
  mismatch: boolean;
}

/**
 * Aggregate one HelpSteer2-Preference row: NVIDIA's three most similar annotations when present,
 * else the three most similar of all annotations, else the released strength alone (which can
 * then only be filtered for ties).
 */
export function aggregatePreferenceRow(row: HelpSteer2PreferenceRow, opts: PreferenceAggregationOptions = {}): AggregatedPreferenceRow {
  let agg: AggregatedPreference;
  let from: AggregatedPreferenceRow['from'];
  if (row.three_most_similar_preferences && row.three_most_similar_preferences.length > 0) {
    agg = aggregatePreference(row.three_most_similar_preferences.map((p) => p.strength), opts);
    from = 'three_most_similar_preferences';
  } else if (row.all_preferences_unprocessed && row.all_preferences_unprocessed.some((p) => p.strength !== -100)) {
    agg = aggregatePreference(row.all_preferences_unprocessed.map((p) => p.strength), opts);
    from = 'all_preferences_unprocessed';
  } else if (row.preference_strength !== undefined) {
    agg = aggregatePreference([row.preference_strength], opts);
    from = 'preference_strength';
  } else {
    agg = aggregatePreference([], opts);
    from = 'preference_strength';
  }
  const mismatch = row.preference_strength !== undefined && agg.outcome !== 'no-annotations' && row.preference_strength !== agg.strength;
  return { ...agg, from, mismatch };
}

/** The pair a kept row gives: negative strength = response 1 better; margin = |strength|. */
export function preferencePair(row: HelpSteer2PreferenceRow, strength: number, source?: string): PreferencePair {
  if (!Number.isInteger(strength) || strength === 0 || Math.abs(strength) > 3) {
    throw new RangeError(`preferencePair: strength must be a non-zero integer in [-3, 3], got ${strength}`);
  }
  const first = strength < 0;
  return {
    prompt: helpSteer2Prompt(row.prompt),
    chosen: first ? row.response_1 : row.response_2,
    rejected: first ? row.response_2 : row.response_1,
    margin: Math.abs(strength),
    ...(source !== undefined ? { source } : {}),
  };
}

/** A HelpSteer2 prompt as steer holds prompts: the plain string when single-turn, else turns. */
export function helpSteer2Prompt(prompt: string): string | Turn[] {
  const turns = splitHelpSteer2Prompt(prompt);
  return turns.length === 1 ? prompt : turns;
}

// ---------------------------------------------------------------------------------------------
// Anthropic HH-RLHF

const HH_TURN = /\n\nAssistant:|\n\nHuman:/g;
const HH_ASSISTANT = '\n\nAssistant:';

function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Split a "\n\nHuman: … \n\nAssistant: …" transcript prefix into turns. */
export function parseHhTranscript(text: string): Turn[] {
  const turns: Turn[] = [];
  const marks = [...text.matchAll(HH_TURN)];
  if (marks.length === 0 || marks[0].index !== 0) {
    throw new UserError({ what: 'an HH-RLHF transcript must start with "\\n\\nHuman:"', received: describeValue(text), fix: 'pass the raw chosen/rejected transcript' });
  }
  marks.forEach((m, i) => {
    const start = m.index! + m[0].length;
    const end = i + 1 < marks.length ? marks[i + 1].index! : text.length;
    turns.push({ role: m[0].includes('Human') ? 'user' : 'assistant', content: text.slice(start, end).trim() });
  });
  return turns;
}

/**
 * One HH-RLHF row → a pair. The shared prompt is every turn before the last "\n\nAssistant:" that
 * both transcripts share; chosen/rejected are what follows it. In 2,307 of the 2,312
 * harmless-base test rows that is the final assistant turn; in 5, a transcript goes on for more
 * turns after the two diverge, and the response is that whole continuation.
 */
export function hhRlhfPair(row: { chosen: string; rejected: string }, source = 'HH-RLHF row'): PreferencePair {
  const common = commonPrefixLength(row.chosen, row.rejected);
  let cut = -1;
  for (let i = row.chosen.indexOf(HH_ASSISTANT); i >= 0 && i + HH_ASSISTANT.length <= common; i = row.chosen.indexOf(HH_ASSISTANT, i + 1)) cut = i;
  if (cut < 0) {
    throw new UserError({
      what: 'the chosen and rejected transcripts share no "\\n\\nAssistant:" turn',
      where: source,
      expected: 'two transcripts that agree up to the assistant turn being compared',
      received: describeValue(row.chosen.slice(0, 60)) + ' vs ' + describeValue(row.rejected.slice(0, 60)),
      fix: 'check that this is an HH-RLHF file (fields chosen/rejected hold full transcripts)',
    });
  }
  const promptTurns = parseHhTranscript(row.chosen.slice(0, cut));
  const chosen = row.chosen.slice(cut + HH_ASSISTANT.length).trim();
  const rejected = row.rejected.slice(cut + HH_ASSISTANT.length).trim();
  if (promptTurns[promptTurns.length - 1].role !== 'user') {
    throw new UserError({ what: 'the shared prompt does not end with a Human turn', where: source, received: describeValue(promptTurns[promptTurns.length - 1]), fix: 'check the transcript format' });
  }
  return { prompt: promptTurns, chosen, rejected, source };
}

// ---------------------------------------------------------------------------------------------
// LLMBar and generic pair files

export function llmBarPair(row: { input: string; output_1: string; output_2: string; label: 1 | 2 }, source?: string): PreferencePair {
  const first = row.label === 1;
  return { prompt: row.input, chosen: first ? row.output_1 : row.output_2, rejected: first ? row.output_2 : row.output_1, ...(source !== undefined ? { source } : {}) };
}

/** A generic pair row; `strength` (HelpSteer2-Preference files written by steer) becomes the margin. */
export function genericPair(
  row: { prompt: string | Turn[]; chosen: string; rejected: string; margin?: number; strength?: number },
  source = 'pair row',
): PreferencePair {
  if (row.margin !== undefined && row.strength !== undefined && row.margin !== row.strength) {
    throw new UserError({ what: 'a pair has both margin and strength, and they differ', where: source, received: `margin ${row.margin}, strength ${row.strength}`, fix: 'keep one of the two fields' });
  }
  const margin = row.margin ?? row.strength;
  return { prompt: row.prompt, chosen: row.chosen, rejected: row.rejected, ...(margin !== undefined ? { margin } : {}), source };
}

// ---------------------------------------------------------------------------------------------
// Batching

export interface PairBatchOptions {
  /** Pairs per batch (each pair is two sequences). */
  batchSize: number;
  /** Shuffle the order of pairs first (the pairs themselves are never split). */
  rng?: Rng;
  /** Drop a last batch smaller than batchSize. */
  dropLast?: boolean;
  /** Optional token budget per batch: 2 · pairs · longest sequence must not exceed it. */
  maxTokens?: number;
  /** Length (tokens) of a pair's longer sequence, required with maxTokens. */
  lengthOf?: (pair: number) => number;
}

/**
 * Batches of pair indices. Every pair lies wholly in one batch; the sequence layout a trainer
 * builds from a batch of B pairs is rows [0, B) chosen and [B, 2B) rejected (pair i = rows i and
 * B + i), the layout of TRL's and OpenRLHF's reward trainers — see pairBatchLayout.
 */
export function pairBatches(count: number, opts: PairBatchOptions): number[][] {
  const { batchSize, rng, dropLast = false, maxTokens, lengthOf } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`pairBatches: batchSize must be a positive integer, got ${batchSize}`);
  if (maxTokens !== undefined && lengthOf === undefined) throw new RangeError('pairBatches: maxTokens needs lengthOf');
  const order = Array.from({ length: count }, (_, i) => i);
  if (rng) rng.shuffle(order);
  const batches: number[][] = [];
  let cur: number[] = [];
  let longest = 0;
  for (const i of order) {
    const len = lengthOf ? lengthOf(i) : 0;
    if (maxTokens !== undefined && 2 * len > maxTokens) {
      throw new UserError({ what: `pair ${i} alone exceeds the token budget`, expected: `2 × its longer sequence <= ${maxTokens} tokens`, received: `2 × ${len}`, fix: 'raise the token budget or truncate long sequences' });
    }
    const wouldBe = Math.max(longest, len);
    if (cur.length > 0 && (cur.length === batchSize || (maxTokens !== undefined && 2 * (cur.length + 1) * wouldBe > maxTokens))) {
      batches.push(cur);
      cur = [];
      longest = 0;
    }
    cur.push(i);
    longest = Math.max(longest, len);
  }
  if (cur.length > 0 && !(dropLast && cur.length < batchSize)) batches.push(cur);
  return batches;
}

/** The sequences of a batch of pairs, chosen rows first: [c0 … cB−1, r0 … rB−1]. */
export function pairBatchLayout(pairs: readonly PreferencePair[]): { prompt: PreferencePair['prompt']; response: string }[] {
  return [...pairs.map((p) => ({ prompt: p.prompt, response: p.chosen })), ...pairs.map((p) => ({ prompt: p.prompt, response: p.rejected }))];
}
