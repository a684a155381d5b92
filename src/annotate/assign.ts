// Assignment as HelpSteer2 collected its ratings (arXiv 2406.08673 §2.3): every task goes to
// `annotatorsPerTask` (3) annotators; when the first three disagree on helpfulness by more than
// `extraWhenSpreadAbove` (2) — max − min of their ratings of either response — `extraAnnotators`
// (2) more are asked, 5 in all. An annotator never gets a task twice, and a task handed out is
// leased: the slot is held for `leaseMs` and then offered to someone else.
//
// The target only ever grows: an edit that lowers the spread does not take back the extra slots.
import { z } from 'zod';

export interface AssignmentOptions {
  annotatorsPerTask: number;
  extraAnnotators: number;
  /** Ask for the extra annotators when the first annotators' helpfulness spread exceeds this. */
  extraWhenSpreadAbove: number;
  /** How long a handed-out task stays reserved for its annotator. */
  leaseMs: number;
}

export const DEFAULT_ASSIGNMENT: AssignmentOptions = { annotatorsPerTask: 3, extraAnnotators: 2, extraWhenSpreadAbove: 2, leaseMs: 30 * 60_000 };

export const assignmentSchema = z.strictObject({
  annotatorsPerTask: z.number().int().min(1).max(20),
  extraAnnotators: z.number().int().min(0).max(20),
  extraWhenSpreadAbove: z.number().int().min(0).max(4),
  leaseMs: z.number().int().min(1000),
});

/**
 * The number of annotations a task needs, given the helpfulness ratings of its first
 * `annotatorsPerTask` answers: `firstHelpfulness[k]` lists, per answer in submission order, the
 * ratings of response 1 and 2 (null for an answer that flagged the task invalid).
 *
 *   3 answers with response-1 helpfulness 4, 1, 3 → spread 4 − 1 = 3 > 2 → 3 + 2 = 5
 */
export function annotationTarget(firstHelpfulness: readonly ([number, number] | null)[], current: number, opts: AssignmentOptions): number {
  const base = Math.max(current, opts.annotatorsPerTask);
  if (firstHelpfulness.length < opts.annotatorsPerTask) return base;
  const rated = firstHelpfulness.slice(0, opts.annotatorsPerTask).filter((h): h is [number, number] => h !== null);
  if (rated.length < 2) return base;
  const spread = (i: 0 | 1) => Math.max(...rated.map((h) => h[i])) - Math.min(...rated.map((h) => h[i]));
  const wide = Math.max(spread(0), spread(1)) > opts.extraWhenSpreadAbove;
  return wide ? Math.max(base, opts.annotatorsPerTask + opts.extraAnnotators) : base;
}
