// The toy world (docs/recipe.md, the toy world): a complete, seeded stand-in for HelpSteer2 + HelpSteer2-Preference
// that steer's demo trains on. It holds
//   - tasks with checkable answers (tasks.ts) asked with short prompts,
//   - responses in several styles with hidden true attribute values (styles.ts),
//   - a simulated panel of annotators with rater bias and noise: 3 per item, up to 5 when the
//     first ones disagree by more than 2 (as HelpSteer2 did), giving integer 0–4 ratings and
//     −3…3 preference strengths with short justifications,
//   - aggregation by the real rules (aggregate.ts), written in the HelpSteer2 and
//     HelpSteer2-Preference formats, plus an SFT set (a mix of styles, so a policy trained on it
//     is imperfect), RL prompts, held-out evaluation prompts and a ground-truth file.
// Everything is drawn from named Rng streams of one seed: the same seed gives the same bytes.
import { join } from 'node:path';
import { Rng } from '../../util/rng.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { UserError } from '../../util/errors.js';
import { CharTokenizer } from '../../text/char.js';
import { aggregateRating, aggregatePreference, threeMostSimilar } from '../aggregate.js';
import { HELPSTEER2_ATTRIBUTES, type HelpSteer2Row, type HelpSteer2Disagreement } from '../helpsteer2.js';
import type { HelpSteer2PreferenceRow } from '../pairs.js';
import { preferenceAgreement, ratingAgreement, type AgreementReport } from '../stats.js';
import { readRecords } from '../read.js';
import { parseRecord } from '../schema.js';
import { groundTruthRowSchema } from './schema.js';
import { TOY_WORDS } from './words.js';
import { TOY_TASK_KINDS, makeTask, renderPrompt, taskFromPrompt, PROMPT_TEMPLATES, type ToyTask, type ToyTaskKind } from './tasks.js';
import { assessResponse, makeResponse, TOY_STYLES, type ToyResponse, type ToyStyle } from './styles.js';

export const TOY_WORLD_VERSION = 2;

export interface ToyWorldOptions {
  seed: number;
  /** Prompts in the rated (HelpSteer2) set; the other sets scale with it. Default 1000. */
  size?: number;
  /**
   * Held-out evaluation prompts beyond the world's own (max(100, size/5)), drawn after every other
   * set so that those stay what they are for the seed (default 0). The pool is then short of
   * first-letter, spelling and reversal prompts (the other sets used them up), so these lean to
   * counts and sums.
   */
  extraEvalPrompts?: number;
}

export interface ToyPrompt {
  prompt: string;
  task: ToyTask;
}

export interface GroundTruthRow {
  prompt: string;
  kind: ToyTaskKind;
  word?: string;
  letter?: string;
  a?: number;
  b?: number;
  answer: string;
  probe?: true;
}

export interface SftRow {
  prompt: string;
  response: string;
  style: ToyStyle;
  correct: boolean;
}

export interface ToyWorld {
  seed: number;
  size: number;
  /** Held-out prompts drawn after the other sets (ToyWorldOptions.extraEvalPrompts). */
  extraEvalPrompts: number;
  ratingsTrain: HelpSteer2Row[];
  ratingsValidation: HelpSteer2Row[];
  disagreements: HelpSteer2Disagreement[];
  preferences: HelpSteer2PreferenceRow[];
  sft: SftRow[];
  rlPrompts: { prompt: string }[];
  evalPrompts: { prompt: string; probe?: true }[];
  groundTruth: GroundTruthRow[];
  agreement: { preferences: AgreementReport; helpfulness: AgreementReport };
}

/** Share of each task kind among sampled prompts. */
const KIND_WEIGHTS: Record<ToyTaskKind, number> = { count: 0.3, spell: 0.14, reverse: 0.12, add: 0.16, sub: 0.08, first: 0.2 };

/** Styles of the two responses rated per prompt (HelpSteer2 has two per prompt). */
const RATED_STYLE_WEIGHTS: Record<ToyStyle, number> = {
  terse: 0.15, phrase: 0.13, worked: 0.11, padded: 0.11,
  wrong_terse: 0.12, wrong_phrase: 0.1, wrong_worked: 0.1, wrong_padded: 0.06, incoherent: 0.12,
};

/** The SFT mix: about 55 % correct, so the base policy it trains is imperfect. */
const SFT_STYLE_WEIGHTS: Record<ToyStyle, number> = {
  terse: 0.22, phrase: 0.16, worked: 0.1, padded: 0.07,
  wrong_terse: 0.14, wrong_phrase: 0.1, wrong_worked: 0.07, wrong_padded: 0.04, incoherent: 0.1,
};

/**
 * SFT prompts per rated prompt. The SFT set is the larger one (as in the recipe, where the
 * instruction-tuning data dwarfs HelpSteer2): a tiny policy generalises from many distinct prompts
 * rather than memorising a few.
 */
export const SFT_PROMPTS_PER_RATED = 3;

/** Count probes (the "strawberry" family): rated, RL-trained and evaluated, never in SFT. */
export const PROBE_TASKS: readonly { word: string; letter: string }[] = [
  { word: 'strawberry', letter: 'r' },
  { word: 'raspberry', letter: 'r' },
  { word: 'blueberry', letter: 'r' },
  { word: 'banana', letter: 'a' },
  { word: 'committee', letter: 'e' },
  { word: 'bookkeeper', letter: 'e' },
  { word: 'balloon', letter: 'l' },
];

// ---------------------------------------------------------------------------------------------
// The annotator panel

export interface Annotator {
  id: number;
  /** Added to every rating (a lenient or harsh rater). */
  leniency: number;
  /** Per-attribute offsets. */
  attributeBias: number[];
  /** Std of rating noise. */
  noise: number;
  /** Position bias for preferences (positive: favours response 2). */
  preferenceBias: number;
  preferenceNoise: number;
  /** Sometimes answers at random. */
  careless: boolean;
}

export const PANEL_SIZE = 24;
/** How often a disagreeing task gets another annotator (HelpSteer2 had 3.41 per task on average). */
export const EXTRA_ANNOTATOR_RATE = 0.7;

/** Careless annotators in the panel (a fixed number, so agreement varies little across seeds). */
export const CARELESS_ANNOTATORS = 6;

export function makePanel(rng: Rng): Annotator[] {
  const carelessIds = new Set(rng.shuffle(Array.from({ length: PANEL_SIZE }, (_, i) => i)).slice(0, CARELESS_ANNOTATORS));
  return Array.from({ length: PANEL_SIZE }, (_, id) => {
    const careless = carelessIds.has(id);
    return {
      id,
      leniency: rng.normal(0, 0.3),
      attributeBias: HELPSTEER2_ATTRIBUTES.map(() => rng.normal(0, 0.2)),
      noise: careless ? 1.3 : 0.35 + 0.45 * rng.float(),
      preferenceBias: rng.normal(0, 0.3),
      preferenceNoise: careless ? 2.0 : 0.7 + 0.6 * rng.float(),
      careless,
    };
  });
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export function rateResponse(annotator: Annotator, truth: readonly number[], rng: Rng): number[] {
  return truth.map((t, a) => {
    if (annotator.careless && rng.bernoulli(0.3)) return rng.int(0, 5);
    return clamp(Math.round(t + annotator.leniency + annotator.attributeBias[a] + rng.normal(0, annotator.noise)), 0, 4);
  });
}

/** −3 … 3, negative = response 1 better; driven by the gap in true helpfulness. */
export function preferResponse(annotator: Annotator, r1: ToyResponse, r2: ToyResponse, rng: Rng): number {
  if (annotator.careless && rng.bernoulli(0.45)) return rng.int(-3, 4);
  const gap = r2.truth[0] - r1.truth[0];
  return clamp(Math.round(0.9 * gap + annotator.preferenceBias + rng.normal(0, annotator.preferenceNoise)), -3, 3);
}

/**
 * Three distinct annotators, then — while the signal spans more than 2 and an extra annotator is
 * available (probability EXTRA_ANNOTATOR_RATE each time) — more, up to five.
 */
function convene<T>(panel: Annotator[], rng: Rng, annotate: (a: Annotator) => T, signal: (x: T) => number): T[] {
  const order = rng.shuffle([...panel]);
  const out: T[] = [];
  for (const a of order) {
    out.push(annotate(a));
    if (out.length >= 5) break;
    if (out.length >= 3) {
      const vs = out.map(signal);
      if (Math.max(...vs) - Math.min(...vs) <= 2 || !rng.bernoulli(EXTRA_ANNOTATOR_RATE)) break;
    }
  }
  return out;
}

/**
 * The panel as a judge (the toy benchmarks' judge, src/evaluate/toyjudge.ts): the same raters, the
 * same convening (3 annotators, up to 5 when they disagree) and the same aggregation (the three most
 * similar) as the world's own ratings and preferences, so a judgment carries the panel's knowledge
 * of the ground truth and its biases (leniency, position bias, careless raters, and its taste for
 * the longer right answer: worked > phrased > terse in true helpfulness).
 */
export class ToyJudgePanel {
  private readonly panel: Annotator[];

  constructor(readonly seed: number) {
    this.panel = makePanel(Rng.derive(seed, 'toy/panel'));
  }

  /**
   * A response read as the panel reads it (assessResponse), its hidden attributes drawn from the
   * prompt and text alone: the same answer to the same prompt is the same response to every judgment.
   */
  response(task: ToyTask, prompt: string, text: string): ToyResponse {
    return assessResponse(task, text, Rng.derive(this.seed, `toy/judge-truth:${prompt}\u0000${text}`));
  }

  /** Single grading: 3–5 annotators rate the response; the mean helpfulness (0–4) of the three most similar. */
  grade(r: ToyResponse, key: string): { helpfulness: number; ratings: number[] } {
    const rng = Rng.derive(this.seed, `toy/judge-grade:${key}`);
    const ratings = convene(this.panel, rng, (a) => rateResponse(a, r.truth, rng), (x) => x[0]).map((x) => x[0]);
    return { helpfulness: threeMostSimilar(ratings).mean, ratings };
  }

  /**
   * Pairwise: 3–5 annotators' preference strengths (−3 … 3, negative = response 1 better, position
   * bias included) and their HelpSteer2-Preference aggregate, unrounded (the mean of the three most similar).
   */
  compare(r1: ToyResponse, r2: ToyResponse, key: string): { strength: number; strengths: number[] } {
    const rng = Rng.derive(this.seed, `toy/judge-compare:${key}`);
    const strengths = convene(this.panel, rng, (a) => preferResponse(a, r1, r2, rng), (x) => x);
    return { strength: aggregatePreference(strengths, { dropTies: false }).mean, strengths };
  }
}

// ---------------------------------------------------------------------------------------------
// Justifications

const STRENGTH_WORDS = ['slightly better', 'better', 'much better'];

function reason(better: ToyResponse, worse: ToyResponse): string {
  if (better.correct && !worse.correct) return 'it gets the answer right';
  if (!better.correct && worse.correct) return 'it is easier to follow';
  if (Math.abs(better.truth[2] - worse.truth[2]) > 1) return better.truth[2] > worse.truth[2] ? 'it is clearer' : 'it is less muddled';
  if (better.truth[4] < worse.truth[4]) return 'it is more concise';
  return 'it explains a little more';
}

function justify(strength: number, r1: ToyResponse, r2: ToyResponse, task: ToyTask): { statement: string; elaboration: string } {
  const says = (r: ToyResponse) => (r.correct ? 'gives the right answer' : 'gives a wrong answer');
  const elaboration = `@Response 1 ${says(r1)} and @Response 2 ${says(r2)}; the answer is ${task.answer}.`;
  if (strength === 0) return { statement: '@Response 1 and @Response 2 are about equally good.', elaboration };
  const [b, w, bn, wn] = strength > 0 ? [r2, r1, 2, 1] : [r1, r2, 1, 2];
  return { statement: `@Response ${bn} is ${STRENGTH_WORDS[Math.abs(strength) - 1]} than @Response ${wn} because ${reason(b, w)}.`, elaboration };
}

// ---------------------------------------------------------------------------------------------
// Prompts

function promptPool(rng: Rng): Map<ToyTaskKind, ToyPrompt[]> {
  const pool = new Map<ToyTaskKind, ToyPrompt[]>(TOY_TASK_KINDS.map((k) => [k, []]));
  const add = (task: ToyTask) => {
    PROMPT_TEMPLATES[task.kind].forEach((_, t) => pool.get(task.kind)!.push({ prompt: renderPrompt(task, t), task }));
  };
  for (const word of TOY_WORDS) {
    const letters = [...new Set(word)];
    for (const letter of letters) add(makeTask('count', { word, letter }));
    const absent = [...'abcdefghijklmnopqrstuvwxyz'].filter((c) => !word.includes(c));
    add(makeTask('count', { word, letter: rng.choice(absent) }));
    add(makeTask('spell', { word }));
    add(makeTask('reverse', { word }));
    add(makeTask('first', { word }));
  }
  for (let a = 0; a <= 20; a++) {
    for (let b = 0; b <= 20; b++) {
      add(makeTask('add', { a, b }));
      if (b <= a) add(makeTask('sub', { a, b }));
    }
  }
  for (const list of pool.values()) rng.shuffle(list);
  return pool;
}

function isProbeTask(t: ToyTask): boolean {
  return t.kind === 'count' && PROBE_TASKS.some((p) => p.word === t.word && p.letter === t.letter);
}

/** Draw `n` prompts, kinds in KIND_WEIGHTS proportions while their pools last. */
function drawPrompts(pool: Map<ToyTaskKind, ToyPrompt[]>, n: number, rng: Rng): ToyPrompt[] {
  const out: ToyPrompt[] = [];
  for (let i = 0; i < n; i++) {
    const kinds = TOY_TASK_KINDS.filter((k) => pool.get(k)!.length > 0);
    if (kinds.length === 0) return out;
    const k = kinds[rng.weightedIndex(kinds.map((x) => KIND_WEIGHTS[x]))];
    out.push(pool.get(k)!.pop()!);
  }
  return out;
}

function pickStyle(rng: Rng, weights: Record<ToyStyle, number>): ToyStyle {
  return TOY_STYLES[rng.weightedIndex(TOY_STYLES.map((s) => weights[s]))];
}

function truthRow(p: ToyPrompt, probe: boolean): GroundTruthRow {
  const { kind, word, letter, a, b, answer } = p.task;
  // built field by field so that the JSON key order is fixed: prompt, kind, word, letter, a, b, answer
  const row: Record<string, unknown> = { prompt: p.prompt, kind };
  if (word !== undefined) row.word = word;
  if (letter !== undefined) row.letter = letter;
  if (a !== undefined) row.a = a;
  if (b !== undefined) row.b = b;
  row.answer = answer;
  if (probe) row.probe = true;
  return row as unknown as GroundTruthRow;
}

// ---------------------------------------------------------------------------------------------
// Rating

interface RatedItem {
  ratings: HelpSteer2Row[];
  disagreements: HelpSteer2Disagreement[];
  preferences: HelpSteer2PreferenceRow[];
}

/**
 * The panel rates one prompt's responses: each gets 3–5 annotators' ratings aggregated into a
 * HelpSteer2 row, and each consecutive pair (1st and 2nd, 3rd and 4th, …) whose texts differ gets
 * preference strengths with justifications, aggregated into a HelpSteer2-Preference row.
 */
function rateResponses(panel: Annotator[], rng: { rate: Rng; prefer: Rng }, p: ToyPrompt, responses: readonly ToyResponse[], validation: boolean): RatedItem {
  const out: RatedItem = { ratings: [], disagreements: [], preferences: [] };
  for (const r of responses) {
    const ratings = convene(panel, rng.rate, (a) => rateResponse(a, r.truth, rng.rate), (x) => x[0]);
    const d = { prompt: p.prompt, response: r.text } as HelpSteer2Disagreement;
    const row = { prompt: p.prompt, response: r.text } as HelpSteer2Row;
    HELPSTEER2_ATTRIBUTES.forEach((attr, i) => {
      d[attr] = ratings.map((x) => x[i]);
      row[attr] = aggregateRating(d[attr]).value;
    });
    out.disagreements.push(d);
    out.ratings.push(row);
  }
  for (let i = 0; i + 1 < responses.length; i += 2) {
    const [r1, r2] = [responses[i], responses[i + 1]];
    if (r1.text === r2.text) continue;
    const strengths = convene(panel, rng.prefer, (a) => preferResponse(a, r1, r2, rng.prefer), (x) => x);
    const notes = strengths.map((s) => justify(s, r1, r2, p.task));
    const agg = aggregatePreference(strengths, { dropTies: false });
    const similar = threeMostSimilar(strengths).indices;
    const closest = similar.reduce((best, j) => (Math.abs(strengths[j] - agg.strength) < Math.abs(strengths[best] - agg.strength) ? j : best), similar[0]);
    out.preferences.push({
      split: validation ? 'validation' : 'train',
      prompt: p.prompt,
      response_1: r1.text,
      response_2: r2.text,
      preference_strength: agg.strength,
      preference_statement: notes[closest].statement,
      preference_elaboration: notes[closest].elaboration,
      three_most_similar_preferences: similar.map((j) => ({ statement: notes[j].statement, elaboration: notes[j].elaboration, strength: strengths[j] })),
      all_preferences_unprocessed: strengths.map((s, j) => ({ strength: s, justification: `${notes[j].statement} ${notes[j].elaboration}` })),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

export function generateToyWorld(opts: ToyWorldOptions): ToyWorld {
  const seed = opts.seed;
  const size = opts.size ?? 1000;
  if (!Number.isInteger(size) || size < 10) {
    throw new UserError({ what: 'toy world size must be an integer >= 10', received: String(size), fix: 'pass --size 10 or more (the default is 1000)' });
  }
  const pool = promptPool(Rng.derive(seed, 'toy/prompts'));
  const probes: ToyPrompt[] = PROBE_TASKS.map((p) => {
    const task = makeTask('count', p);
    return { prompt: renderPrompt(task, 0), task };
  });
  for (const [k, list] of pool) pool.set(k, list.filter((p) => !isProbeTask(p.task)));
  const available = [...pool.values()].reduce((s, l) => s + l.length, 0);
  const nEval = Math.max(100, Math.round(size / 5));
  const nRl = Math.max(50, Math.round(size / 2));
  const nSft = SFT_PROMPTS_PER_RATED * size;
  const nExtra = opts.extraEvalPrompts ?? 0;
  if (!Number.isInteger(nExtra) || nExtra < 0) {
    throw new UserError({ what: 'extra evaluation prompts must be a non-negative integer', received: String(nExtra), fix: 'pass 0 or more' });
  }
  const need = nEval + nRl + size + nSft + nExtra;
  if (need > available) {
    const maxSize = Math.floor((available - 150 - nExtra) / (1.7 + SFT_PROMPTS_PER_RATED));
    throw new UserError({
      what: `the toy world has ${available} distinct prompts; size ${size} needs ${need}`,
      expected: `--size <= ${maxSize}`,
      received: String(size),
      fix: `pass a smaller --size (at most ${maxSize})`,
    });
  }
  const drawRng = Rng.derive(seed, 'toy/draw');
  const evalSet = drawPrompts(pool, nEval, drawRng);
  const rlSet = drawPrompts(pool, nRl, drawRng);
  const ratedSet = [...probes, ...drawPrompts(pool, size - probes.length, drawRng)];
  Rng.derive(seed, 'toy/rated-order').shuffle(ratedSet);
  const sftSet = drawPrompts(pool, nSft, drawRng);
  const extraEvalSet = drawPrompts(pool, nExtra, drawRng);

  // Ratings and preferences: two responses per rated prompt.
  const panel = makePanel(Rng.derive(seed, 'toy/panel'));
  const respRng = Rng.derive(seed, 'toy/responses');
  const rateRng = Rng.derive(seed, 'toy/ratings');
  const prefRng = Rng.derive(seed, 'toy/preferences');
  const splitRng = Rng.derive(seed, 'toy/split');
  const ratingsTrain: HelpSteer2Row[] = [];
  const ratingsValidation: HelpSteer2Row[] = [];
  const disagreements: HelpSteer2Disagreement[] = [];
  const preferences: HelpSteer2PreferenceRow[] = [];
  for (const p of ratedSet) {
    const validation = splitRng.bernoulli(0.05);
    const first = makeResponse(p.task, pickStyle(respRng, RATED_STYLE_WEIGHTS), respRng);
    // two different texts (identical responses would make an empty preference pair)
    let second = makeResponse(p.task, pickStyle(respRng, RATED_STYLE_WEIGHTS), respRng);
    while (second.text === first.text) second = makeResponse(p.task, pickStyle(respRng, RATED_STYLE_WEIGHTS), respRng);
    const rated = rateResponses(panel, { rate: rateRng, prefer: prefRng }, p, [first, second], validation);
    (validation ? ratingsValidation : ratingsTrain).push(...rated.ratings);
    disagreements.push(...rated.disagreements);
    preferences.push(...rated.preferences);
  }

  // SFT: two responses per prompt from the imperfect mix.
  const sftRng = Rng.derive(seed, 'toy/sft');
  const sft: SftRow[] = [];
  for (const p of sftSet) {
    for (let k = 0; k < 2; k++) {
      const r = makeResponse(p.task, pickStyle(sftRng, SFT_STYLE_WEIGHTS), sftRng);
      sft.push({ prompt: p.prompt, response: r.text, style: r.style, correct: r.correct });
    }
  }

  const rlPrompts = [...probes, ...rlSet].map((p) => ({ prompt: p.prompt }));
  const evalPrompts: ToyWorld['evalPrompts'] = [...probes.map((p) => ({ prompt: p.prompt, probe: true as const })), ...[...evalSet, ...extraEvalSet].map((p) => ({ prompt: p.prompt }))];

  const seen = new Set<string>();
  const groundTruth: GroundTruthRow[] = [];
  for (const [list, probe] of [[probes, true], [evalSet, false], [rlSet, false], [ratedSet, false], [sftSet, false], [extraEvalSet, false]] as const) {
    for (const p of list) {
      if (seen.has(p.prompt)) continue;
      seen.add(p.prompt);
      groundTruth.push(truthRow(p, probe));
    }
  }

  const world: ToyWorld = {
    seed,
    size,
    extraEvalPrompts: nExtra,
    ratingsTrain,
    ratingsValidation,
    disagreements,
    preferences,
    sft,
    rlPrompts,
    evalPrompts,
    groundTruth,
    agreement: {
      preferences: preferenceAgreement(preferences),
      helpfulness: ratingAgreement(disagreements.map((d) => d.helpfulness)),
    },
  };
  validateEncodable(world);
  return world;
}

export interface ToyRatedResponses {
  ratingsTrain: HelpSteer2Row[];
  ratingsValidation: HelpSteer2Row[];
  disagreements: HelpSteer2Disagreement[];
  preferences: HelpSteer2PreferenceRow[];
  /** Share of the rated responses whose final answer is right. */
  correctShare: number;
  agreement: { preferences: AgreementReport; helpfulness: AgreementReport };
}

/**
 * The world's annotator panel (the same raters as the world's own ratings, from the same seed)
 * rates responses from elsewhere — a policy's samples, several per prompt — read as toy responses
 * by assessResponse. HelpSteer2's responses came from the models being aligned; rating the SFT
 * policy's own samples does the same for the toy world, and teaches a reward model the mistakes
 * that policy makes. Pairs are formed as in rateResponses (1st with 2nd, 3rd with 4th, …; pairs of
 * identical texts get no preference). An item's `validation` puts it in that split (pass the world's
 * split for its rated prompts, so that both sets of files agree); without it, 5 % of prompts go to
 * the validation split, drawn as in the world.
 */
export function rateToyResponses(seed: number, items: readonly { prompt: string; responses: readonly string[]; validation?: boolean }[]): ToyRatedResponses {
  const panel = makePanel(Rng.derive(seed, 'toy/panel'));
  const truthRng = Rng.derive(seed, 'toy/policy-truth');
  const rng = { rate: Rng.derive(seed, 'toy/policy-ratings'), prefer: Rng.derive(seed, 'toy/policy-preferences') };
  const splitRng = Rng.derive(seed, 'toy/policy-split');
  const out: ToyRatedResponses = { ratingsTrain: [], ratingsValidation: [], disagreements: [], preferences: [], correctShare: 0, agreement: undefined as never };
  let correct = 0;
  let n = 0;
  items.forEach((item, i) => {
    const task = taskFromPrompt(item.prompt);
    if (task === null) {
      throw new UserError({ what: 'not a toy-world prompt', where: `responses to rate, item ${i} field prompt`, received: JSON.stringify(item.prompt), fix: 'rate responses to prompts from the toy world (its ground-truth.jsonl lists them)' });
    }
    const validation = item.validation ?? splitRng.bernoulli(0.05);
    const responses = item.responses.map((text) => assessResponse(task, text, truthRng));
    correct += responses.filter((r) => r.correct).length;
    n += responses.length;
    const rated = rateResponses(panel, rng, { prompt: item.prompt, task }, responses, validation);
    (validation ? out.ratingsValidation : out.ratingsTrain).push(...rated.ratings);
    out.disagreements.push(...rated.disagreements);
    out.preferences.push(...rated.preferences);
  });
  out.correctShare = correct / Math.max(1, n);
  out.agreement = { preferences: preferenceAgreement(out.preferences), helpfulness: ratingAgreement(out.disagreements.map((d) => d.helpfulness)) };
  return out;
}

/** Every string the world holds must be encodable by the char tokenizer (a bug otherwise). */
export function validateEncodable(world: ToyWorld, tok = new CharTokenizer()): void {
  const check = (s: string, where: string) => {
    if (!tok.canEncode(s)) throw new Error(`toy world bug: ${where} ${JSON.stringify(s)} is not encodable by the char tokenizer`);
  };
  for (const r of [...world.ratingsTrain, ...world.ratingsValidation]) {
    check(r.prompt, 'rated prompt');
    check(r.response, 'rated response');
  }
  for (const r of world.preferences) {
    check(r.response_1, 'preference response');
    check(r.response_2, 'preference response');
  }
  for (const r of world.sft) check(r.response, 'SFT response');
  for (const r of world.groundTruth) check(r.prompt, 'prompt');
}

// ---------------------------------------------------------------------------------------------
// Files

/** Relative paths of the files writeToyWorld creates. */
export const TOY_WORLD_FILES = {
  manifest: 'world.json',
  tokenizer: 'tokenizer.json',
  ratingsTrain: 'helpsteer2/train.jsonl',
  ratingsValidation: 'helpsteer2/validation.jsonl',
  disagreements: 'helpsteer2/disagreements.jsonl',
  preferences: 'helpsteer2/preference.jsonl',
  sft: 'sft.jsonl',
  rlPrompts: 'rl-prompts.jsonl',
  evalPrompts: 'eval-prompts.jsonl',
  groundTruth: 'ground-truth.jsonl',
} as const;

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

/** The file contents of a world, by relative path (what writeToyWorld writes). */
export function toyWorldFiles(world: ToyWorld): Record<string, string> {
  const f = TOY_WORLD_FILES;
  const manifest = {
    generator: 'steer data toy',
    version: TOY_WORLD_VERSION,
    seed: world.seed,
    size: world.size,
    ...(world.extraEvalPrompts > 0 ? { extraEvalPrompts: world.extraEvalPrompts } : {}),
    files: f,
    counts: {
      ratingsTrain: world.ratingsTrain.length,
      ratingsValidation: world.ratingsValidation.length,
      preferences: world.preferences.length,
      sft: world.sft.length,
      rlPrompts: world.rlPrompts.length,
      evalPrompts: world.evalPrompts.length,
      groundTruth: world.groundTruth.length,
    },
    agreement: world.agreement,
  };
  return {
    [f.manifest]: JSON.stringify(manifest, null, 2) + '\n',
    [f.tokenizer]: JSON.stringify(new CharTokenizer().toJSON(), null, 2) + '\n',
    [f.ratingsTrain]: jsonl(world.ratingsTrain),
    [f.ratingsValidation]: jsonl(world.ratingsValidation),
    [f.disagreements]: jsonl(world.disagreements),
    [f.preferences]: jsonl(world.preferences),
    [f.sft]: jsonl(world.sft),
    [f.rlPrompts]: jsonl(world.rlPrompts),
    [f.evalPrompts]: jsonl(world.evalPrompts),
    [f.groundTruth]: jsonl(world.groundTruth),
  };
}

/** The file contents of rated responses (rateToyResponses), by relative path: the world's HelpSteer2 file names. */
export function toyRatedFiles(rated: ToyRatedResponses): Record<string, string> {
  const f = TOY_WORLD_FILES;
  return {
    [f.ratingsTrain]: jsonl(rated.ratingsTrain),
    [f.ratingsValidation]: jsonl(rated.ratingsValidation),
    [f.disagreements]: jsonl(rated.disagreements),
    [f.preferences]: jsonl(rated.preferences),
  };
}

/**
 * Write a world under `dir`. All contents are generated before the first write and each file is
 * written atomically, so an error never leaves a partial file.
 */
export function writeToyWorld(world: ToyWorld, dir: string): string[] {
  const files = toyWorldFiles(world);
  const written: string[] = [];
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    writeFileAtomic(path, content);
    written.push(path);
  }
  return written;
}

/** The ground truth of a written world: prompt → task (for scoreAnswer). */
export async function readGroundTruth(path: string): Promise<Map<string, ToyTask>> {
  const out = new Map<string, ToyTask>();
  for await (const rec of readRecords(path)) {
    const r = parseRecord(groundTruthRowSchema, rec, 'ground-truth row');
    const task = makeTask(r.kind, r);
    if (task.answer !== r.answer) {
      throw new UserError({ what: `ground-truth answer ${JSON.stringify(r.answer)} disagrees with the task (${JSON.stringify(task.answer)})`, where: `${rec.where} field answer`, fix: 'regenerate the file with `steer data toy`' });
    }
    out.set(r.prompt, task);
  }
  return out;
}
