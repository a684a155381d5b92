// `steer data prepare`: raw dataset files → training-ready files.
//   preferences (HelpSteer2-Preference) → aggregate (three most similar, round), drop spread > 2
//     and ties → pairs {prompt, chosen, rejected, strength} (strength = |aggregate|, 1–3)
//   ratings (HelpSteer2 rows, or per-annotator "disagreements" rows aggregated the same way)
//     → HelpSteer2 rows (and optionally NeMo-Aligner SteerLM rows)
//   pairs (generic {prompt, chosen, rejected, margin?}, HH-RLHF, LLMBar) → pairs
// then split into train/val and written atomically. Every input is read and validated before
// the first output is written, so a bad input leaves no output at all.
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { fnv1a32 } from '../util/rng.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { readRecords } from './read.js';
import {
  parseRecord,
  helpSteer2RowSchema,
  helpSteer2DisagreementRowSchema,
  helpSteer2PreferenceRowSchema,
  pairRowSchema,
  hhRlhfRowSchema,
  llmBarRowSchema,
} from './schema.js';
import { aggregateDisagreement, helpSteer2ToRated, toSteerLm, pythonJsonDumps, HELPSTEER2_ATTRIBUTES, type HelpSteer2Row } from './helpsteer2.js';
import { aggregatePreferenceRow, preferencePair, genericPair, hhRlhfPair, llmBarPair, type HelpSteer2PreferenceRow, type PreferencePair } from './pairs.js';
import { detectKind, preferenceAgreement, ratingAgreement, type AgreementReport } from './stats.js';

export interface PrepareOptions {
  /** HelpSteer2-Preference files (rows carry their own split). */
  preferences?: string[];
  /** HelpSteer2 rating files for training (HelpSteer2 rows or per-annotator rows). */
  ratings?: string[];
  /** HelpSteer2 rating files for validation; without them, valFraction of the prompts is held out. */
  ratingsVal?: string[];
  /** Generic pair, HH-RLHF or LLMBar files. */
  pairs?: string[];
  out: string;
  /** Share of prompts held out for validation where a source has no split of its own. */
  valFraction?: number;
  /** Drop aggregated tasks whose three most similar annotations span more than this. */
  maxSpread?: number;
  /** Seed of the held-out choice (a hash of seed and prompt). */
  seed?: number;
  /** Also write ratings in NeMo-Aligner's SteerLM regression format. */
  steerlm?: boolean;
}

export interface PrepareReport {
  outputs: Record<string, number>;
  preferences?: {
    rows: number;
    kept: number;
    droppedSpread: number;
    droppedTies: number;
    /** Kept by the rules but both responses are the same text: no signal, dropped. */
    droppedIdentical: number;
    noAnnotations: number;
    releasedStrengthDiffers: number;
    agreement: AgreementReport;
  };
  ratings?: { rows: number; kept: number; droppedSpread: number; helpfulnessAgreement?: AgreementReport };
  pairs?: { rows: number; droppedIdentical: number; bySource: Record<string, number> };
}

/** Deterministic held-out choice by prompt, so both responses/pairs of a prompt share a split. */
export function isHeldOut(prompt: string, valFraction: number, seed: number): boolean {
  return fnv1a32(`${seed}\u0000${prompt}`) / 4294967296 < valFraction;
}

const promptKey = (p: PreferencePair['prompt']) => (typeof p === 'string' ? p : JSON.stringify(p));

function pairLine(p: PreferencePair, strength: boolean): string {
  const row: Record<string, unknown> = { prompt: p.prompt, chosen: p.chosen, rejected: p.rejected };
  if (p.margin !== undefined) row[strength ? 'strength' : 'margin'] = p.margin;
  return JSON.stringify(row) + '\n';
}

export async function prepareData(opts: PrepareOptions): Promise<PrepareReport> {
  const { preferences = [], ratings = [], ratingsVal = [], pairs = [], out, valFraction = 0.05, maxSpread = 2, seed = 0, steerlm = false } = opts;
  if (preferences.length + ratings.length + ratingsVal.length + pairs.length === 0) {
    throw new UserError({ what: 'nothing to prepare', fix: 'pass at least one of --preferences, --ratings, --ratings-val, --pairs' });
  }
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new UserError({ what: 'the validation fraction must be in [0, 1)', where: '--val-fraction', received: String(valFraction), fix: 'e.g. --val-fraction 0.05' });
  }
  const report: PrepareReport = { outputs: {} };
  const files: Record<string, string> = {};

  // Preferences → pairs with strength.
  const prefTrain: string[] = [];
  const prefVal: string[] = [];
  if (preferences.length > 0) {
    const rows: HelpSteer2PreferenceRow[] = [];
    const r = { rows: 0, kept: 0, droppedSpread: 0, droppedTies: 0, droppedIdentical: 0, noAnnotations: 0, releasedStrengthDiffers: 0 };
    for (const file of preferences) {
      for await (const rec of readRecords(file)) {
        const row = parseRecord(helpSteer2PreferenceRowSchema, rec, 'HelpSteer2-Preference row');
        rows.push(row);
        r.rows++;
        const agg = aggregatePreferenceRow(row, { maxSpread });
        if (agg.mismatch) r.releasedStrengthDiffers++;
        if (agg.outcome === 'spread') r.droppedSpread++;
        else if (agg.outcome === 'tie') r.droppedTies++;
        else if (agg.outcome === 'no-annotations') r.noAnnotations++;
        else if (row.response_1 === row.response_2) r.droppedIdentical++;
        else {
          r.kept++;
          const pair = preferencePair(row, agg.strength);
          const val = row.split !== undefined ? /^val/i.test(row.split) : isHeldOut(row.prompt, valFraction, seed);
          (val ? prefVal : prefTrain).push(pairLine(pair, true));
        }
      }
    }
    report.preferences = { ...r, agreement: preferenceAgreement(rows, maxSpread) };
  }

  // Ratings → HelpSteer2 rows.
  const ratingRows: { train: HelpSteer2Row[]; val: HelpSteer2Row[] } = { train: [], val: [] };
  if (ratings.length + ratingsVal.length > 0) {
    const r = { rows: 0, kept: 0, droppedSpread: 0 };
    const helpfulness: number[][] = [];
    for (const [list, fixed] of [[ratings, ratingsVal.length > 0 ? 'train' : null], [ratingsVal, 'val']] as const) {
      for (const file of list) {
        for await (const rec of readRecords(file)) {
          r.rows++;
          let row: HelpSteer2Row;
          if (Array.isArray(rec.value.helpfulness)) {
            const d = parseRecord(helpSteer2DisagreementRowSchema, rec, 'HelpSteer2 disagreements row');
            helpfulness.push(d.helpfulness);
            const agg = aggregateDisagreement(d);
            if (agg.detail.helpfulness.spread > maxSpread) {
              r.droppedSpread++;
              continue;
            }
            row = agg.row;
          } else {
            row = parseRecord(helpSteer2RowSchema, rec, 'HelpSteer2 row');
          }
          r.kept++;
          const split = fixed ?? (isHeldOut(row.prompt, valFraction, seed) ? 'val' : 'train');
          const clean = { prompt: row.prompt, response: row.response } as HelpSteer2Row;
          for (const a of HELPSTEER2_ATTRIBUTES) clean[a] = row[a];
          ratingRows[split].push(clean);
        }
      }
    }
    report.ratings = { ...r, ...(helpfulness.length > 0 ? { helpfulnessAgreement: ratingAgreement(helpfulness, maxSpread) } : {}) };
  }

  // Generic / HH-RLHF / LLMBar pairs.
  const pairTrain: string[] = [];
  const pairVal: string[] = [];
  if (pairs.length > 0) {
    const bySource: Record<string, number> = {};
    let n = 0;
    let droppedIdentical = 0;
    for (const file of pairs) {
      let kind: string | null = null;
      for await (const rec of readRecords(file)) {
        kind ??= detectKind(rec);
        let pair: PreferencePair;
        let split: string | undefined;
        if (kind === 'pairs') {
          const row = parseRecord(pairRowSchema, rec, 'pair row');
          pair = genericPair(row, rec.where);
          split = row.split;
        } else if (kind === 'hh-rlhf') pair = hhRlhfPair(parseRecord(hhRlhfRowSchema, rec, 'HH-RLHF row'), rec.where);
        else if (kind === 'llmbar') pair = llmBarPair(parseRecord(llmBarRowSchema, rec, 'LLMBar item'), rec.where);
        else {
          throw new UserError({
            what: `--pairs takes pair files, but this is ${kind}`,
            where: rec.where,
            expected: 'rows {prompt, chosen, rejected, margin?}, HH-RLHF {chosen, rejected} or LLMBar {input, output_1, output_2, label}',
            fix: kind === 'helpsteer2-preference' ? 'pass HelpSteer2-Preference files with --preferences' : 'pass rating files with --ratings',
          });
        }
        n++;
        if (pair.chosen === pair.rejected) {
          droppedIdentical++;
          continue;
        }
        bySource[file] = (bySource[file] ?? 0) + 1;
        const val = split !== undefined ? /^val/i.test(split) : isHeldOut(promptKey(pair.prompt), valFraction, seed);
        (val ? pairVal : pairTrain).push(pairLine(pair, false));
      }
    }
    report.pairs = { rows: n, droppedIdentical, bySource };
  }

  if (preferences.length > 0 || pairs.length > 0) {
    files['pairs-train.jsonl'] = [...prefTrain, ...pairTrain].join('');
    files['pairs-val.jsonl'] = [...prefVal, ...pairVal].join('');
  }
  if (ratings.length + ratingsVal.length > 0) {
    files['ratings-train.jsonl'] = ratingRows.train.map((r) => JSON.stringify(r) + '\n').join('');
    files['ratings-val.jsonl'] = ratingRows.val.map((r) => JSON.stringify(r) + '\n').join('');
    if (steerlm) {
      files['ratings-train.steerlm.jsonl'] = ratingRows.train.map((r) => pythonJsonDumps(toSteerLm(helpSteer2ToRated(r))) + '\n').join('');
      files['ratings-val.steerlm.jsonl'] = ratingRows.val.map((r) => pythonJsonDumps(toSteerLm(helpSteer2ToRated(r))) + '\n').join('');
    }
  }
  for (const [name, content] of Object.entries(files)) {
    writeFileAtomic(join(out, name), content);
    report.outputs[name] = content === '' ? 0 : content.split('\n').length - 1;
  }
  writeJsonAtomic(join(out, 'prepare-report.json'), report);
  return report;
}
