// The toy world's tasks: short prompts with answers a program can check.
//
//   count    "How many r in strawberry?"  → "3"
//   spell    "Spell cat."                 → "c-a-t"
//   reverse  "Reverse cat."               → "tac"
//   add/sub  "What is 3+4?"               → "7"
//   first    "First letter of cat?"       → "c"
//
// Scoring reads the response's FINAL answer — the last answer-shaped token (an integer, a
// dash-spelled word, a word, a single letter), the way GSM8K-style graders take the last number —
// and compares it with the truth. "hmm… maybe 3" counts as 3; "2, no wait, 3" counts as 3;
// "3 or 4" counts as 4.
import { UserError, describeValue } from '../../util/errors.js';

export type ToyTaskKind = 'count' | 'spell' | 'reverse' | 'add' | 'sub' | 'first';
export const TOY_TASK_KINDS: readonly ToyTaskKind[] = ['count', 'spell', 'reverse', 'add', 'sub', 'first'];

export interface ToyTask {
  kind: ToyTaskKind;
  /** The word the task is about (count, spell, reverse, first). */
  word?: string;
  /** The letter to count (count). */
  letter?: string;
  /** Operands (add, sub). */
  a?: number;
  b?: number;
  /** The canonical terse answer. */
  answer: string;
}

/** Prompt templates per kind; {w} word, {l} letter, {a} {b} operands. All render to ≤ 40 chars. */
export const PROMPT_TEMPLATES: Record<ToyTaskKind, readonly string[]> = {
  count: ['How many {l} in {w}?', 'Count the {l} in {w}.', 'How often is {l} in {w}?'],
  spell: ['Spell {w}.', 'Spell {w} with dashes.', 'Spell out {w}.'],
  reverse: ['Reverse {w}.', 'Write {w} backwards.', 'Say {w} in reverse.'],
  add: ['What is {a}+{b}?', 'Add {a} and {b}.', 'What is {a} plus {b}?'],
  sub: ['What is {a}-{b}?', 'Take {b} from {a}.', 'What is {a} minus {b}?'],
  first: ['First letter of {w}?', 'Which letter starts {w}?', 'What does {w} start with?'],
};

export function answerFor(kind: ToyTaskKind, p: { word?: string; letter?: string; a?: number; b?: number }): string {
  switch (kind) {
    case 'count':
      return String([...p.word!].filter((c) => c === p.letter).length);
    case 'spell':
      return [...p.word!].join('-');
    case 'reverse':
      return [...p.word!].reverse().join('');
    case 'add':
      return String(p.a! + p.b!);
    case 'sub':
      return String(p.a! - p.b!);
    case 'first':
      return p.word![0];
  }
}

export function makeTask(kind: ToyTaskKind, p: { word?: string; letter?: string; a?: number; b?: number }): ToyTask {
  const t: ToyTask = { kind, answer: answerFor(kind, p) };
  if (p.word !== undefined) t.word = p.word;
  if (p.letter !== undefined) t.letter = p.letter;
  if (p.a !== undefined) t.a = p.a;
  if (p.b !== undefined) t.b = p.b;
  return t;
}

export function renderPrompt(task: ToyTask, template: number): string {
  const templates = PROMPT_TEMPLATES[task.kind];
  const tpl = templates[template % templates.length];
  return tpl
    .replace('{w}', task.word ?? '')
    .replace('{l}', task.letter ?? '')
    .replace('{a}', String(task.a ?? ''))
    .replace('{b}', String(task.b ?? ''));
}

// Templates compiled to regexes for the inverse direction.
const PARSERS: { kind: ToyTaskKind; re: RegExp; fields: ('w' | 'l' | 'a' | 'b')[] }[] = TOY_TASK_KINDS.flatMap((kind) =>
  PROMPT_TEMPLATES[kind].map((tpl) => {
    const fields: ('w' | 'l' | 'a' | 'b')[] = [];
    const src = tpl.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(w|l|a|b)\}/g, (_, f: 'w' | 'l' | 'a' | 'b') => {
      fields.push(f);
      return f === 'w' ? '([a-z]+)' : f === 'l' ? '([a-z])' : '(\\d+)';
    });
    return { kind, re: new RegExp(`^${src}$`), fields };
  }),
);

/** The task a toy-world prompt asks, or null when the text is not a toy-world prompt. */
export function taskFromPrompt(prompt: string): ToyTask | null {
  const text = prompt.trim();
  for (const { kind, re, fields } of PARSERS) {
    const m = re.exec(text);
    if (!m) continue;
    const p: { word?: string; letter?: string; a?: number; b?: number } = {};
    fields.forEach((f, i) => {
      const v = m[i + 1];
      if (f === 'w') p.word = v;
      else if (f === 'l') p.letter = v;
      else if (f === 'a') p.a = Number(v);
      else p.b = Number(v);
    });
    return makeTask(kind, p);
  }
  return null;
}

/** The final answer a response gives for a task kind, or null when it gives none. */
export function extractAnswer(kind: ToyTaskKind, response: string): string | null {
  const text = response.toLowerCase();
  const last = (re: RegExp, pick: (m: string) => boolean = () => true): string | null => {
    let found: string | null = null;
    for (const m of text.matchAll(re)) if (pick(m[0])) found = m[0];
    return found;
  };
  switch (kind) {
    case 'count':
    case 'add':
    case 'sub':
      return last(/\d+/g);
    case 'spell':
      return last(/(?<![a-z-])[a-z](?:-[a-z])+(?![a-z-])/g);
    case 'reverse':
      return last(/[a-z]+/g);
    case 'first':
      return last(/[a-z]+/g, (w) => w.length === 1);
  }
}

export interface ToyScore {
  correct: boolean;
  /** The final answer read from the response (null: none found). */
  extracted: string | null;
  expected: string;
}

/** True task accuracy: is the response's final answer the right one? */
export function scoreAnswer(task: ToyTask, response: string): ToyScore {
  if (!TOY_TASK_KINDS.includes(task.kind)) {
    throw new UserError({ what: `unknown toy task kind ${describeValue(task.kind)}`, expected: TOY_TASK_KINDS.join(', '), fix: 'read tasks from the ground-truth file `steer data toy` wrote' });
  }
  const extracted = extractAnswer(task.kind, response);
  const expected = task.answer.toLowerCase();
  const correct = extracted !== null && (task.kind === 'count' || task.kind === 'add' || task.kind === 'sub' ? Number(extracted) === Number(expected) : extracted === expected);
  return { correct, extracted, expected: task.answer };
}

/** scoreAnswer for a prompt string (the task is read back from the prompt's template). */
export function scorePromptAnswer(prompt: string, response: string): ToyScore {
  const task = taskFromPrompt(prompt);
  if (task === null) {
    throw new UserError({
      what: 'not a toy-world prompt',
      received: describeValue(prompt),
      expected: `a prompt made from one of the templates, e.g. ${JSON.stringify(renderPrompt(makeTask('count', { word: 'strawberry', letter: 'r' }), 0))}`,
      fix: 'score prompts from `steer data toy` output, or pass the task from ground-truth.jsonl to scoreAnswer',
    });
  }
  return scoreAnswer(task, response);
}
