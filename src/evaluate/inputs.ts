// Readers for what `steer eval` takes: model answers and judgments in the official formats of
// FastChat (MT-Bench), arena-hard-auto (v0.1 and v2 layouts) and alpaca_eval, plus steer's own
// simple JSONL forms. Every malformed row is a UserError naming file, line and field.
import { basename } from 'node:path';
import { UserError, describeValue } from '../util/errors.js';
import type { ArenaJudgment, ArenaStyle } from './arenahard.js';
import type { ArenaJudgmentRecord, ArenaQuestion } from './run.js';
import { readJson, readJsonlObjects } from './files.js';
import type { PairScore } from './rewardbench.js';
import type { PairJudgmentRow, SingleJudgmentRow } from './mtbench.js';

const modelFromFile = (path: string) => basename(path).replace(/\.jsonl?$/i, '');

// --- RewardBench -----------------------------------------------------------------------------

/**
 * Scored pairs: {subset, chosen, rejected} (also score_chosen/score_rejected or
 * chosen_score/rejected_score, as RewardBench's result files name them), or per-example results
 * {subset, result} (1/0, 0.5 for a generative tie).
 */
export function readRewardBenchScores(path: string): { pairs: PairScore[]; results: { subset: string; result: number }[] } {
  const pairs: PairScore[] = [];
  const results: { subset: string; result: number }[] = [];
  for (const { line, value } of readJsonlObjects(path)) {
    const where = `${path}:${line}`;
    if (typeof value.subset !== 'string') throw new UserError({ what: 'field "subset" must be a string', where, received: describeValue(value.subset), fix: 'each row needs the RewardBench subset it belongs to, e.g. "alpacaeval-easy"' });
    const num = (...keys: string[]) => {
      for (const k of keys) if (typeof value[k] === 'number') return value[k] as number;
      const first = keys.find((k) => k in value);
      if (first !== undefined) throw new UserError({ what: `field "${first}" must be a number`, where, received: describeValue(value[first]), fix: 'write the reward model scores as numbers' });
      return undefined;
    };
    const result = num('result', 'results');
    if (result !== undefined) {
      results.push({ subset: value.subset, result });
      continue;
    }
    const chosen = num('chosen', 'score_chosen', 'chosen_score');
    const rejected = num('rejected', 'score_rejected', 'rejected_score');
    if (chosen === undefined || rejected === undefined) {
      throw new UserError({ what: 'a row needs the chosen and rejected scores (or a result)', where, expected: '{"subset": "...", "chosen": 1.2, "rejected": 0.3} or {"subset": "...", "result": 1}', received: describeValue(value), fix: 'score both responses of every pair with the reward model first (steer rm score)' });
    }
    pairs.push({ subset: value.subset, chosen, rejected });
  }
  if (pairs.length && results.length) throw new UserError({ what: 'the file mixes scored pairs and per-example results', where: path, fix: 'use one kind of row per file' });
  return { pairs, results };
}

export interface RewardBenchPair {
  id: string | number;
  subset: string;
  prompt: string;
  chosen: string;
  rejected: string;
}

/** Pairs to judge: {id?, subset, prompt, chosen, rejected}. */
export function readRewardBenchPairs(path: string): RewardBenchPair[] {
  return readJsonlObjects(path).map(({ line, value }) => {
    const where = `${path}:${line}`;
    for (const k of ['subset', 'prompt', 'chosen', 'rejected']) {
      if (typeof value[k] !== 'string') throw new UserError({ what: `field "${k}" must be a string`, where, received: describeValue(value[k]), fix: 'each pair needs subset, prompt, chosen and rejected texts' });
    }
    return { id: (value.id as string | number | undefined) ?? line, subset: value.subset as string, prompt: value.prompt as string, chosen: value.chosen as string, rejected: value.rejected as string };
  });
}

// --- MT-Bench judgments ----------------------------------------------------------------------

export function readMtBenchJudgments(path: string): { single: SingleJudgmentRow[]; pairs: PairJudgmentRow[] } {
  const single: SingleJudgmentRow[] = [];
  const pairs: PairJudgmentRow[] = [];
  for (const { line, value } of readJsonlObjects(path)) {
    const where = `${path}:${line}`;
    if ('g1_winner' in value) {
      const ok = (w: unknown) => w === 'model_1' || w === 'model_2' || w === 'tie' || w === 'error';
      if (typeof value.model_1 !== 'string' || typeof value.model_2 !== 'string' || !ok(value.g1_winner) || !ok(value.g2_winner)) {
        throw new UserError({ what: 'a pairwise judgment needs model_1, model_2, g1_winner and g2_winner (model_1 | model_2 | tie | error)', where, received: describeValue(value), fix: "pass FastChat's model_judgment/<judge>_pair.jsonl" });
      }
      pairs.push({ model1: value.model_1, model2: value.model_2, g1Winner: value.g1_winner as PairJudgmentRow['g1Winner'], g2Winner: value.g2_winner as PairJudgmentRow['g2Winner'] });
    } else {
      if (typeof value.model !== 'string' || typeof value.score !== 'number' || (value.turn !== 1 && value.turn !== 2)) {
        throw new UserError({ what: 'a single-answer judgment needs model, score (a number, −1 for a failed judgment) and turn (1 or 2)', where, received: describeValue(value), fix: "pass FastChat's model_judgment/<judge>_single.jsonl" });
      }
      single.push({ model: value.model, turn: value.turn, score: value.score });
    }
  }
  if (single.length && pairs.length) throw new UserError({ what: 'the file mixes single-answer and pairwise judgments', where: path, fix: 'pass one judgment file per mode' });
  return { single, pairs };
}

// --- Arena-Hard ------------------------------------------------------------------------------

/** Questions: v0.1 {question_id, turns: [{content}]} or the v2 layout {uid, prompt}. */
export function readArenaQuestions(path: string): ArenaQuestion[] {
  return readJsonlObjects(path).map(({ line, value }) => {
    const where = `${path}:${line}`;
    const id = value.question_id ?? value.uid;
    const turns = value.turns as { content?: unknown }[] | undefined;
    const prompt = typeof value.prompt === 'string' ? value.prompt : Array.isArray(turns) && typeof turns[0]?.content === 'string' ? turns[0].content : undefined;
    if ((typeof id !== 'string' && typeof id !== 'number') || prompt === undefined) {
      throw new UserError({ what: 'a question needs an id (question_id or uid) and its text (prompt, or turns[0].content)', where, received: describeValue(value), fix: "pass arena-hard-auto's data/arena-hard-v0.1/question.jsonl" });
    }
    return { questionId: String(id), prompt };
  });
}

export interface ArenaAnswers {
  model: string;
  answers: Map<string, string>;
  /** style metadata when the file carries it (conv_metadata or metadata) */
  style: Map<string, ArenaStyle>;
}

function sumCounts(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object') return Object.values(v as Record<string, unknown>).reduce<number>((a, b) => a + (typeof b === 'number' ? b : 0), 0);
  return undefined;
}

/**
 * Model answers: arena-hard v0.1 {question_id, model_id, choices: [{turns: [{content}]}],
 * conv_metadata?}, v2 {uid, model, messages: [..., {role: "assistant", content: {answer}}], metadata?},
 * or steer's {question_id, model?, answer}. The model name comes from the rows, else the file name.
 */
export function readArenaAnswers(path: string): ArenaAnswers {
  const answers = new Map<string, string>();
  const style = new Map<string, ArenaStyle>();
  let model: string | null = null;
  for (const { line, value } of readJsonlObjects(path)) {
    const where = `${path}:${line}`;
    const id = value.question_id ?? value.uid;
    const choices = value.choices as { turns?: ({ content?: unknown } | string)[] }[] | undefined;
    const turn0 = Array.isArray(choices) ? choices[0]?.turns?.[0] : undefined;
    const messages = value.messages as { role?: string; content?: unknown }[] | undefined;
    const last = Array.isArray(messages) ? messages[messages.length - 1]?.content : undefined;
    const text =
      typeof value.answer === 'string'
        ? value.answer
        : typeof turn0 === 'string'
          ? turn0
          : turn0 && typeof turn0.content === 'string'
            ? turn0.content
            : typeof last === 'string'
              ? last
              : last && typeof (last as { answer?: unknown }).answer === 'string'
                ? (last as { answer: string }).answer
                : undefined;
    if ((typeof id !== 'string' && typeof id !== 'number') || text === undefined) {
      throw new UserError({ what: 'an answer needs an id (question_id or uid) and its text', where, expected: '{"question_id", "choices": [{"turns": [{"content": "..."}]}]} (arena-hard v0.1), {"uid", "messages": [...]} (v2) or {"question_id", "answer"}', received: describeValue(value), fix: "pass arena-hard-auto's model_answer/<model>.jsonl" });
    }
    const name = (typeof value.model_id === 'string' && value.model_id) || (typeof value.model === 'string' && value.model) || null;
    if (name) model ??= name;
    answers.set(String(id), text);
    const meta = (value.conv_metadata ?? value.metadata) as Record<string, unknown> | undefined;
    if (meta && typeof meta === 'object') {
      const tokenLen = sumCounts(meta.token_len);
      const headers = sumCounts(meta.header_count);
      const lists = sumCounts(meta.list_count);
      const bold = sumCounts(meta.bold_count);
      if (tokenLen !== undefined && headers !== undefined && lists !== undefined && bold !== undefined) style.set(String(id), { tokenLen, headers, lists, bold });
    }
  }
  return { model: model ?? modelFromFile(path), answers, style };
}

/** Judgment rows (model_judgment/<judge>/<model>.jsonl): {question_id|uid, model, games: [{score}, {score}]}. */
export function readArenaJudgments(path: string): ArenaJudgment[] {
  return readJsonlObjects(path).map(({ line, value }) => {
    const where = `${path}:${line}`;
    const id = value.question_id ?? value.uid;
    const games = value.games as ({ score?: unknown } | null)[] | undefined;
    if ((typeof id !== 'string' && typeof id !== 'number') || typeof value.model !== 'string' || !Array.isArray(games) || games.length < 1) {
      throw new UserError({ what: 'a judgment needs question_id (or uid), model and games', where, received: describeValue(value), fix: "pass arena-hard-auto's model_judgment/<judge>/<model>.jsonl" });
    }
    const verdict = (g: { score?: unknown } | null | undefined) => (g && typeof g.score === 'string' ? g.score : null);
    return { questionId: String(id), model: value.model.split('/').pop()!, games: [verdict(games[0]), verdict(games[1])] };
  });
}

export function arenaRecordsJsonl(records: readonly ArenaJudgmentRecord[]): string[] {
  return records.map((r) => JSON.stringify(r));
}

// --- AlpacaEval ------------------------------------------------------------------------------

/** alpaca_eval outputs: a JSON array of {instruction, output, generator}. */
export function readAlpacaOutputs(path: string): { instructions: string[]; outputs: string[]; generator: string; datasets: string[] } {
  const v = readJson(path);
  if (!Array.isArray(v)) throw new UserError({ what: 'outputs must be a JSON array of {instruction, output, generator}', where: path, received: describeValue(v), fix: "write alpaca_eval's model_outputs.json format" });
  const instructions: string[] = [];
  const outputs: string[] = [];
  const datasets: string[] = [];
  let generator: string | null = null;
  v.forEach((row: unknown, i: number) => {
    const r = row as Record<string, unknown>;
    if (!r || typeof r.instruction !== 'string' || typeof r.output !== 'string') {
      throw new UserError({ what: 'each output needs "instruction" and "output" strings', where: `${path}[${i}]`, received: describeValue(row), fix: "write alpaca_eval's model_outputs.json format" });
    }
    instructions.push(r.instruction);
    outputs.push(r.output);
    datasets.push(typeof r.dataset === 'string' ? r.dataset : '');
    if (typeof r.generator === 'string') generator ??= r.generator;
  });
  return { instructions, outputs, generator: generator ?? modelFromFile(path).replace(/\.json$/i, ''), datasets };
}
