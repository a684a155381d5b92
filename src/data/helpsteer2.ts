// HelpSteer2 ratings: the HF format, its multi-turn prompt convention, per-annotator ratings, and
// NeMo-Aligner's SteerLM regression format.
//
// HF format (card nvidia/HelpSteer2): {prompt, response, helpfulness, correctness, coherence,
// complexity, verbosity}, attributes integers 0–4. A multi-turn prompt is written as
//   {user turn 1}\n<extra_id_1>Assistant\n{assistant turn 1}\n<extra_id_1>User\n{user turn 2}
// and the response is the last assistant turn.
//
// SteerLM regression format (NeMo-Aligner examples/nlp/data/steerlm/process_to_regression_format.py
// with common.py's templates):
//   text  = "<extra_id_0>System\n{system}\n" + "<extra_id_1>User\n{prompt}\n"
//           + "<extra_id_1>Assistant\n{response}\n" + "<extra_id_2>"
//   label = [quality, toxicity, humor, creativity, helpfulness, correctness, coherence,
//            complexity, verbosity] as floats, −100 where unlabelled.
import { UserError, describeValue } from '../util/errors.js';
import { aggregateRating, type AggregatedRating } from './aggregate.js';

export const HELPSTEER2_ATTRIBUTES = ['helpfulness', 'correctness', 'coherence', 'complexity', 'verbosity'] as const;
export type HelpSteer2Attribute = (typeof HELPSTEER2_ATTRIBUTES)[number];
export const OPEN_ASSISTANT_ATTRIBUTES = ['quality', 'toxicity', 'humor', 'creativity'] as const;
export const STEERLM_ATTRIBUTES = [...OPEN_ASSISTANT_ATTRIBUTES, ...HELPSTEER2_ATTRIBUTES] as const;
export type SteerLmAttribute = (typeof STEERLM_ATTRIBUTES)[number];
/** Label value meaning "not labelled" (masked out of the regression loss). */
export const UNLABELLED = -100;

export const NEMO_SYSTEM_PROMPT =
  "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.";

export interface Turn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What a model is asked: one user message, or turns ending with a user turn (the one prompt type of steer). */
export type Prompt = string | readonly Turn[];

export interface HelpSteer2Row {
  prompt: string;
  response: string;
  helpfulness: number;
  correctness: number;
  coherence: number;
  complexity: number;
  verbosity: number;
}

const TURN_MARKER = /\n<extra_id_1>(User|Assistant)\n/g;

/** Split a HelpSteer2 prompt into turns (it starts with a user turn and ends with one). */
export function splitHelpSteer2Prompt(prompt: string): Turn[] {
  const turns: Turn[] = [];
  let role: Turn['role'] = 'user';
  let last = 0;
  for (const m of prompt.matchAll(TURN_MARKER)) {
    turns.push({ role, content: prompt.slice(last, m.index) });
    role = m[1] === 'User' ? 'user' : 'assistant';
    last = m.index! + m[0].length;
  }
  turns.push({ role, content: prompt.slice(last) });
  return turns;
}

/** Inverse of splitHelpSteer2Prompt. */
export function joinHelpSteer2Prompt(turns: readonly Turn[]): string {
  return turns
    .map((t, i) => {
      if (t.role === 'system') throw new UserError({ what: 'HelpSteer2 prompts carry no system turn', received: describeValue(t), fix: 'pass the system prompt separately (SteerLM conversion takes it as an option)' });
      if (i === 0) {
        if (t.role !== 'user') throw new UserError({ what: 'a HelpSteer2 prompt must start with a user turn', received: describeValue(t), fix: 'start the conversation with the user' });
        return t.content;
      }
      return `\n<extra_id_1>${t.role === 'user' ? 'User' : 'Assistant'}\n${t.content}`;
    })
    .join('');
}

/** The five attributes as a label vector in HelpSteer2 order. */
export function ratingLabels(row: Partial<Record<HelpSteer2Attribute, number>>): number[] {
  return HELPSTEER2_ATTRIBUTES.map((a) => row[a] ?? UNLABELLED);
}

// ---------------------------------------------------------------------------------------------
// SteerLM regression format

export interface SteerLmRow {
  text: string;
  label: number[];
}

/** A rated response in a format-neutral form: what SteerLM and HelpSteer2 rows both hold. */
export interface RatedResponse {
  system: string;
  prompt: string;
  response: string;
  /** Labelled attributes only (unlabelled ones are absent). */
  labels: Partial<Record<SteerLmAttribute, number>>;
}

const SYSTEM_PREFIX = '<extra_id_0>System\n';
const USER_OPEN = '\n<extra_id_1>User\n';
const ASSISTANT_OPEN = '\n<extra_id_1>Assistant\n';
const LABEL_SUFFIX = '\n<extra_id_2>';

export function toSteerLm(r: RatedResponse): SteerLmRow {
  const text = `${SYSTEM_PREFIX}${r.system}${USER_OPEN}${r.prompt}${ASSISTANT_OPEN}${r.response}${LABEL_SUFFIX}`;
  return { text, label: STEERLM_ATTRIBUTES.map((a) => r.labels[a] ?? UNLABELLED) };
}

/** Parse a SteerLM regression row back into system, prompt (HelpSteer2 convention), response, labels. */
export function fromSteerLm(row: SteerLmRow, where = 'SteerLM row'): RatedResponse {
  const bad = (what: string, fix: string): never => {
    throw new UserError({ what: `SteerLM text ${what}`, where: `${where} field text`, expected: `${SYSTEM_PREFIX}{system}${USER_OPEN}{prompt}${ASSISTANT_OPEN}{response}${LABEL_SUFFIX}`.replace(/\n/g, '\\n'), received: describeValue(row.text), fix });
  };
  const t = row.text;
  if (!t.startsWith(SYSTEM_PREFIX)) bad('does not start with <extra_id_0>System', 'render the text with NeMo-Aligner’s SteerLM templates');
  if (!t.endsWith(LABEL_SUFFIX)) bad('does not end with \\n<extra_id_2>', 'the regression format ends each text with the label prefix <extra_id_2>');
  const body = t.slice(SYSTEM_PREFIX.length, t.length - LABEL_SUFFIX.length);
  const u = body.indexOf(USER_OPEN);
  if (u < 0) bad('has no <extra_id_1>User turn', 'include the user turn');
  const a = body.lastIndexOf(ASSISTANT_OPEN);
  if (a < u) bad('has no <extra_id_1>Assistant turn after the user turn', 'the response is the last assistant turn');
  if (row.label.length !== STEERLM_ATTRIBUTES.length) {
    throw new UserError({ what: 'SteerLM label has the wrong number of slots', where: `${where} field label`, expected: `${STEERLM_ATTRIBUTES.length} numbers (${STEERLM_ATTRIBUTES.join(', ')})`, received: describeValue(row.label), fix: 'use -100 for unlabelled attributes' });
  }
  const labels: RatedResponse['labels'] = {};
  STEERLM_ATTRIBUTES.forEach((name, i) => {
    if (row.label[i] !== UNLABELLED) labels[name] = row.label[i];
  });
  return { system: body.slice(0, u), prompt: body.slice(u + USER_OPEN.length, a), response: body.slice(a + ASSISTANT_OPEN.length), labels };
}

export function helpSteer2ToRated(row: HelpSteer2Row, system = NEMO_SYSTEM_PROMPT): RatedResponse {
  const labels: RatedResponse['labels'] = {};
  for (const a of HELPSTEER2_ATTRIBUTES) labels[a] = row[a];
  return { system, prompt: row.prompt, response: row.response, labels };
}

/** Back to the HF format; every HelpSteer2 attribute must be labelled with an integer 0–4. */
export function ratedToHelpSteer2(r: RatedResponse, where = 'rated response'): HelpSteer2Row {
  const out: Record<string, unknown> = { prompt: r.prompt, response: r.response };
  for (const a of HELPSTEER2_ATTRIBUTES) {
    const v = r.labels[a];
    if (v === undefined || !Number.isInteger(v) || v < 0 || v > 4) {
      throw new UserError({ what: `attribute ${a} cannot be written as HelpSteer2`, where: `${where} label ${a}`, expected: 'an integer in [0, 4]', received: v === undefined ? 'unlabelled (-100)' : String(v), fix: 'keep the row in SteerLM format, or label the attribute' });
    }
    out[a] = v;
  }
  return out as unknown as HelpSteer2Row;
}

/**
 * JSON exactly as Python's json.dumps(value, ensure_ascii=False) writes it (", " and ": "
 * separators, floats with a ".0"), so files round-trip byte for byte with NeMo-Aligner's.
 * `floats` names keys whose integer values are Python floats.
 */
export function pythonJsonDumps(value: unknown, floats: ReadonlySet<string> = new Set(['label']), key = ''): string {
  if (Array.isArray(value)) return '[' + value.map((v) => pythonJsonDumps(v, floats, key)).join(', ') + ']';
  if (value !== null && typeof value === 'object') {
    return '{' + Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonJsonDumps(v, floats, k)}`).join(', ') + '}';
  }
  if (typeof value === 'number' && floats.has(key)) {
    if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
    if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
    return String(value);
  }
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Per-annotator ratings (HelpSteer2 "disagreements") → one HelpSteer2 row

export interface HelpSteer2Disagreement {
  prompt: string;
  response: string;
  helpfulness: number[];
  correctness: number[];
  coherence: number[];
  complexity: number[];
  verbosity: number[];
}

export interface AggregatedHelpSteer2 {
  row: HelpSteer2Row;
  /** Per attribute: the three most similar ratings, their mean and spread. */
  detail: Record<HelpSteer2Attribute, AggregatedRating>;
}

/**
 * Each attribute independently: the mean of its three most similar ratings, rounded (see
 * aggregate.ts for the rule and its tie-breaks).
 */
export function aggregateDisagreement(d: HelpSteer2Disagreement): AggregatedHelpSteer2 {
  const detail = {} as Record<HelpSteer2Attribute, AggregatedRating>;
  const row: Record<string, unknown> = { prompt: d.prompt, response: d.response };
  for (const a of HELPSTEER2_ATTRIBUTES) {
    detail[a] = aggregateRating(d[a]);
    row[a] = detail[a].value;
  }
  return { row: row as unknown as HelpSteer2Row, detail };
}
