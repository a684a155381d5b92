// Loading training data in the shapes trainers consume, whatever file format it came in:
//   readPairs   → PreferencePair[]   (steer/generic pairs, HH-RLHF, LLMBar, HelpSteer2-Preference
//                                     aggregated and filtered by the paper's rules)
//   readRatings → RatedExample[]     (HelpSteer2 rows, per-annotator rows aggregated, SteerLM rows)
//   readPrompts → PromptRow[]        (RL / evaluation prompt files)
//   readSft     → SftExample[]       (prompt/response demonstrations)
import { UserError } from '../util/errors.js';
import { z } from 'zod';
import { readRecords } from './read.js';
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
import { aggregateDisagreement, fromSteerLm, ratingLabels, HELPSTEER2_ATTRIBUTES, type Turn } from './helpsteer2.js';
import { aggregatePreferenceRow, preferencePair, genericPair, hhRlhfPair, llmBarPair, helpSteer2Prompt, type PreferencePair } from './pairs.js';
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

export interface SftExample {
  prompt: string | Turn[];
  response: string;
  source: string;
}

function wrongKind(where: string, kind: DataKind, wanted: string, fix: string): never {
  throw new UserError({ what: `expected ${wanted}, but this file is ${kind}`, where, fix });
}

/** Preference pairs from any pair-bearing format; HelpSteer2-Preference rows are aggregated and filtered. */
export async function readPairs(path: string, opts: PreferenceAggregationOptions = {}): Promise<PreferencePair[]> {
  const out: PreferencePair[] = [];
  let kind: DataKind | null = null;
  for await (const rec of readRecords(path)) {
    kind ??= detectKind(rec);
    switch (kind) {
      case 'pairs':
        out.push(genericPair(parseRecord(pairRowSchema, rec, 'pair row'), rec.where));
        break;
      case 'hh-rlhf':
        out.push(hhRlhfPair(parseRecord(hhRlhfRowSchema, rec, 'HH-RLHF row'), rec.where));
        break;
      case 'llmbar':
        out.push(llmBarPair(parseRecord(llmBarRowSchema, rec, 'LLMBar item'), rec.where));
        break;
      case 'helpsteer2-preference': {
        const row = parseRecord(helpSteer2PreferenceRowSchema, rec, 'HelpSteer2-Preference row');
        const agg = aggregatePreferenceRow(row, opts);
        if (agg.outcome === 'kept' && row.response_1 !== row.response_2) out.push(preferencePair(row, agg.strength, rec.where));
        break;
      }
      default:
        wrongKind(rec.where, kind, 'preference pairs', 'read rating files with readRatings / --ratings');
    }
  }
  return out;
}

/** Rated responses with their label vectors; per-annotator rows are aggregated (three most similar). */
export async function readRatings(path: string): Promise<RatedExample[]> {
  const out: RatedExample[] = [];
  let kind: DataKind | null = null;
  for await (const rec of readRecords(path)) {
    kind ??= detectKind(rec);
    switch (kind) {
      case 'helpsteer2': {
        const r = parseRecord(helpSteer2RowSchema, rec, 'HelpSteer2 row');
        out.push({ prompt: helpSteer2Prompt(r.prompt), response: r.response, labels: ratingLabels(r), source: rec.where });
        break;
      }
      case 'helpsteer2-disagreements': {
        const r = aggregateDisagreement(parseRecord(helpSteer2DisagreementRowSchema, rec, 'HelpSteer2 disagreements row')).row;
        out.push({ prompt: helpSteer2Prompt(r.prompt), response: r.response, labels: ratingLabels(r), source: rec.where });
        break;
      }
      case 'steerlm': {
        const rated = fromSteerLm(parseRecord(steerLmRowSchema, rec, 'SteerLM row'), rec.where);
        out.push({ prompt: helpSteer2Prompt(rated.prompt), response: rated.response, labels: HELPSTEER2_ATTRIBUTES.map((a) => rated.labels[a] ?? -100), source: rec.where });
        break;
      }
      default:
        wrongKind(rec.where, kind, 'ratings (HelpSteer2, HelpSteer2 disagreements or SteerLM rows)', 'read pair files with readPairs / --pairs');
    }
  }
  return out;
}

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
