// MT-Bench single-answer grading and pairwise comparison, as lm-sys/FastChat fastchat/llm_judge
// (common.py, gen_judgment.py, show_result.py @0e6d3e4) does it:
//   prompt: turn 1 → single-v1, or single-math-v1 with the GPT-4 reference answer when the
//           category is math/reasoning/coding; turn 2 → the "-multi-turn" variant (whole dialogue);
//   rating: first match of \[\[(\d+\.?\d*)\]\], else of \[(\d+\.?\d*)\], else −1;
//   score:  drop rows with score −1; turn means; the MT-Bench score is the mean over ALL remaining
//           rows of both turns pooled (not the mean of the two turn means);
//   pairwise: verdict [[A]]/[[B]]/[[C]] (or two scores within 0.1 → tie); a pair of games counts as a
//           win only when both position orders agree, else a tie; win_rate_adjusted = (win + ½tie)/n.
import { UserError, describeValue } from '../util/errors.js';
import { readJsonlObjects } from './files.js';

export interface JudgePrompt {
  name: string;
  type: 'single' | 'pairwise';
  systemPrompt: string;
  promptTemplate: string;
  /** "[[rating]]", "[[A]]" or "[[rating_a,rating_b]]" */
  outputFormat: string;
  category: string;
}

/** Categories whose questions are graded against a reference answer (gen_judgment.py NEED_REF_CATS). */
export const NEED_REF_CATS = ['math', 'reasoning', 'coding', 'arena-hard-200'];

export interface MtBenchQuestion {
  questionId: number | string;
  category: string;
  turns: string[];
}

/** Read FastChat's judge_prompts.jsonl. */
export function readJudgePrompts(path: string): Map<string, JudgePrompt> {
  const out = new Map<string, JudgePrompt>();
  for (const { line, value } of readJsonlObjects(path)) {
    const where = `${path}:${line}`;
    const str = (k: string) => {
      const v = value[k];
      if (typeof v !== 'string') throw new UserError({ what: `field "${k}" must be a string`, where, received: describeValue(v), fix: "use FastChat's data/judge_prompts.jsonl (fields name, type, system_prompt, prompt_template, output_format, category)" });
      return v;
    };
    const type = str('type');
    if (type !== 'single' && type !== 'pairwise') throw new UserError({ what: 'field "type" must be "single" or "pairwise"', where, received: describeValue(type), fix: "use FastChat's data/judge_prompts.jsonl" });
    out.set(str('name'), {
      name: str('name'),
      type,
      systemPrompt: str('system_prompt'),
      promptTemplate: str('prompt_template'),
      outputFormat: str('output_format'),
      category: typeof value.category === 'string' ? value.category : 'general',
    });
  }
  return out;
}

/** Read FastChat's question.jsonl ({question_id, category, turns}). */
export function readMtBenchQuestions(path: string): MtBenchQuestion[] {
  return readJsonlObjects(path).map(({ line, value }) => {
    const where = `${path}:${line}`;
    const turns = value.turns;
    if (!Array.isArray(turns) || turns.length === 0 || !turns.every((t) => typeof t === 'string')) {
      throw new UserError({ what: 'field "turns" must be a non-empty array of strings', where, received: describeValue(turns), fix: "use FastChat's data/mt_bench/question.jsonl" });
    }
    const id = value.question_id;
    if (typeof id !== 'number' && typeof id !== 'string') throw new UserError({ what: 'field "question_id" is missing', where, fix: 'every question needs a question_id' });
    return { questionId: id, category: typeof value.category === 'string' ? value.category : 'general', turns: turns as string[] };
  });
}

/**
 * Read answers in FastChat's model_answer format ({question_id, model_id, choices:[{turns}]}),
 * also accepting the flat {question_id, turns} form. Returns question_id → turns.
 */
export function readMtBenchAnswers(path: string): { model: string | null; answers: Map<string, string[]> } {
  const answers = new Map<string, string[]>();
  let model: string | null = null;
  for (const { line, value } of readJsonlObjects(path)) {
    const where = `${path}:${line}`;
    const choices = value.choices as unknown;
    const turns = Array.isArray(choices) && choices.length > 0 ? (choices[0] as { turns?: unknown }).turns : value.turns;
    if (!Array.isArray(turns) || !turns.every((t) => typeof t === 'string')) {
      throw new UserError({ what: 'no answer turns found', where, expected: '{"question_id", "choices": [{"turns": ["...", "..."]}]} or {"question_id", "turns": [...]}', received: describeValue(value), fix: 'write one JSON object per answered question' });
    }
    if (value.question_id === undefined) throw new UserError({ what: 'field "question_id" is missing', where, fix: 'every answer needs the question_id it answers' });
    if (typeof value.model_id === 'string') model ??= value.model_id;
    answers.set(String(value.question_id), turns as string[]);
  }
  return { model, answers };
}

/** The judge prompt FastChat uses for a question's category and turn, in single or pairwise mode. */
export function selectJudgePromptName(category: string, turn: 1 | 2, mode: 'single' | 'pairwise'): string {
  const math = NEED_REF_CATS.includes(category);
  const base = mode === 'single' ? (math ? 'single-math-v1' : 'single-v1') : math ? 'pair-math-v1' : 'pair-v2';
  return turn === 2 ? `${base}-multi-turn` : base;
}

/**
 * Python str.format with named fields: "{name}" is replaced (values are inserted verbatim, never
 * re-formatted), "{{" and "}}" are literal braces; an unknown field is an error, as in Python.
 */
export function formatTemplate(template: string, values: Readonly<Record<string, string>>): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '{') {
      if (template[i + 1] === '{') {
        out += '{';
        i++;
        continue;
      }
      const end = template.indexOf('}', i);
      if (end < 0) throw new RangeError(`format template: unmatched "{" at ${i}`);
      const name = template.slice(i + 1, end);
      if (!(name in values)) throw new RangeError(`format template: no value for field {${name}}`);
      out += values[name];
      i = end;
    } else if (c === '}') {
      if (template[i + 1] !== '}') throw new RangeError(`format template: single "}" at ${i}`);
      out += '}';
      i++;
    } else out += c;
  }
  return out;
}

export interface JudgeMessages {
  system: string;
  user: string;
}

/** run_judge_single: the judge's system and user messages for one answer at one turn. */
export function renderSingleJudgment(
  prompt: JudgePrompt,
  question: MtBenchQuestion,
  answerTurns: readonly string[],
  referenceTurns: readonly string[] | null,
  turn: 1 | 2,
): JudgeMessages {
  const refBased = NEED_REF_CATS.includes(prompt.category) || prompt.promptTemplate.includes('{ref_answer_1}');
  const kw: Record<string, string> = {};
  if (refBased) {
    if (!referenceTurns) throw new RangeError(`judge prompt ${prompt.name} needs a reference answer for question ${question.questionId}`);
    kw.ref_answer_1 = referenceTurns[0];
    if (turn === 2) kw.ref_answer_2 = referenceTurns[1];
  }
  const user =
    turn === 2
      ? formatTemplate(prompt.promptTemplate, { question_1: question.turns[0], question_2: question.turns[1], answer_1: answerTurns[0], answer_2: answerTurns[1], ...kw })
      : formatTemplate(prompt.promptTemplate, { question: question.turns[0], answer: answerTurns[0], ...kw });
  return { system: prompt.systemPrompt, user };
}

/** run_judge_pair: messages for one game with answer A shown first. */
export function renderPairJudgment(
  prompt: JudgePrompt,
  question: MtBenchQuestion,
  answerA: readonly string[],
  answerB: readonly string[],
  referenceTurns: readonly string[] | null,
  turn: 1 | 2,
): JudgeMessages {
  const refBased = NEED_REF_CATS.includes(prompt.category) || prompt.promptTemplate.includes('{ref_answer_1}');
  const kw: Record<string, string> = {};
  if (refBased) {
    if (!referenceTurns) throw new RangeError(`judge prompt ${prompt.name} needs a reference answer for question ${question.questionId}`);
    kw.ref_answer_1 = referenceTurns[0];
    if (turn === 2) kw.ref_answer_2 = referenceTurns[1];
  }
  const user =
    turn === 2
      ? formatTemplate(prompt.promptTemplate, {
          question_1: question.turns[0],
          question_2: question.turns[1],
          answer_a_1: answerA[0],
          answer_b_1: answerB[0],
          answer_a_2: answerA[1],
          answer_b_2: answerB[1],
          ...kw,
        })
      : formatTemplate(prompt.promptTemplate, { question: question.turns[0], answer_a: answerA[0], answer_b: answerB[0], ...kw });
  return { system: prompt.systemPrompt, user };
}

const ONE_SCORE = /\[\[(\d+\.?\d*)\]\]/;
const ONE_SCORE_BACKUP = /\[(\d+\.?\d*)\]/;
const TWO_SCORE = /\[\[(\d+\.?\d*),\s?(\d+\.?\d*)\]\]/;
const TWO_SCORE_BACKUP = /\[(\d+\.?\d*),\s?(\d+\.?\d*)\]/;
/** common.py TIE_DELTA: two scores this close are a tie. */
export const TIE_DELTA = 0.1;

/** The judge's rating: first [[x]], else first [x], else −1 (no sign, no spaces inside). */
export function extractRating(judgment: string): number {
  const m = ONE_SCORE.exec(judgment) ?? ONE_SCORE_BACKUP.exec(judgment);
  return m ? Number(m[1]) : -1;
}

export type PairWinner = 'A' | 'B' | 'tie' | 'error';

/** The winner of one pairwise game from the judge's text. */
export function extractPairWinner(judgment: string, outputFormat: string): PairWinner {
  if (outputFormat === '[[A]]') {
    if (judgment.includes('[[A]]')) return 'A';
    if (judgment.includes('[[B]]')) return 'B';
    if (judgment.includes('[[C]]')) return 'tie';
    return 'error';
  }
  if (outputFormat === '[[rating_a,rating_b]]') {
    const m = TWO_SCORE.exec(judgment) ?? TWO_SCORE_BACKUP.exec(judgment);
    if (!m) return 'error';
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (Math.abs(a - b) <= TIE_DELTA) return 'tie';
    return a > b ? 'A' : 'B';
  }
  throw new RangeError(`unknown pairwise output format ${JSON.stringify(outputFormat)}`);
}

export interface SingleJudgmentRow {
  model: string;
  turn: number;
  score: number;
}

export interface MtBenchModelScore {
  nRows: number;
  nValid: number;
  nValidTurn1: number;
  nValidTurn2: number;
  firstTurn: number;
  secondTurn: number;
  /** the MT-Bench score: mean over all valid rows of both turns */
  average: number;
  /** shown for comparison: (firstTurn + secondTurn)/2, which is NOT the official score */
  meanOfTurnMeans: number;
}

/** show_result.py display_result_single, per model (duplicated rows are kept, as it does). */
export function aggregateSingle(rows: readonly SingleJudgmentRow[]): Record<string, MtBenchModelScore> {
  const acc = new Map<string, { n: number; s1: number; n1: number; s2: number; n2: number; s: number; nv: number }>();
  for (const r of rows) {
    const a = acc.get(r.model) ?? { n: 0, s1: 0, n1: 0, s2: 0, n2: 0, s: 0, nv: 0 };
    a.n++;
    if (r.score !== -1) {
      a.s += r.score;
      a.nv++;
      if (r.turn === 1) {
        a.s1 += r.score;
        a.n1++;
      } else if (r.turn === 2) {
        a.s2 += r.score;
        a.n2++;
      }
    }
    acc.set(r.model, a);
  }
  const out: Record<string, MtBenchModelScore> = {};
  for (const [model, a] of acc) {
    const firstTurn = a.s1 / a.n1;
    const secondTurn = a.s2 / a.n2;
    out[model] = {
      nRows: a.n,
      nValid: a.nv,
      nValidTurn1: a.n1,
      nValidTurn2: a.n2,
      firstTurn,
      secondTurn,
      average: a.s / a.nv,
      meanOfTurnMeans: (firstTurn + secondTurn) / 2,
    };
  }
  return out;
}

export interface PairJudgmentRow {
  model1: string;
  model2: string;
  /** game 1 (model_1 shown as A) and game 2 (positions swapped), mapped back to model names */
  g1Winner: 'model_1' | 'model_2' | 'tie' | 'error';
  g2Winner: 'model_1' | 'model_2' | 'tie' | 'error';
}

export interface PairwiseModelScore {
  win: number;
  loss: number;
  tie: number;
  winRate: number;
  lossRate: number;
  winRateAdjusted: number;
}

/** show_result.py display_result_pairwise (optionally against one baseline, which is then removed). */
export function aggregatePairwise(rows: readonly PairJudgmentRow[], baseline?: string): Record<string, PairwiseModelScore> {
  const acc = new Map<string, { win: number; loss: number; tie: number }>();
  const add = (m: string, k: 'win' | 'loss' | 'tie') => {
    const a = acc.get(m) ?? { win: 0, loss: 0, tie: 0 };
    a[k]++;
    acc.set(m, a);
  };
  for (const r of rows) {
    if (r.g1Winner === 'error' || r.g2Winner === 'error') continue;
    if (baseline !== undefined && r.model1 !== baseline && r.model2 !== baseline) continue;
    if (r.g1Winner === 'tie' || r.g1Winner !== r.g2Winner) {
      add(r.model1, 'tie');
      add(r.model2, 'tie');
    } else {
      const winner = r.g1Winner === 'model_1' ? r.model1 : r.model2;
      const loser = r.g1Winner === 'model_1' ? r.model2 : r.model1;
      add(winner, 'win');
      add(loser, 'loss');
    }
  }
  const out: Record<string, PairwiseModelScore> = {};
  for (const [m, a] of acc) {
    if (m === baseline) continue;
    const n = a.win + a.loss + a.tie;
    out[m] = { ...a, winRate: a.win / n, lossRate: a.loss / n, winRateAdjusted: (a.win + 0.5 * a.tie) / n };
  }
  return out;
}

/** Map a game's A/B verdict to model names: game 1 shows model_1 as A, game 2 shows model_2 as A. */
export function mapGameWinner(winner: PairWinner, game: 1 | 2): PairJudgmentRow['g1Winner'] {
  if (winner === 'tie' || winner === 'error') return winner;
  if (game === 1) return winner === 'A' ? 'model_1' : 'model_2';
  return winner === 'A' ? 'model_2' : 'model_1';
}
