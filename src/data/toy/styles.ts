// Response styles: several ways to answer a toy task, each with hidden true attribute values
// (helpfulness, correctness, coherence, complexity, verbosity on HelpSteer2's 0–4 scale) so that
// all five attributes vary across the world's responses.
import type { Rng } from '../../util/rng.js';
import { scoreAnswer, type ToyTask } from './tasks.js';

// Every answer format (terse, phrase, worked, padded) comes right and wrong, so a reward model can
// only tell a good response by its answer, never by its format alone.
export type ToyStyle = 'terse' | 'phrase' | 'worked' | 'padded' | 'wrong_terse' | 'wrong_phrase' | 'wrong_worked' | 'wrong_padded' | 'incoherent';
export const TOY_STYLES: readonly ToyStyle[] = ['terse', 'phrase', 'worked', 'padded', 'wrong_terse', 'wrong_phrase', 'wrong_worked', 'wrong_padded', 'incoherent'];

/** Whether a style's final answer is the right one (tests check every generated response). */
export const STYLE_CORRECT: Record<ToyStyle, boolean> = {
  terse: true,
  phrase: true,
  worked: true,
  padded: true,
  wrong_terse: false,
  wrong_phrase: false,
  wrong_worked: false,
  wrong_padded: false,
  incoherent: false,
};

/** Hidden true attributes per style: [helpfulness, correctness, coherence, complexity, verbosity]. */
export const STYLE_ATTRIBUTES: Record<ToyStyle, readonly number[]> = {
  terse: [3.3, 4.0, 4.0, 0.4, 0.6],
  phrase: [3.7, 4.0, 4.0, 1.2, 1.8],
  worked: [3.9, 4.0, 3.7, 2.6, 2.8],
  padded: [2.2, 3.0, 1.8, 0.8, 3.8],
  wrong_terse: [0.5, 0.2, 3.8, 0.4, 0.6],
  wrong_phrase: [0.8, 0.3, 3.8, 1.2, 1.8],
  wrong_worked: [0.7, 0.3, 3.4, 2.6, 2.8],
  wrong_padded: [0.3, 0.2, 1.8, 0.8, 3.8],
  incoherent: [0.2, 0.3, 0.3, 0.5, 1.4],
};

/** A plausible wrong answer (a near miss). */
export function wrongAnswer(task: ToyTask, rng: Rng): string {
  switch (task.kind) {
    case 'count':
    case 'add':
    case 'sub': {
      const n = Number(task.answer);
      const candidates = [n - 1, n + 1, n + 2, n - 2].filter((x) => x >= 0 && x !== n);
      return String(candidates[rng.int(0, Math.min(2, candidates.length))]);
    }
    case 'spell': {
      const letters = [...task.word!];
      const doubled = letters.findIndex((c, i) => i > 0 && c === letters[i - 1]);
      let out: string[];
      if (doubled > 0 && rng.bernoulli(0.6)) {
        out = letters.filter((_, i) => i !== doubled); // drop one of a doubled letter: the classic slip
      } else if (rng.bernoulli(0.5)) {
        const k = rng.int(0, letters.length);
        out = letters.filter((_, i) => i !== k);
      } else {
        const i = rng.int(0, letters.length - 1);
        out = [...letters];
        [out[i], out[i + 1]] = [out[i + 1], out[i]];
      }
      const s = out.join('-');
      // swapping two equal neighbours changes nothing: fall back to dropping the last letter
      return s === task.answer ? letters.slice(0, -1).join('-') : s;
    }
    case 'reverse': {
      const rev = [...task.answer];
      if (rng.bernoulli(0.4) && task.word !== task.answer) return task.word!; // not reversed at all
      const i = rng.int(0, rev.length - 1);
      [rev[i], rev[i + 1]] = [rev[i + 1], rev[i]];
      const s = rev.join('');
      return s === task.answer ? task.answer.slice(1) : s;
    }
    case 'first': {
      const w = task.word!;
      const options = [w[w.length - 1], w[1], 'abcdefghijklmnopqrstuvwxyz'[rng.int(0, 26)]].filter((c) => c !== task.answer);
      return options[rng.int(0, options.length)] ?? (task.answer === 'a' ? 'b' : 'a');
    }
  }
}

function plural(n: string, letter: string): string {
  return n === '1' ? `1 ${letter}` : `${n} ${letter}'s`;
}

/** A phrased answer carrying `ans` as its final answer token (one of two wordings, drawn). */
function phrase(task: ToyTask, ans: string, rng: Rng): string {
  return phraseVariant(task, ans, rng.int(0, PHRASE_VARIANTS));
}

/** Phrased answers come in two wordings per kind: v = 0 or 1. */
const PHRASE_VARIANTS = 2;

function phraseVariant(task: ToyTask, ans: string, v: number): string {
  switch (task.kind) {
    case 'count':
      return v === 0 ? `${task.word} has ${plural(ans, task.letter!)}.` : `there are ${plural(ans, task.letter!)}.`;
    case 'spell':
      return v === 0 ? `it is spelled ${ans}.` : `here it is: ${ans}`;
    case 'reverse':
      return v === 0 ? `backwards it is ${ans}.` : `reversed, it reads ${ans}.`;
    case 'add':
    case 'sub':
      return v === 0 ? `the answer is ${ans}.` : `${task.a}${task.kind === 'add' ? '+' : '-'}${task.b} is ${ans}.`;
    case 'first':
      return v === 0 ? `${task.word} starts with ${ans}.` : `the first letter is ${ans}.`;
  }
}

/** Showing the work (more complex, more verbose), ending with `ans` (the right answer unless a wrong one is given). */
function worked(task: ToyTask, ans: string = task.answer, rng?: Rng): string {
  switch (task.kind) {
    case 'count': {
      const pos = [...task.word!].flatMap((c, i) => (c === task.letter ? [i + 1] : []));
      // a wrong count shows its (wrong) work: an occurrence missed, or a letter counted that is not there
      const n = Number(ans);
      if (rng) {
        while (pos.length > n) pos.splice(rng.int(0, pos.length), 1);
        const others = Array.from({ length: task.word!.length }, (_, i) => i + 1).filter((i) => !pos.includes(i));
        while (pos.length < n) pos.push(others.length > 0 ? others.splice(rng.int(0, others.length), 1)[0] : pos.length + 1);
        pos.sort((x, y) => x - y);
      }
      return pos.length === 0 ? `no ${task.letter} in it, so 0.` : `${task.letter} at ${pos.join(', ')}, so ${pos.length}.`;
    }
    case 'spell':
      return `${task.word!.length} letters: ${ans}.`;
    case 'reverse':
      return `${task.word!.length} letters, backwards: ${ans}.`;
    case 'add':
      return `${task.a} plus ${task.b} makes ${ans}.`;
    case 'sub':
      return `${task.a} minus ${task.b} leaves ${ans}.`;
    case 'first':
      return `${task.word} begins with the letter ${ans}.`;
  }
}

const PADDING = ['hmm, let me think...', 'well, that is a good one.', 'ok so, thinking about it,', 'let me see, let me see...'];
const HEDGE = ['maybe', 'probably', 'it could be', 'my guess is'];

/** Wordy and hedged: the final answer `ans` is still the last answer-shaped token. */
function padded(ans: string, rng: Rng): string {
  return `${rng.choice(PADDING)} ${rng.choice(HEDGE)} ${ans}`;
}

/** Garbled tokens from the prompt, ending in a wrong answer-shaped token. */
function incoherent(task: ToyTask, rng: Rng): string {
  const pool: string[] = [];
  if (task.word) pool.push(...task.word.slice(0, 4), task.word.slice(0, 3), 'is', 'the');
  if (task.letter) pool.push(task.letter, task.letter);
  if (task.a !== undefined) pool.push(String(task.a), String(task.b), '+', '=');
  pool.push('so', 'it', 'no');
  const n = rng.int(2, 5);
  const toks = Array.from({ length: n }, () => rng.choice(pool));
  toks.push(wrongAnswer(task, rng));
  return toks.join(' ');
}

export interface ToyResponse {
  style: ToyStyle;
  text: string;
  correct: boolean;
  /** Hidden true attributes for this response (style base + small per-item variation), 0–4. */
  truth: number[];
}

/** An item's hidden attributes: its style's values plus N(0, 0.25) each, kept on the 0–4 scale. */
function itemTruth(base: readonly number[], rng: Rng): number[] {
  return base.map((v) => Math.min(4, Math.max(0, v + rng.normal(0, 0.25))));
}

/** One response to a task in a given style, with its hidden attributes. */
export function makeResponse(task: ToyTask, style: ToyStyle, rng: Rng): ToyResponse {
  let text: string;
  switch (style) {
    case 'terse':
      text = task.answer;
      break;
    case 'phrase':
      text = phrase(task, task.answer, rng);
      break;
    case 'worked':
      text = worked(task);
      break;
    case 'padded':
      text = padded(task.answer, rng);
      break;
    case 'wrong_terse':
      text = wrongAnswer(task, rng);
      break;
    case 'wrong_phrase':
      text = phrase(task, wrongAnswer(task, rng), rng);
      break;
    case 'wrong_worked':
      text = worked(task, wrongAnswer(task, rng), rng);
      break;
    case 'wrong_padded':
      text = padded(wrongAnswer(task, rng), rng);
      break;
    case 'incoherent':
      text = incoherent(task, rng);
      break;
  }
  const correct = scoreAnswer(task, text).correct;
  return { style, text, correct, truth: itemTruth(STYLE_ATTRIBUTES[style], rng) };
}

/**
 * Hidden attributes of a response that matches no format but whose final answer is right (a
 * policy's garbled "bucket has 2 e's." for committee): a rater credits the answer, not the text.
 */
export const GARBLED_RIGHT_ATTRIBUTES: readonly number[] = [2.6, 3.0, 1.5, 0.8, 1.6];

/** The answer format a text has for a task, given the final answer read from it; null when none. */
function formatOf(task: ToyTask, text: string, ans: string): 'terse' | 'phrase' | 'worked' | 'padded' | null {
  if (text === ans) return 'terse';
  for (let v = 0; v < PHRASE_VARIANTS; v++) if (text === phraseVariant(task, ans, v)) return 'phrase';
  if (task.kind === 'count') {
    // "r at 3, 8, 9, so 3." — distinct positions inside the word, as many as the count — or "no r in it, so 0."
    if (text === `no ${task.letter} in it, so 0.` && ans === '0') return 'worked';
    const m = /^([a-z]) at (\d+(?:, \d+)*), so (\d+)\.$/.exec(text);
    if (m && m[1] === task.letter && m[3] === ans) {
      const pos = m[2].split(', ').map(Number);
      const inWord = pos.every((x, i) => x >= 1 && x <= task.word!.length && (i === 0 || x > pos[i - 1]));
      if (inWord && pos.length === Number(ans)) return 'worked';
    }
  } else if (text === worked(task, ans)) {
    return 'worked';
  }
  for (const p of PADDING) for (const h of HEDGE) if (text === `${p} ${h} ${ans}`) return 'padded';
  return null;
}

/**
 * Any text as a toy response — a policy's sample, say — so the annotator panel can rate it like
 * the world's own: its style is the answer format the text matches (terse, phrased, worked,
 * padded), right or wrong by its final answer; a text that matches no format is incoherent, and
 * when its final answer is nevertheless right it carries GARBLED_RIGHT_ATTRIBUTES. The hidden
 * attributes vary per item as makeResponse's do.
 */
export function assessResponse(task: ToyTask, text: string, rng: Rng): ToyResponse {
  const score = scoreAnswer(task, text);
  const format = score.extracted === null ? null : formatOf(task, text, score.extracted);
  const style: ToyStyle = format === null ? 'incoherent' : score.correct ? format : `wrong_${format}`;
  const base = format === null && score.correct ? GARBLED_RIGHT_ATTRIBUTES : STYLE_ATTRIBUTES[style];
  return { style, text, correct: score.correct, truth: itemTruth(base, rng) };
}

/**
 * The toy AlpacaEval's "gamed" outputs (alpaca_eval's df_gamed: the baseline asked to be verbose,
 * then concise, with the same content): the same final answer in the world's wordiest form (padded:
 * a filler phrase and a hedge) and in its shortest (terse: the answer alone). A text with no
 * answer-shaped token keeps its own words in both, padded and as they are.
 */
export function gamedRewrites(task: ToyTask, text: string, rng: Rng): { verbose: string; concise: string } {
  const ans = scoreAnswer(task, text).extracted;
  return { verbose: padded(ans ?? text, rng), concise: ans ?? text };
}
