// What the admin page shows: progress, per-annotator throughput and agreement, and the tasks
// annotators disagree on. Agreement is the data layer's quadratic-weighted Cohen's κ
// (src/data/agreement.ts): overall over every within-task pair of annotations; per annotator over
// the pairs (their rating, another annotator's rating of the same response).
import { cohenKappa, summarizeAgreement, type AgreementSummary } from '../data/agreement.js';
import { threeMostSimilar } from '../data/aggregate.js';
import { PREFERENCE_CATEGORIES, RATING_CATEGORIES } from '../data/stats.js';
import { NEITHER_VALID } from './guidelines.js';
import type { AnnotationStore, StoredAnswer } from './store.js';

export interface AnnotatorStats {
  name: string;
  role: string;
  revoked: boolean;
  answers: number;
  answersLastHour: number;
  /** Median seconds from a task handed out to its answer saved. */
  medianSeconds: number;
  /** Quadratic-weighted κ of this annotator's helpfulness against the others' on shared responses. */
  helpfulnessKappa: number;
  /** Rating pairs the κ rests on. */
  pairs: number;
}

export interface LowAgreementTask {
  taskId: number;
  answers: number;
  target: number;
  /** max − min helpfulness over all answers, the wider of the two responses. */
  helpfulnessSpread: number;
  /** Spread of the three most similar preference strengths (NaN without two valid ones). */
  preferenceSpread: number;
}

export interface StudioStats {
  tasks: number;
  tasksComplete: number;
  tasksStarted: number;
  answersGiven: number;
  answersWanted: number;
  helpfulness: AgreementSummary;
  preference: AgreementSummary;
  annotators: AnnotatorStats[];
  lowAgreement: LowAgreementTask[];
}

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export function studioStats(store: AnnotationStore, opts: { maxSpread?: number; now?: number } = {}): StudioStats {
  const { maxSpread = 2, now = Date.now() } = opts;
  const tasks = store.allTasks();
  const answers = store.allAnswers();
  const byTask = new Map<number, StoredAnswer[]>();
  for (const a of answers) byTask.set(a.taskId, [...(byTask.get(a.taskId) ?? []), a]);

  const helpfulnessLists: number[][] = [];
  const preferenceLists: number[][] = [];
  const pairsOf = new Map<number, { mine: number[]; theirs: number[] }>();
  const lowAgreement: LowAgreementTask[] = [];
  let complete = 0;
  let wanted = 0;
  for (const t of tasks) {
    const list = byTask.get(t.id) ?? [];
    wanted += t.target;
    if (list.length >= t.target) complete++;
    const rated = list.filter((a) => a.ratings !== null);
    let hSpread = 0;
    for (const i of [0, 1]) {
      const hs = rated.map((a) => a.ratings![i].helpfulness);
      if (hs.length > 0) {
        helpfulnessLists.push(hs);
        hSpread = Math.max(hSpread, Math.max(...hs) - Math.min(...hs));
      }
      for (const a of rated) {
        const p = pairsOf.get(a.annotatorId) ?? { mine: [], theirs: [] };
        for (const b of rated) {
          if (b === a) continue;
          p.mine.push(a.ratings![i].helpfulness);
          p.theirs.push(b.ratings![i].helpfulness);
        }
        pairsOf.set(a.annotatorId, p);
      }
    }
    const strengths = list.map((a) => a.preference).filter((s) => s !== NEITHER_VALID);
    if (strengths.length > 0) preferenceLists.push(strengths);
    const pSpread = strengths.length >= 2 ? threeMostSimilar(strengths).spread : NaN;
    if (hSpread > maxSpread || pSpread > maxSpread) lowAgreement.push({ taskId: t.id, answers: list.length, target: t.target, helpfulnessSpread: hSpread, preferenceSpread: pSpread });
  }
  lowAgreement.sort((a, b) => Math.max(b.helpfulnessSpread, b.preferenceSpread || 0) - Math.max(a.helpfulnessSpread, a.preferenceSpread || 0) || a.taskId - b.taskId);

  const annotators = store.annotators().map((n): AnnotatorStats => {
    const mine = answers.filter((a) => a.annotatorId === n.id);
    const p = pairsOf.get(n.id) ?? { mine: [], theirs: [] };
    return {
      name: n.name,
      role: n.role,
      revoked: n.revoked,
      answers: mine.length,
      answersLastHour: mine.filter((a) => a.createdAt > now - 3600_000).length,
      medianSeconds: median(mine.filter((a) => a.leasedAt !== null).map((a) => (a.createdAt - a.leasedAt!) / 1000)),
      helpfulnessKappa: p.mine.length > 0 ? cohenKappa(p.mine, p.theirs, RATING_CATEGORIES, 'quadratic') : NaN,
      pairs: p.mine.length,
    };
  });
  return {
    tasks: tasks.length,
    tasksComplete: complete,
    tasksStarted: byTask.size,
    answersGiven: answers.length,
    answersWanted: wanted,
    helpfulness: summarizeAgreement(helpfulnessLists, RATING_CATEGORIES),
    preference: summarizeAgreement(preferenceLists, PREFERENCE_CATEGORIES),
    annotators,
    lowAgreement,
  };
}
