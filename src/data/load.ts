// Loading training data in the shapes trainers consume, whatever file format it came in. These are
// steer's only training-file readers: reward/ and policy/ wrap them with their own shapes and errors.
//   readPairRecords → one entry a record: its pair, or null when dropped (tie, spread, split, …)
//   readPairs       → PreferencePair[]   (steer/generic pairs, HH-RLHF, LLMBar, HelpSteer2-Preference
//                                         aggregated and filtered by the paper's rules)
//   readRatedRecords → one entry a record: prompt, response, labels by attribute name
//   readRatings     → RatedExample[]     (HelpSteer2 rows, per-annotator rows aggregated, SteerLM rows)
//   readPrompts     → PromptRow[]        (RL / evaluation prompt files)
//   readSft         → SftExample[]       (prompt/response demonstrations)
import { UserError } from '../util/errors.js';
import { z } from 'zod';
import { readRecords, type SourceRecord } from './read.js';
import {
  parseRecord,
  promptSchema,
  helpSteer2RowSchema,
  helpSteer2DisagreementRowSchema,
  helpSteer2PreferenceRowSchema,
  steerLmRowSchema,
  pairRowSchema,
  hhRlhfRowSchema,
  llmBarRowSchema,
} from './schema.js';
import { aggregateDisagreement, fromSteerLm, ratingLabels, HELPSTEER2_ATTRIBUTES, type HelpSteer2Row, type Turn } from './helpsteer2.js';
import { aggregatePreferenceRow, preferencePair, genericPair, hhRlhfPair, llmBarPair, helpSteer2Prompt, type HelpSteer2PreferenceRow, type PreferencePair } from './pairs.js';
import type { PreferenceAggregationOptions } from './aggregate.js';
import { detectKind, type DataKind } from './stats.js';

export interface RatedExample {
  prompt: string | Turn[];
  response: string;
  /** HelpSteer2 order (helpfulness, correctness, coherence, complexity, verbosity); −100 = unlabelled. */
  labels: number[];
  source: string;
}

export interface PromptRow {
  prompt: string | Turn[];
  source: string;
}

/** A (prompt, response) example to fine-tune on; `source` names its file and line when read from one. */
export interface SftExample {
  prompt: string | Turn[];
  response: string;
  source?: string;
}

// ---------------------------------------------------------------------------------------------
// What every reader shares: which format a record is in, and the error for one of the wrong kind

/**
 * How a reader tells a record's format: 'file' (default) takes the first record's for the whole
 * file, so a stray row fails on the field it lacks; 'record' looks at each one (mixed files).
 */
export type DetectFormat = 'file' | 'record';

/** The error a reader gives for a record of a format it does not take: its first line and fix. */
export interface WrongKindMessage {
  what: (kind: DataKind) => string;
  fix: string;
}

/** The fields that make a record of each format (what detectKind looks for, in full). */
const REQUIRED_FIELDS: Record<DataKind, readonly string[]> = {
  pairs: ['prompt', 'chosen', 'rejected'],
  'hh-rlhf': ['chosen', 'rejected'],
  llmbar: ['input', 'output_1', 'output_2', 'label'],
  'helpsteer2-preference': ['prompt', 'response_1', 'response_2'],
  helpsteer2: ['prompt', 'response', ...HELPSTEER2_ATTRIBUTES],
  'helpsteer2-disagreements': ['prompt', 'response', ...HELPSTEER2_ATTRIBUTES],
  steerlm: ['text', 'label'],
  sft: ['prompt', 'response'],
  prompts: ['prompt'],
};

/**
 * Each record with its format. Per-record detection ('record') keeps the format of the file's
 * earlier records when a record looks like none the reader takes: a pair row missing "rejected"
 * is then reported as that missing field, not as a record of another format.
 */
async function* recordsWithKind(path: string, detect: DetectFormat = 'file', accepted: readonly DataKind[] = []): AsyncGenerator<[SourceRecord, DataKind]> {
  let kind: DataKind | null = null;
  for await (const rec of readRecords(path)) {
    if (detect === 'record') {
      let k: DataKind | null;
      try {
        k = detectKind(rec);
      } catch (e) {
        if (kind === null || !accepted.includes(kind)) throw e;
        k = null;
      }
      kind = k !== null && (accepted.includes(k) || kind === null || !accepted.includes(kind)) ? k : kind!;
    } else kind = kind ?? detectKind(rec);
    yield [rec, kind];
  }
}

/**
 * A record of a format the reader does not take. When it has some of the fields of a format the
 * reader takes, the message names the fields it lacks (a missing field is the likelier mistake).
 */
function wrongKind(rec: SourceRecord, kind: DataKind, expected: string, m: WrongKindMessage, accepted: readonly DataKind[]): never {
  const fields = Object.keys(rec.value);
  let best: { kind: DataKind; missing: string[]; present: number } | null = null;
  for (const k of accepted) {
    const need = REQUIRED_FIELDS[k];
    const present = need.filter((f) => fields.includes(f)).length;
    const missing = need.filter((f) => !fields.includes(f));
    if (present > 0 && missing.length > 0 && (best === null || present > best.present || (present === best.present && missing.length < best.missing.length))) best = { kind: k, missing, present };
  }
  if (best !== null && best.present >= REQUIRED_FIELDS[kind].length) {
    throw new UserError({
      what: `missing field${best.missing.length > 1 ? 's' : ''} ${best.missing.map((f) => `"${f}"`).join(', ')} (the record reads as ${kind}; a ${best.kind} record needs ${REQUIRED_FIELDS[best.kind].join(', ')})`,
      where: `${rec.where} field ${best.missing[0]}`,
      expected,
      received: `fields ${fields.join(', ')}`,
      fix: `add ${best.missing.map((f) => `"${f}"`).join(', ')} to record ${rec.index}, or ${m.fix}`,
    });
  }
  throw new UserError({ what: m.what(kind), where: rec.where, expected, received: `fields ${fields.join(', ')}`, fix: m.fix });
}

// ---------------------------------------------------------------------------------------------
// Preference pairs

const PAIR_FORMATS = 'pairs {prompt, chosen, rejected, margin?|strength?, split?, subset?}, HelpSteer2-Preference rows, HH-RLHF {chosen, rejected} or LLMBar {input, output_1, output_2, label}';

export type PairKind = 'pairs' | 'hh-rlhf' | 'llmbar' | 'helpsteer2-preference';
const PAIR_KINDS: readonly DataKind[] = ['pairs', 'hh-rlhf', 'llmbar', 'helpsteer2-preference'];

export interface PairReadOptions extends PreferenceAggregationOptions {
  detect?: DetectFormat;
  /**
   * Keep rows of one split by their split field (HelpSteer2-Preference and generic pairs):
   * 'validation' keeps rows whose split starts with "val"; 'train' keeps the others and rows
   * without one; 'all' (default) keeps every row.
   */
  split?: 'train' | 'validation' | 'all';
  /** Drop generic pairs whose chosen and rejected are the same text (HelpSteer2-Preference rows with identical responses are always dropped). */
  dropIdentical?: boolean;
  notPairs?: WrongKindMessage;
}

export interface PairRecord {
  kind: PairKind;
  record: SourceRecord;
  /** null: the row was dropped (tie, spread too wide, identical responses, another split). */
  pair: PreferencePair | null;
}

const readPairsWrongKind: WrongKindMessage = {
  what: (kind) => `expected preference pairs, but this file is ${kind}`,
  fix: 'read rating files with readRatings / --ratings',
};

/**
 * A HelpSteer2-Preference row's pair by the paper's rules (three most similar strengths, mean,
 * round; negative = response 1 better), or null when dropped: a tie, a spread > maxSpread, or
 * two identical responses.
 */
export function keptPreferencePair(row: HelpSteer2PreferenceRow, opts: PreferenceAggregationOptions = {}, source?: string): PreferencePair | null {
  const agg = aggregatePreferenceRow(row, opts);
  return agg.outcome === 'kept' && row.response_1 !== row.response_2 ? preferencePair(row, agg.strength, source) : null;
}

/** Every record of a pair file, as a pair (or null where dropped); any other format is a UserError. */
export async function* readPairRecords(path: string, opts: PairReadOptions = {}): AsyncGenerator<PairRecord> {
  const { detect, split = 'all', dropIdentical = false, notPairs = readPairsWrongKind, ...aggregation } = opts;
  const inSplit = (s: string | undefined) => split === 'all' || (split === 'validation' ? s !== undefined && /^val/i.test(s) : s === undefined || !/^val/i.test(s));
  for await (const [record, kind] of recordsWithKind(path, detect, PAIR_KINDS)) {
    switch (kind) {
      case 'pairs': {
        const row = parseRecord(pairRowSchema, record, 'pair row');
        const keep = inSplit(row.split) && !(dropIdentical && row.chosen === row.rejected);
        yield { kind, record, pair: keep ? genericPair(row, record.where) : null };
        break;
      }
      case 'hh-rlhf':
        yield { kind, record, pair: hhRlhfPair(parseRecord(hhRlhfRowSchema, record, 'HH-RLHF row'), record.where) };
        break;
      case 'llmbar':
        yield { kind, record, pair: llmBarPair(parseRecord(llmBarRowSchema, record, 'LLMBar item'), record.where) };
        break;
      case 'helpsteer2-preference': {
        const row = parseRecord(helpSteer2PreferenceRowSchema, record, 'HelpSteer2-Preference row');
        yield { kind, record, pair: inSplit(row.split) ? keptPreferencePair(row, aggregation, record.where) : null };
        break;
      }
      default:
        wrongKind(record, kind, PAIR_FORMATS, notPairs, PAIR_KINDS);
    }
  }
}

/** Preference pairs from any pair-bearing format; HelpSteer2-Preference rows are aggregated and filtered. */
export async function readPairs(path: string, opts: PreferenceAggregationOptions = {}): Promise<PreferencePair[]> {
  const out: PreferencePair[] = [];
  for await (const { pair } of readPairRecords(path, opts)) if (pair) out.push(pair);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rated responses

const RATING_FORMATS = 'HelpSteer2 {prompt, response, helpfulness, correctness, coherence, complexity, verbosity}, per-annotator HelpSteer2 rows, or SteerLM {text, label}';

export type RatingKind = 'helpsteer2' | 'helpsteer2-disagreements' | 'steerlm';
const RATING_KINDS: readonly DataKind[] = ['helpsteer2', 'helpsteer2-disagreements', 'steerlm'];

export interface RatingReadOptions {
  detect?: DetectFormat;
  notRatings?: WrongKindMessage;
}

/** A rated response by attribute name (absent or undefined = unlabelled). */
export interface RatedResponseRow {
  prompt: string | Turn[];
  response: string;
  labels: Partial<Record<string, number>>;
}

export interface RatedRecord extends RatedResponseRow {
  kind: RatingKind;
  record: SourceRecord;
  /** A SteerLM row's system prompt (HelpSteer2 rows have none); not part of `prompt`. */
  system?: string;
}

/** A HelpSteer2 row as a rated response: its five attributes by name. */
export function ratedFromHelpSteer2Row(r: HelpSteer2Row): RatedResponseRow {
  const labels: Record<string, number> = {};
  for (const a of HELPSTEER2_ATTRIBUTES) labels[a] = r[a];
  return { prompt: helpSteer2Prompt(r.prompt), response: r.response, labels };
}

const readRatingsWrongKind: WrongKindMessage = {
  what: (kind) => `expected ratings (HelpSteer2, HelpSteer2 disagreements or SteerLM rows), but this file is ${kind}`,
  fix: 'read pair files with readPairs / --pairs',
};

/** Every record of a rating file; per-annotator rows are aggregated (three most similar). */
export async function* readRatedRecords(path: string, opts: RatingReadOptions = {}): AsyncGenerator<RatedRecord> {
  for await (const [record, kind] of recordsWithKind(path, opts.detect, RATING_KINDS)) {
    switch (kind) {
      case 'helpsteer2':
        yield { kind, record, ...ratedFromHelpSteer2Row(parseRecord(helpSteer2RowSchema, record, 'HelpSteer2 row')) };
        break;
      case 'helpsteer2-disagreements':
        yield { kind, record, ...ratedFromHelpSteer2Row(aggregateDisagreement(parseRecord(helpSteer2DisagreementRowSchema, record, 'HelpSteer2 disagreements row')).row) };
        break;
      case 'steerlm': {
        const r = fromSteerLm(parseRecord(steerLmRowSchema, record, 'SteerLM row'), record.where);
        yield { kind, record, prompt: helpSteer2Prompt(r.prompt), system: r.system, response: r.response, labels: r.labels };
        break;
      }
      default:
        wrongKind(record, kind, RATING_FORMATS, opts.notRatings ?? readRatingsWrongKind, RATING_KINDS);
    }
  }
}

/** Rated responses with their label vectors (a SteerLM row's system prompt is left out). */
export async function readRatings(path: string): Promise<RatedExample[]> {
  const out: RatedExample[] = [];
  for await (const r of readRatedRecords(path)) out.push({ prompt: r.prompt, response: r.response, labels: ratingLabels(r.labels), source: r.record.where });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Prompts and demonstrations

const promptRowSchema = z.object({ prompt: promptSchema });
const sftRowSchema = z.object({ prompt: promptSchema, response: z.string({ error: 'a string' }) });

/** Prompts from a file of {prompt, ...} rows (extra fields such as probe are ignored). */
export async function readPrompts(path: string): Promise<PromptRow[]> {
  const out: PromptRow[] = [];
  for await (const rec of readRecords(path)) out.push({ prompt: parseRecord(promptRowSchema, rec, 'prompt row').prompt, source: rec.where });
  return out;
}

/** Demonstrations from a file of {prompt, response, ...} rows. */
export async function readSft(path: string): Promise<SftExample[]> {
  const out: SftExample[] = [];
  for await (const rec of readRecords(path)) {
    const r = parseRecord(sftRowSchema, rec, 'SFT row');
    out.push({ prompt: r.prompt, response: r.response, source: rec.where });
  }
  return out;
}
