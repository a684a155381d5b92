// Dataset statistics for `steer data stats`: counts, attribute histograms, annotator agreement
// (Cohen's κ before/after the aggregation filters) and lengths, for every format steer reads.
import { UserError } from '../util/errors.js';
import { codePointLength, summarizeLengths, type LengthSummary } from '../util/stats.js';
import type { TextTokenizer } from '../text/tokenizer.js';
import { threeMostSimilar } from './aggregate.js';
import { summarizeAgreement, type AgreementSummary } from './agreement.js';
import { HELPSTEER2_ATTRIBUTES, STEERLM_ATTRIBUTES, UNLABELLED, splitHelpSteer2Prompt } from './helpsteer2.js';
import { aggregatePreferenceRow, hhRlhfPair, llmBarPair, genericPair, type HelpSteer2PreferenceRow, type PreferencePair } from './pairs.js';
import { readRecords, type SourceRecord } from './read.js';
import {
  parseRecord,
  helpSteer2RowSchema,
  helpSteer2DisagreementRowSchema,
  helpSteer2PreferenceRowSchema,
  steerLmRowSchema,
  pairRowSchema,
  hhRlhfRowSchema,
  llmBarRowSchema,
} from './schema.js';

export const PREFERENCE_CATEGORIES = [-3, -2, -1, 0, 1, 2, 3];
export const RATING_CATEGORIES = [0, 1, 2, 3, 4];

export interface AgreementReport {
  tasks: number;
  kept: number;
  droppedSpread: number;
  droppedTies: number;
  /** Every annotation of every task. */
  before: AgreementSummary;
  /** The three most similar annotations of the tasks the filters keep. */
  after: AgreementSummary;
}

/** HelpSteer2-Preference agreement: all annotations vs the kept tasks' three most similar. */
export function preferenceAgreement(rows: readonly HelpSteer2PreferenceRow[], maxSpread = 2): AgreementReport {
  const before: number[][] = [];
  const after: number[][] = [];
  let droppedSpread = 0;
  let droppedTies = 0;
  for (const row of rows) {
    const all = row.all_preferences_unprocessed?.map((p) => p.strength).filter((s) => s !== -100) ?? row.three_most_similar_preferences?.map((p) => p.strength) ?? [];
    before.push(all);
    const agg = aggregatePreferenceRow(row, { maxSpread });
    if (agg.outcome === 'kept') after.push(agg.used);
    else if (agg.outcome === 'spread') droppedSpread++;
    else if (agg.outcome === 'tie') droppedTies++;
  }
  return { tasks: rows.length, kept: after.length, droppedSpread, droppedTies, before: summarizeAgreement(before, PREFERENCE_CATEGORIES), after: summarizeAgreement(after, PREFERENCE_CATEGORIES) };
}

/** Rating agreement for one attribute: all ratings vs the three most similar of tasks spanning <= maxSpread. */
export function ratingAgreement(tasks: readonly (readonly number[])[], maxSpread = 2): AgreementReport {
  const after: number[][] = [];
  let droppedSpread = 0;
  for (const t of tasks) {
    const ms = threeMostSimilar(t);
    if (ms.spread > maxSpread) droppedSpread++;
    else after.push(ms.values);
  }
  return { tasks: tasks.length, kept: after.length, droppedSpread, droppedTies: 0, before: summarizeAgreement(tasks, RATING_CATEGORIES), after: summarizeAgreement(after, RATING_CATEGORIES) };
}

// Response lengths: characters counted as Unicode code points (Python len(str), what AlpacaEval's
// length control uses) and, given a tokenizer, tokens; count, mean, median, p90, max (numpy's
// linear quantiles). The paper reports mean response length in characters (2,200 after REINFORCE
// vs 1,729). `steer data stats` and every evaluation report use this one summary.
export interface LengthStats {
  chars: LengthSummary;
  /** null when no tokenizer was given */
  tokens: LengthSummary | null;
}

export function lengthStats(texts: readonly string[], tokenizer?: Pick<TextTokenizer, 'encode'>): LengthStats {
  return {
    chars: summarizeLengths(texts.map(codePointLength)),
    tokens: tokenizer ? summarizeLengths(texts.map((t) => tokenizer.encode(t, { bos: false }).length)) : null,
  };
}

export type DataKind = 'helpsteer2' | 'helpsteer2-disagreements' | 'helpsteer2-preference' | 'steerlm' | 'pairs' | 'hh-rlhf' | 'llmbar' | 'sft' | 'prompts';

/** Which format a record is in, from its fields. */
export function detectKind(rec: SourceRecord): DataKind {
  const v = rec.value;
  const has = (k: string) => k in v;
  if (has('response_1') && has('response_2')) return 'helpsteer2-preference';
  if (has('text') && has('label')) return 'steerlm';
  if (has('input') && has('output_1')) return 'llmbar';
  if (has('chosen') && has('rejected')) return has('prompt') ? 'pairs' : 'hh-rlhf';
  if (has('prompt') && has('response') && has('helpfulness')) return Array.isArray(v.helpfulness) ? 'helpsteer2-disagreements' : 'helpsteer2';
  if (has('prompt') && has('response')) return 'sft';
  if (has('prompt')) return 'prompts';
  throw new UserError({
    what: 'cannot tell which dataset format this is',
    where: rec.where,
    expected: 'HelpSteer2 {prompt, response, helpfulness…}, HelpSteer2-Preference {prompt, response_1, response_2…}, SteerLM {text, label}, pairs {prompt, chosen, rejected}, HH-RLHF {chosen, rejected}, LLMBar {input, output_1, output_2, label}, SFT {prompt, response} or prompts {prompt}',
    received: `fields ${Object.keys(v).join(', ')}`,
    fix: 'convert the file to one of these formats',
  });
}

export interface FileStats {
  file: string;
  kind: DataKind;
  records: number;
  distinctPrompts?: number;
  multiTurnPrompts?: number;
  splits?: Record<string, number>;
  /** attribute → counts of 0…4 (HelpSteer2 / disagreements / SteerLM). */
  attributes?: Record<string, number[]>;
  annotatorsPerItem?: Record<string, number>;
  agreement?: Record<string, AgreementReport>;
  /** Released preference_strength, −3…3. */
  strengths?: number[];
  aggregation?: { kept: number; spread: number; tie: number; noAnnotations: number; mismatch: number };
  margins?: Record<string, number>;
  styles?: Record<string, number>;
  correctShare?: number;
  chosenLongerShare?: number;
  lengths: Record<string, LengthStats>;
}

function promptText(p: PreferencePair['prompt']): string {
  return typeof p === 'string' ? p : p.map((t) => t.content).join('\n');
}

/** Read a whole file and summarise it (the format is detected from the first record). */
export async function computeFileStats(path: string): Promise<FileStats> {
  let kind: DataKind | null = null;
  let records = 0;
  const prompts = new Set<string>();
  let multiTurn = 0;
  const texts: Record<string, string[]> = {};
  const push = (k: string, s: string) => (texts[k] ??= []).push(s);
  const hist = () => [0, 0, 0, 0, 0];
  const attributes: Record<string, number[]> = {};
  const disagreementLists: Record<string, number[][]> = {};
  const annotators: Record<string, number> = {};
  const prefRows: HelpSteer2PreferenceRow[] = [];
  const splits: Record<string, number> = {};
  const strengths = [0, 0, 0, 0, 0, 0, 0];
  const margins: Record<string, number> = {};
  const styles: Record<string, number> = {};
  let correct = 0;
  let correctSeen = 0;
  let chosenLonger = 0;
  const pairs: PreferencePair[] = [];

  for await (const rec of readRecords(path)) {
    kind ??= detectKind(rec);
    records++;
    switch (kind) {
      case 'helpsteer2': {
        const r = parseRecord(helpSteer2RowSchema, rec, 'HelpSteer2 row');
        prompts.add(r.prompt);
        if (splitHelpSteer2Prompt(r.prompt).length > 1) multiTurn++;
        for (const a of HELPSTEER2_ATTRIBUTES) (attributes[a] ??= hist())[r[a]]++;
        push('prompt', r.prompt);
        push('response', r.response);
        break;
      }
      case 'helpsteer2-disagreements': {
        const r = parseRecord(helpSteer2DisagreementRowSchema, rec, 'HelpSteer2 disagreements row');
        prompts.add(r.prompt);
        for (const a of HELPSTEER2_ATTRIBUTES) {
          for (const v of r[a]) (attributes[a] ??= hist())[v]++;
          (disagreementLists[a] ??= []).push(r[a]);
        }
        annotators[r.helpfulness.length] = (annotators[r.helpfulness.length] ?? 0) + 1;
        push('prompt', r.prompt);
        push('response', r.response);
        break;
      }
      case 'helpsteer2-preference': {
        const r = parseRecord(helpSteer2PreferenceRowSchema, rec, 'HelpSteer2-Preference row');
        prefRows.push(r);
        prompts.add(r.prompt);
        if (splitHelpSteer2Prompt(r.prompt).length > 1) multiTurn++;
        splits[r.split ?? '(none)'] = (splits[r.split ?? '(none)'] ?? 0) + 1;
        if (r.preference_strength !== undefined) strengths[r.preference_strength + 3]++;
        const n = r.all_preferences_unprocessed?.filter((p) => p.strength !== -100).length ?? r.three_most_similar_preferences?.length ?? 0;
        annotators[n] = (annotators[n] ?? 0) + 1;
        push('prompt', r.prompt);
        push('response', r.response_1);
        push('response', r.response_2);
        break;
      }
      case 'steerlm': {
        const r = parseRecord(steerLmRowSchema, rec, 'SteerLM row');
        STEERLM_ATTRIBUTES.forEach((a, i) => {
          const v = r.label[i];
          if (v === UNLABELLED) return;
          const h = (attributes[a] ??= hist());
          const k = Math.round(v);
          if (k >= 0 && k <= 4) h[k]++;
        });
        push('text', r.text);
        break;
      }
      case 'pairs':
        pairs.push(genericPair(parseRecord(pairRowSchema, rec, 'pair row'), rec.where));
        break;
      case 'hh-rlhf':
        pairs.push(hhRlhfPair(parseRecord(hhRlhfRowSchema, rec, 'HH-RLHF row'), rec.where));
        break;
      case 'llmbar':
        pairs.push(llmBarPair(parseRecord(llmBarRowSchema, rec, 'LLMBar item'), rec.where));
        break;
      case 'sft': {
        const v = rec.value;
        if (typeof v.prompt !== 'string' || typeof v.response !== 'string') {
          throw new UserError({ what: 'SFT row: prompt and response must be strings', where: rec.where, received: `prompt ${typeof v.prompt}, response ${typeof v.response}`, fix: `correct record ${rec.index}` });
        }
        prompts.add(v.prompt);
        push('prompt', v.prompt);
        push('response', v.response);
        if (typeof v.style === 'string') styles[v.style] = (styles[v.style] ?? 0) + 1;
        if (typeof v.correct === 'boolean') {
          correctSeen++;
          if (v.correct) correct++;
        }
        break;
      }
      case 'prompts': {
        const v = rec.value;
        const text = typeof v.prompt === 'string' ? v.prompt : JSON.stringify(v.prompt);
        prompts.add(text);
        push('prompt', text);
        break;
      }
    }
  }
  if (kind === null) {
    throw new UserError({ what: 'the file holds no records', where: path, fix: 'check that the file is not empty' });
  }
  for (const p of pairs) {
    const pt = promptText(p.prompt);
    prompts.add(pt);
    if (Array.isArray(p.prompt) && p.prompt.length > 1) multiTurn++;
    push('prompt', pt);
    push('chosen', p.chosen);
    push('rejected', p.rejected);
    if ([...p.chosen].length > [...p.rejected].length) chosenLonger++;
    const m = p.margin === undefined ? '(none)' : String(p.margin);
    margins[m] = (margins[m] ?? 0) + 1;
  }

  const out: FileStats = { file: path, kind, records, lengths: {} };
  for (const [k, list] of Object.entries(texts)) out.lengths[k] = lengthStats(list);
  if (prompts.size > 0) out.distinctPrompts = prompts.size;
  if (kind !== 'steerlm' && kind !== 'sft' && kind !== 'prompts') out.multiTurnPrompts = multiTurn;
  if (Object.keys(attributes).length > 0) out.attributes = attributes;
  if (Object.keys(annotators).length > 0) out.annotatorsPerItem = annotators;
  if (kind === 'helpsteer2-disagreements') {
    out.agreement = {};
    for (const a of HELPSTEER2_ATTRIBUTES) out.agreement[a] = ratingAgreement(disagreementLists[a]);
  }
  if (kind === 'helpsteer2-preference') {
    out.splits = splits;
    out.strengths = strengths;
    const agg = { kept: 0, spread: 0, tie: 0, noAnnotations: 0, mismatch: 0 };
    for (const r of prefRows) {
      const a = aggregatePreferenceRow(r);
      if (a.outcome === 'kept') agg.kept++;
      else if (a.outcome === 'spread') agg.spread++;
      else if (a.outcome === 'tie') agg.tie++;
      else agg.noAnnotations++;
      if (a.mismatch) agg.mismatch++;
    }
    out.aggregation = agg;
    out.agreement = { preference: preferenceAgreement(prefRows) };
  }
  if (pairs.length > 0) {
    out.margins = margins;
    out.chosenLongerShare = chosenLonger / pairs.length;
  }
  if (Object.keys(styles).length > 0) out.styles = styles;
  if (correctSeen > 0) out.correctShare = correct / correctSeen;
  return out;
}

const fmt = (x: number, d = 3) => (Number.isNaN(x) ? 'n/a' : Number.isInteger(x) ? String(x) : x.toFixed(d));

/** A human-readable report. */
export function formatFileStats(s: FileStats): string {
  const lines: string[] = [`${s.file}`, `  format            ${s.kind}`, `  records           ${s.records}`];
  if (s.distinctPrompts !== undefined) lines.push(`  distinct prompts  ${s.distinctPrompts}`);
  if (s.multiTurnPrompts !== undefined) lines.push(`  multi-turn        ${s.multiTurnPrompts}`);
  if (s.splits) lines.push(`  splits            ${Object.entries(s.splits).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (s.annotatorsPerItem) lines.push(`  annotators/item   ${Object.entries(s.annotatorsPerItem).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  if (s.attributes) {
    lines.push('  attribute histograms (0 1 2 3 4)');
    for (const [a, h] of Object.entries(s.attributes)) lines.push(`    ${a.padEnd(12)} ${h.map((x) => String(x).padStart(6)).join(' ')}`);
  }
  if (s.strengths) lines.push(`  preference_strength (-3 … 3)  ${s.strengths.join(' ')}`);
  if (s.aggregation) {
    const a = s.aggregation;
    lines.push(`  aggregation       kept ${a.kept}, spread > 2 ${a.spread}, ties ${a.tie}, no annotations ${a.noAnnotations}, released strength differs ${a.mismatch}`);
  }
  if (s.agreement) {
    lines.push("  agreement (Cohen's kappa, quadratic / unweighted; within-task pairs)");
    for (const [k, r] of Object.entries(s.agreement)) {
      lines.push(
        `    ${k.padEnd(12)} before ${fmt(r.before.kappaQuadratic)} / ${fmt(r.before.kappaUnweighted)} (${r.before.pairs} pairs, ${r.tasks} tasks)` +
          `  after ${fmt(r.after.kappaQuadratic)} / ${fmt(r.after.kappaUnweighted)} (${r.after.pairs} pairs, ${r.kept} kept)`,
      );
    }
  }
  if (s.margins) lines.push(`  margins           ${Object.entries(s.margins).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  if (s.chosenLongerShare !== undefined) lines.push(`  chosen longer     ${fmt(100 * s.chosenLongerShare, 1)} %`);
  if (s.styles) lines.push(`  styles            ${Object.entries(s.styles).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (s.correctShare !== undefined) lines.push(`  correct           ${fmt(100 * s.correctShare, 1)} %`);
  lines.push('  lengths (code points: mean / median / p90 / max)');
  for (const [k, { chars: l }] of Object.entries(s.lengths)) lines.push(`    ${k.padEnd(12)} ${fmt(l.mean, 1)} / ${fmt(l.median, 1)} / ${fmt(l.p90, 1)} / ${l.max}`);
  return lines.join('\n');
}

