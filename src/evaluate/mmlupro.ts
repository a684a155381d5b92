// MMLU-Pro (Wang et al. 2024, arXiv 2406.01574) as its official code runs it — TIGER-AI-Lab/MMLU-Pro
// @ f418b11: evaluate_from_api.py (prompt, sampling) and compute_accuracy.py (answer extraction,
// random fallback, accuracy).
//   prompt    user message = header + exemplars + question, with
//             header  = 'The following are multiple choice questions (with answers) about {category}.
//                        Think step by step and then output the answer in the format of "The answer
//                        is (X)" at the end.\n\n'
//             example = 'Question: {q}\nOptions: ' + ('{L}. {option}\n' for each option, L = A…J)
//                       + 'Answer: ' + cot + '\n\n'   (cot: the exemplar's cot_content without its
//                       leading "A: "; "Let's think step by step." for the question asked)
//             exemplars: the validation rows of the question's category (5-shot), or none (0-shot);
//             options equal to "N/A" are dropped first (preprocess).
//   sampling  temperature 0, top_p 1, max_tokens 4000; the response has every "**" removed.
//   extract   l1: re.search(r"answer is \(?([A-J])\)?")  — the letter, else None;
//             l2: l1, else re.search(r'.*[aA]nswer:\s*([A-J])'), else the last standalone letter
//                 re.search(r"\b[A-J]\b(?!.*\b[A-J]\b)", re.DOTALL), else None.
//   fallback  None → random.choice(["A", …, "J"]) with Python's MT19937 seeded random.seed(12345)
//             once per run (compute_accuracy.py since dd30333, Feb 2025), drawn in file order: the
//             Level-1 pass over all rows first, then the Level-2 pass, one stream. The published
//             outputs were scored by the earlier code, which re-seeded before every draw, so each
//             fallback there is the first draw after seeding: "G" ("reseed" below).
//   accuracy  Level-2 hits / rows, overall and per category (compute_accuracy.py prints Level 1 too).
// Python semantics kept in JavaScript: `.` excludes only "\n" (JS also excludes \r, U+2028/9); `\s`
// is str.isspace() (it has \x1c–\x1f and \x85, JS's \s has U+FEFF instead); `\b` is a Unicode word
// boundary (word characters: str.isalnum() — exactly categories L* and N* in Unicode 14 — and "_";
// JS's \b is ASCII-only).
// Departures: none for extraction and scoring. A local model (--model) is prompted through its
// chat template when it has one (else the text as is) and its completion is cut at "Question:",
// the stop string evaluate_from_local.py gives vLLM.
import { UserError, describeValue } from '../util/errors.js';
import { readAllRecords, type SourceRecord } from '../data/read.js';
import { readZipMembers } from '../io/zip.js';
import { MT19937 } from './mt19937.js';

export const CHOICE_LETTERS = 'ABCDEFGHIJ';
/** The random fallback's seed in the official code. */
export const MMLU_PRO_SEED = 12345;
/** Completion budget of evaluate_from_api.py. */
export const MMLU_PRO_MAX_TOKENS = 4000;

/** One multiple-choice question (MMLU-Pro's row, or steer's generic format). */
export interface MultipleChoiceQuestion {
  /** question_id (or id); unique within a file */
  id: string;
  question: string;
  /** at most 10 (A–J), "N/A" padding dropped */
  options: string[];
  /**
   * 0-based index of the right option in the row as given: the gold letter compared with the
   * prediction, as the official code compares `answer` (MMLU-Pro's "N/A" padding only trails)
   */
  answerIndex: number;
  category: string;
  /** chain-of-thought answer of an exemplar (MMLU-Pro validation rows) */
  cotContent: string;
  /** the row as read, written back into the official result file */
  row: Record<string, unknown>;
  /** file:line (or item) for messages */
  where: string;
}

export type ExtractionLevel = 'l1' | 'l2';

// --- extraction (compute_accuracy.py) --------------------------------------------------------

/** Python's \s on str: the characters for which str.isspace() is true. */
const PY_SPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
/** Python's \w on str: str.isalnum() or "_". */
const PY_WORD = '[\\p{L}\\p{N}_]';
const L1 = /answer is \(?([A-J])\)?/;
/** The official level-2 pattern word for word (Python's `.` = [^\n]): the slow twin of extractAgain's scan. */
export const LEVEL2_PATTERN = new RegExp(`[^\\n]*[aA]nswer:${PY_SPACE}*([A-J])`, 'u');
const ANSWER_COLON = /[aA]nswer:/g;
const LETTER_AFTER = new RegExp(`${PY_SPACE}*([A-J])`, 'uy');
const STANDALONE = new RegExp(`(?<!${PY_WORD})[A-J](?!${PY_WORD})`, 'gu');

/** extract_final: the last A–J that stands alone between word boundaries (DOTALL), else null. */
export function extractFinal(text: string): string | null {
  let last: string | null = null;
  for (const m of text.matchAll(STANDALONE)) last = m[0];
  return last;
}

/**
 * The letter re.search(r'.*[aA]nswer:\s*([A-J])', text) captures, in linear time (the pattern itself
 * is quadratic in a line's length: 83 s of Python for MMLU-Pro's 253 outputs without "answer is").
 * `.` stops at "\n", so the leftmost match lies on the first line holding an "answer:" whose next
 * non-space character is A–J, and the greedy `.*` takes that line's last such "answer:".
 */
export function matchLevel2(text: string): string | null {
  let found: string | null = null;
  let lineEnd = -1;
  for (const m of text.matchAll(ANSWER_COLON)) {
    if (found !== null && m.index > lineEnd) break;
    LETTER_AFTER.lastIndex = m.index + 7;
    const a = LETTER_AFTER.exec(text);
    if (!a) continue;
    if (found === null) {
      lineEnd = text.indexOf('\n', m.index);
      if (lineEnd < 0) lineEnd = text.length;
    }
    found = a[1];
  }
  return found;
}

/** extract_again: the first line's (greedy) "answer: X", else extract_final. */
export function extractAgain(text: string): string | null {
  return matchLevel2(text) ?? extractFinal(text);
}

/** extract_answer(text, level): "answer is (X)"; at l2, then the fallbacks. Null = no answer. */
export function extractAnswer(text: string, level: ExtractionLevel = 'l2'): string | null {
  const m = L1.exec(text);
  if (m) return m[1];
  return level === 'l1' ? null : extractAgain(text);
}

// --- the random fallback ---------------------------------------------------------------------

/**
 * How a missing answer becomes a letter: "stream" — compute_accuracy.py today (one seeded stream,
 * random.choice per miss); "reseed" — the code that scored the published outputs (random.seed(12345)
 * before every choice, so always the same letter).
 */
export type FallbackMode = 'stream' | 'reseed';

/** random.choice(["A", …, "J"]) under Python's seeding. */
export class FallbackChooser {
  private rng: MT19937;

  constructor(
    readonly mode: FallbackMode = 'stream',
    readonly seed = MMLU_PRO_SEED,
  ) {
    this.rng = MT19937.fromPythonInt(seed);
  }

  choose(): string {
    if (this.mode === 'reseed') this.rng = MT19937.fromPythonInt(this.seed);
    return CHOICE_LETTERS[this.rng.randbelow(CHOICE_LETTERS.length)];
  }
}

// --- scoring -----------------------------------------------------------------------------------

export interface ScoredItem {
  id: string;
  category: string;
  answer: string;
  /** the extracted letter (Level 2), or null when the fallback chose */
  extracted: string | null;
  /** the letter scored: extracted, else the fallback's choice */
  pred: string;
  correct: boolean;
}

export interface CategoryScore {
  corr: number;
  wrong: number;
  acc: number;
}

export interface MultipleChoiceScore {
  /** Level-2 accuracy (the number MMLU-Pro reports) */
  accuracy: number;
  /** Level-1 accuracy (compute_accuracy.py's first line) */
  level1Accuracy: number;
  correct: number;
  total: number;
  /** rows whose Level-2 extraction found no letter */
  fallbacks: number;
  /** per category, in order of first appearance */
  categories: Record<string, CategoryScore>;
  items: ScoredItem[];
}

/** Accuracy overall and per category of items already holding their predictions. */
export function tallyPredictions(items: readonly ScoredItem[], level1Correct?: number): Omit<MultipleChoiceScore, 'items'> & { items: ScoredItem[] } {
  const categories: Record<string, CategoryScore> = {};
  for (const it of items) {
    const c = (categories[it.category] ??= { corr: 0, wrong: 0, acc: 0 });
    if (it.correct) c.corr++;
    else c.wrong++;
  }
  for (const c of Object.values(categories)) c.acc = c.corr / (c.corr + c.wrong);
  const correct = items.filter((i) => i.correct).length;
  const n = items.length;
  return {
    accuracy: n ? correct / n : 0,
    level1Accuracy: n ? (level1Correct ?? correct) / n : 0,
    correct,
    total: n,
    fallbacks: items.filter((i) => i.extracted === null).length,
    categories,
    items: [...items],
  };
}

/**
 * compute_accuracy.py on one result file: the Level-1 pass, then the Level-2 pass, sharing one
 * fallback stream; rows scored in the order given.
 */
export function scoreOutputs(rows: readonly { question: MultipleChoiceQuestion; output: string }[], opts: { fallback?: FallbackMode; seed?: number } = {}): MultipleChoiceScore {
  const chooser = new FallbackChooser(opts.fallback ?? 'stream', opts.seed ?? MMLU_PRO_SEED);
  const letter = (q: MultipleChoiceQuestion) => CHOICE_LETTERS[q.answerIndex];
  let level1Correct = 0;
  for (const r of rows) {
    const pred = extractAnswer(r.output, 'l1') ?? chooser.choose();
    if (pred === letter(r.question)) level1Correct++;
  }
  const items = rows.map((r): ScoredItem => {
    const extracted = extractAnswer(r.output, 'l2');
    const pred = extracted ?? chooser.choose();
    return { id: r.question.id, category: r.question.category, answer: letter(r.question), extracted, pred, correct: pred === letter(r.question) };
  });
  return tallyPredictions(items, level1Correct);
}

// --- prompts (evaluate_from_api.py) ------------------------------------------------------------

/** format_example(question, options, cot_content). */
export function formatExample(question: string, options: readonly string[], cotContent = ''): string {
  let cot = cotContent === '' ? "Let's think step by step." : cotContent;
  if (cot.startsWith('A: ')) cot = cot.slice(3);
  let s = `Question: ${question}\nOptions: `;
  options.forEach((o, i) => (s += `${CHOICE_LETTERS[i]}. ${o}\n`));
  return s + 'Answer: ' + cot + '\n\n';
}

/** The user message for `q` with the given exemplars (those of its category; [] = 0-shot). */
export function mmluProPrompt(q: MultipleChoiceQuestion, exemplars: readonly MultipleChoiceQuestion[]): string {
  let prompt = `The following are multiple choice questions (with answers) about ${q.category}. Think step by step and then output the answer in the format of "The answer is (X)" at the end.\n\n`;
  for (const e of exemplars) prompt += formatExample(e.question, e.options, e.cotContent);
  return prompt + formatExample(q.question, q.options);
}

/** The validation exemplars per category, the first `shots` of each, in file order. */
export function exemplarsByCategory(rows: readonly MultipleChoiceQuestion[], shots: number): Map<string, MultipleChoiceQuestion[]> {
  const m = new Map<string, MultipleChoiceQuestion[]>();
  for (const r of rows) {
    const list = m.get(r.category) ?? m.set(r.category, []).get(r.category)!;
    if (list.length < shots) list.push(r);
  }
  return m;
}

/** What the official code scores: the response with every "**" removed. */
export function cleanResponse(text: string): string {
  return text.split('**').join('');
}

/** vLLM's stop string in evaluate_from_local.py: the completion ends before "Question:". */
export function cutAtNextQuestion(text: string): string {
  const i = text.indexOf('Question:');
  return i < 0 ? text : text.slice(0, i);
}

// --- rows --------------------------------------------------------------------------------------

/**
 * A question from a record: MMLU-Pro's {question_id, question, options, answer, answer_index,
 * category, src, cot_content} or the generic {id?, question, options | choices, answer (letter) |
 * answer_index, category?}. `exemplar` rows need cot_content.
 */
export function parseQuestion(v: Record<string, unknown>, where: string, index: number, opts: { exemplar?: boolean } = {}): MultipleChoiceQuestion {
  const bad = (field: string, what: string, expected: string, fix: string): never => {
    throw new UserError({ what: `${what} (field "${field}")`, where, expected, received: describeValue(v[field]), fix });
  };
  const question = v.question;
  if (typeof question !== 'string' || question.trim() === '') bad('question', 'the question is missing or empty', 'a non-empty string', 'give every row its question text');
  const optField = v.options !== undefined ? 'options' : 'choices';
  const rawOptions = v[optField];
  if (!Array.isArray(rawOptions) || !rawOptions.every((o) => typeof o === 'string')) bad(optField, 'the options are not a list of strings', 'a list of 2–10 option strings', 'write "options": ["first", "second", …]');
  const all = rawOptions as string[];
  const options = all.filter((o) => o !== 'N/A');
  if (options.length < 2 || options.length > CHOICE_LETTERS.length) bad(optField, `${options.length} options (after dropping "N/A")`, 'between 2 and 10 options (letters A–J)', 'give each question 2 to 10 options');
  let answerIndex: number | null = null;
  if (v.answer_index !== undefined) {
    const ai = v.answer_index;
    if (typeof ai !== 'number' || !Number.isInteger(ai) || ai < 0 || ai >= all.length || all[ai] === 'N/A') bad('answer_index', 'the answer index does not point at an option', `an integer in [0, ${options.length - 1}]`, 'give the 0-based position of the right option');
    answerIndex = ai as number;
  }
  if (v.answer !== undefined) {
    const a = v.answer;
    const i = typeof a === 'string' ? CHOICE_LETTERS.indexOf(a) : -1;
    if (typeof a !== 'string' || a.length !== 1 || i < 0 || i >= all.length || all[i] === 'N/A') bad('answer', 'the answer is not the letter of an option', `one of ${CHOICE_LETTERS.slice(0, options.length).split('').join(', ')}`, 'write the right option\'s letter, e.g. "answer": "B" (or give "answer_index")');
    // the letter is the gold when both are given: compute_accuracy.py compares pred with "answer"
    // (MMLU-Pro test question_id 3983, chemistry, has answer "C" and answer_index 1)
    answerIndex = i;
  }
  if (answerIndex === null) bad('answer', 'the row has no answer', '"answer": "B" (a letter) or "answer_index": 1', 'add the right option');
  const idRaw = v.question_id ?? v.id;
  if (idRaw !== undefined && typeof idRaw !== 'string' && typeof idRaw !== 'number') bad(v.question_id !== undefined ? 'question_id' : 'id', 'the id is not a string or number', 'a string or number unique in the file', 'give each row its own id, or none (the row number is used)');
  const category = v.category ?? 'general';
  if (typeof category !== 'string' || category.trim() === '') bad('category', 'the category is not a non-empty string', 'a string such as "math"', 'name the category, or leave the field out');
  const cot = v.cot_content ?? '';
  if (typeof cot !== 'string') bad('cot_content', 'cot_content is not a string', 'the exemplar\'s worked answer', 'write it as a string');
  if (opts.exemplar && (cot as string).trim() === '') bad('cot_content', 'an exemplar has no chain-of-thought answer', '"cot_content": "A: Let\'s think step by step. … The answer is (B)."', "pass MMLU-Pro's validation split (its rows carry cot_content)");
  return { id: idRaw === undefined ? String(index) : String(idRaw), question: question as string, options, answerIndex: answerIndex as number, category: category as string, cotContent: cot as string, row: v, where };
}

/** Questions from records, ids checked unique. */
export function parseQuestions(records: readonly { value: Record<string, unknown>; where: string; index: number }[], source: string, opts: { exemplar?: boolean } = {}): MultipleChoiceQuestion[] {
  const seen = new Map<string, string>();
  const out = records.map((r) => {
    const q = parseQuestion(r.value, r.where, r.index, opts);
    const prev = seen.get(q.id);
    if (prev !== undefined) throw new UserError({ what: `question id ${q.id} appears twice (first at ${prev})`, where: r.where, expected: 'ids unique within the file', fix: 'give each question its own question_id / id' });
    seen.set(q.id, r.where);
    return q;
  });
  if (out.length === 0) throw new UserError({ what: 'the file holds no questions', where: source, fix: 'pass a file with at least one question row' });
  return out;
}

/** Records of a .zip's .json / .jsonl members (MMLU-Pro's eval_results/*.zip), in member order. */
function zipRecords(path: string): SourceRecord[] {
  const out: SourceRecord[] = [];
  for (const m of readZipMembers(path)) {
    if (!/\.jsonl?$/i.test(m.name)) continue;
    const text = m.data.toString('utf8');
    const at = `${path}:${m.name}`;
    const items: { v: unknown; where: string; index: number }[] = [];
    if (text.trimStart().startsWith('[')) {
      let arr: unknown;
      try {
        arr = JSON.parse(text);
      } catch (e) {
        throw new UserError({ what: `invalid JSON: ${(e as Error).message}`, where: at, expected: 'a JSON array of question rows', fix: 'unzip the archive and check the member' });
      }
      (arr as unknown[]).forEach((v, i) => items.push({ v, where: `${at} item ${i + 1}`, index: i + 1 }));
    } else {
      text.split('\n').forEach((line, i) => {
        if (!line.trim()) return;
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch (e) {
          throw new UserError({ what: `invalid JSON: ${(e as Error).message}`, where: `${at}:${i + 1}`, expected: 'one JSON object per line', fix: `correct or remove line ${i + 1}` });
        }
        items.push({ v, where: `${at}:${i + 1}`, index: i + 1 });
      });
    }
    for (const it of items) {
      if (it.v === null || typeof it.v !== 'object' || Array.isArray(it.v)) throw new UserError({ what: 'a row is not a JSON object', where: it.where, received: describeValue(it.v), fix: 'write one {...} object per question' });
      out.push({ value: it.v as Record<string, unknown>, index: out.length + 1, where: it.where });
    }
  }
  if (out.length === 0) throw new UserError({ what: 'the archive holds no .json or .jsonl member', where: path, fix: 'pass the archive of result files, or the file itself' });
  return out;
}

/** The records of a question file: .json (array or lines), .jsonl(.gz), .parquet, or a .zip of JSON files. */
export async function readQuestionRecords(path: string): Promise<SourceRecord[]> {
  return /\.zip$/i.test(path) ? zipRecords(path) : readAllRecords(path);
}

/** Questions from a file (see parseQuestion for the row formats); every bad row is named by its line. */
export async function readMultipleChoice(path: string, opts: { exemplar?: boolean } = {}): Promise<MultipleChoiceQuestion[]> {
  return parseQuestions(await readQuestionRecords(path), path, opts);
}
