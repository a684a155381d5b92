// The studio's answers as the datasets the recipe trains on, in the toy world's file layout so
// `steer data prepare` reads them unchanged:
//   helpsteer2/disagreements.jsonl  per response: {prompt, response, helpfulness: [..], …} — every
//                                   annotator's rating, in answer order (HelpSteer2 "disagreements")
//   helpsteer2/train.jsonl, validation.jsonl
//                                   per response: the HelpSteer2 row, each attribute the rounded mean
//                                   of its three most similar ratings (data/helpsteer2 aggregateDisagreement)
//   helpsteer2/preference.jsonl     per task: a HelpSteer2-Preference row — preference_strength = the
//                                   rounded mean of the three most similar strengths (data/aggregate),
//                                   three_most_similar_preferences, all_preferences_unprocessed (−100 =
//                                   "neither is valid" or a flagged task), split
//   helpsteer2/annotations.jsonl    per answer: the raw row (annotator, flags, both responses' ratings,
//                                   safety, strength, justification, times)
// Filtering (spread > 2, ties) is left to `steer data prepare`, as for the released datasets.
// A task's split is data/prepare's isHeldOut(prompt): both responses and the pair share it.
// HelpSteer2-Preference split each justification into a statement and an elaboration by hand;
// here the statement is the justification's first sentence and the elaboration the rest.
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { aggregatePreference, threeMostSimilar } from '../data/aggregate.js';
import { aggregateDisagreement, HELPSTEER2_ATTRIBUTES, type HelpSteer2Disagreement, type HelpSteer2Row } from '../data/helpsteer2.js';
import type { HelpSteer2PreferenceRow } from '../data/pairs.js';
import { isHeldOut } from '../data/prepare.js';
import { NEITHER_VALID } from './guidelines.js';
import type { AnnotationStore, StoredAnswer, Task } from './store.js';

export const EXPORT_FILES = {
  disagreements: 'helpsteer2/disagreements.jsonl',
  ratingsTrain: 'helpsteer2/train.jsonl',
  ratingsValidation: 'helpsteer2/validation.jsonl',
  preferences: 'helpsteer2/preference.jsonl',
  annotations: 'helpsteer2/annotations.jsonl',
  report: 'export-report.json',
} as const;

export interface ExportOptions {
  out: string;
  /** Export tasks that have not reached their number of annotators yet (default: only finished ones). */
  includeIncomplete?: boolean;
  /** Share of prompts in the validation split (data/prepare's isHeldOut). */
  valFraction?: number;
  seed?: number;
}

export interface ExportReport {
  tasks: number;
  tasksSkippedIncomplete: number;
  answers: number;
  flaggedAnswers: number;
  rows: Record<string, number>;
}

/** First sentence, then the rest. */
export function splitJustification(text: string): { statement: string; elaboration: string } {
  const t = text.trim();
  const m = /^(.*?[.!?])\s+(\S[\s\S]*)$/.exec(t);
  return m ? { statement: m[1], elaboration: m[2] } : { statement: t, elaboration: '' };
}

export interface ExportRows {
  disagreements: HelpSteer2Disagreement[];
  ratings: { row: HelpSteer2Row; split: 'train' | 'validation' }[];
  preferences: HelpSteer2PreferenceRow[];
  annotations: Record<string, unknown>[];
}

/** The rows of one task's answers (in seq order). */
export function taskRows(task: Task, answers: readonly StoredAnswer[], split: 'train' | 'validation'): ExportRows {
  const out: ExportRows = { disagreements: [], ratings: [], preferences: [], annotations: [] };
  const rated = answers.filter((a) => a.ratings !== null);
  const responses = [task.response1, task.response2];
  if (rated.length > 0) {
    responses.forEach((response, i) => {
      const d = { prompt: task.prompt, response } as HelpSteer2Disagreement;
      for (const attr of HELPSTEER2_ATTRIBUTES) d[attr] = rated.map((a) => a.ratings![i][attr]);
      out.disagreements.push(d);
      out.ratings.push({ row: aggregateDisagreement(d).row, split });
    });
  }
  const valid = answers.filter((a) => a.preference !== NEITHER_VALID);
  const row: HelpSteer2PreferenceRow = { split, prompt: task.prompt, response_1: task.response1, response_2: task.response2 };
  if (valid.length > 0) {
    const strengths = valid.map((a) => a.preference);
    const agg = aggregatePreference(strengths, { dropTies: false });
    const similar = threeMostSimilar(strengths).indices;
    const closest = similar.reduce((best, j) => (Math.abs(strengths[j] - agg.strength) < Math.abs(strengths[best] - agg.strength) ? j : best), similar[0]);
    const notes = valid.map((a) => splitJustification(a.justification));
    row.preference_strength = agg.strength;
    row.preference_statement = notes[closest].statement;
    row.preference_elaboration = notes[closest].elaboration;
    row.three_most_similar_preferences = similar.map((j) => ({ statement: notes[j].statement, elaboration: notes[j].elaboration, strength: strengths[j] }));
  }
  row.all_preferences_unprocessed = answers.map((a) => ({ strength: a.preference, justification: a.justification }));
  out.preferences.push(row);
  for (const a of answers) {
    out.annotations.push({
      task_id: task.id,
      annotator: a.annotator,
      seq: a.seq,
      split,
      prompt: task.prompt,
      response_1: task.response1,
      response_2: task.response2,
      flags: a.flags,
      ratings_1: a.ratings ? a.ratings[0] : null,
      ratings_2: a.ratings ? a.ratings[1] : null,
      unsafe_1: a.unsafe[0],
      unsafe_2: a.unsafe[1],
      preference_strength: a.preference,
      justification: a.justification,
      revision: a.revision,
      leased_at: a.leasedAt === null ? null : new Date(a.leasedAt).toISOString(),
      created_at: new Date(a.createdAt).toISOString(),
      updated_at: new Date(a.updatedAt).toISOString(),
    });
  }
  return out;
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

/** Write the export files (each atomically) and the report. */
export function exportStudio(store: AnnotationStore, opts: ExportOptions): ExportReport {
  const { out, includeIncomplete = false, valFraction = 0.05, seed = 0 } = opts;
  const byTask = new Map<number, StoredAnswer[]>();
  for (const a of store.allAnswers()) {
    const list = byTask.get(a.taskId) ?? [];
    list.push(a);
    byTask.set(a.taskId, list);
  }
  const all: ExportRows = { disagreements: [], ratings: [], preferences: [], annotations: [] };
  const report: ExportReport = { tasks: 0, tasksSkippedIncomplete: 0, answers: 0, flaggedAnswers: 0, rows: {} };
  for (const task of store.allTasks()) {
    const answers = byTask.get(task.id) ?? [];
    if (answers.length === 0) continue;
    if (answers.length < task.target && !includeIncomplete) {
      report.tasksSkippedIncomplete++;
      continue;
    }
    const rows = taskRows(task, answers, isHeldOut(task.prompt, valFraction, seed) ? 'validation' : 'train');
    for (const k of Object.keys(all) as (keyof ExportRows)[]) (all[k] as unknown[]).push(...rows[k]);
    report.tasks++;
    report.answers += answers.length;
    report.flaggedAnswers += answers.filter((a) => a.flags.length > 0).length;
  }
  const files: Record<string, string> = {
    [EXPORT_FILES.disagreements]: jsonl(all.disagreements),
    [EXPORT_FILES.ratingsTrain]: jsonl(all.ratings.filter((r) => r.split === 'train').map((r) => r.row)),
    [EXPORT_FILES.ratingsValidation]: jsonl(all.ratings.filter((r) => r.split === 'validation').map((r) => r.row)),
    [EXPORT_FILES.preferences]: jsonl(all.preferences),
    [EXPORT_FILES.annotations]: jsonl(all.annotations),
  };
  for (const [name, content] of Object.entries(files)) {
    writeFileAtomic(join(out, name), content);
    report.rows[name] = content === '' ? 0 : content.split('\n').length - 1;
  }
  writeJsonAtomic(join(out, EXPORT_FILES.report), report);
  return report;
}
