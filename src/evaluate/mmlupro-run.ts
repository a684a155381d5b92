// Running MMLU-Pro (or any multiple-choice set in the same rows) against a policy: build each
// question's official CoT prompt, ask the policy at temperature 0, keep each answer as one JSON
// line of OUT/outputs.jsonl the moment its batch finishes (a rerun skips answered questions: the
// cache key is the question id and the SHA-256 of its prompt, so changing the shots or the file
// asks again), then score with compute_accuracy.py's extraction (mmlupro.ts) and write
//   OUT/results.json, OUT/results.txt        accuracy overall and per category, fallbacks
//   OUT/official/all_result.json             the rows as evaluate_from_api.py saves them
//                                            (question fields + "pred" + "model_outputs"), so
//                                            `python compute_accuracy.py OUT/official` recounts.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic, writeJsonAtomic, writeLinesAtomic } from '../io/atomic.js';
import type { AnswerPolicy } from './answers.js';
import { cleanResponse, cutAtNextQuestion, mmluProPrompt, scoreOutputs, type FallbackMode, type MultipleChoiceQuestion, type MultipleChoiceScore } from './mmlupro.js';

export interface OutputLine {
  question_id: string;
  category: string;
  prompt_sha256: string;
  /** the response as scored ("**" removed, cut at "Question:" for a local model) */
  model_outputs: string;
  tokens: number;
}

export interface MmluProRunOptions {
  questions: readonly MultipleChoiceQuestion[];
  /** category → exemplars (5-shot), or null (0-shot) */
  exemplars: Map<string, MultipleChoiceQuestion[]> | null;
  policy: AnswerPolicy;
  out: string;
  maxNewTokens: number;
  /** cut completions at "Question:" (vLLM's stop string in evaluate_from_local.py) */
  cutAtQuestion: boolean;
  fallback?: FallbackMode;
  /** questions per batch; answers are saved after each (default 16) */
  chunk?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface MmluProRun {
  score: MultipleChoiceScore;
  /** answers read back from OUT/outputs.jsonl instead of asked */
  resumed: number;
  truncatedPrompts: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const keyOf = (id: string, hash: string) => `${id}\t${hash}`;

/** Finished answers of an earlier run; a line torn by a crash (the last one) is dropped. */
export function readOutputLines(path: string): Map<string, OutputLine> {
  const done = new Map<string, OutputLine>();
  if (!existsSync(path)) return done;
  const lines = readFileSync(path, 'utf8').split('\n');
  const last = lines.map((l) => l.trim() !== '').lastIndexOf(true);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let row: OutputLine;
    try {
      row = JSON.parse(line) as OutputLine;
    } catch {
      if (i === last) return; // an interrupted append: that question is asked again
      throw new UserError({ what: 'a line in the middle of the answer cache is not JSON', where: `${path}:${i + 1}`, fix: 'delete the file (or that line) to ask those questions again' });
    }
    if (typeof row.question_id !== 'string' || typeof row.prompt_sha256 !== 'string' || typeof row.model_outputs !== 'string') {
      throw new UserError({ what: 'a line of the answer cache lacks question_id, prompt_sha256 or model_outputs', where: `${path}:${i + 1}`, fix: 'delete the file to start over' });
    }
    done.set(keyOf(row.question_id, row.prompt_sha256), row);
  });
  return done;
}

export async function runMmluPro(o: MmluProRunOptions): Promise<MmluProRun> {
  const cachePath = join(o.out, 'outputs.jsonl');
  const done = readOutputLines(cachePath);
  const items = o.questions.map((q) => {
    const prompt = mmluProPrompt(q, o.exemplars?.get(q.category) ?? []);
    return { q, prompt, key: keyOf(q.id, sha256(prompt)) };
  });
  const todo = items.filter((it) => !done.has(it.key));
  const resumed = items.length - todo.length;
  const chunk = o.chunk ?? 16;
  o.onProgress?.(resumed, items.length);
  mkdirSync(dirname(cachePath), { recursive: true });
  for (let i = 0; i < todo.length; i += chunk) {
    const batch = todo.slice(i, i + chunk);
    const answers = await o.policy.answer(
      batch.map((it) => ({ messages: [{ role: 'user', content: it.prompt }], temperature: 0, maxTokens: o.maxNewTokens })),
      (o.seed ?? 0) + i,
    );
    const lines = batch.map((it, j) => {
      const raw = o.cutAtQuestion ? cutAtNextQuestion(answers[j].text) : answers[j].text;
      const row: OutputLine = { question_id: it.q.id, category: it.q.category, prompt_sha256: it.key.split('\t')[1], model_outputs: cleanResponse(raw), tokens: answers[j].tokens };
      done.set(it.key, row);
      return JSON.stringify(row);
    });
    // one append per batch: a crash can only tear the last line, which the next run drops
    appendFileSync(cachePath, lines.join('\n') + '\n');
    o.onProgress?.(resumed + i + batch.length, items.length);
  }
  // the cache rewritten in question order, without answers to prompts no longer asked
  const rows = items.map((it) => done.get(it.key)!);
  writeLinesAtomic(cachePath, rows.map((r) => JSON.stringify(r)));
  const score = scoreOutputs(items.map((it, i) => ({ question: it.q, output: rows[i].model_outputs })), { fallback: o.fallback });
  writeJsonAtomic(
    join(o.out, 'official', 'all_result.json'),
    items.map((it, i) => ({ ...it.q.row, answer: score.items[i].answer, pred: score.items[i].extracted, model_outputs: rows[i].model_outputs })),
  );
  return { score, resumed, truncatedPrompts: o.policy.truncatedPrompts };
}

/** The results table: accuracy per category and overall. */
export function mmluProTable(s: MultipleChoiceScore): string {
  const rows = Object.entries(s.categories).map(([c, v]) => `${c.padEnd(20)} ${(100 * v.acc).toFixed(2).padStart(6)}  ${String(v.corr).padStart(5)} / ${v.corr + v.wrong}`);
  return [
    `${'category'.padEnd(20)} ${'acc %'.padStart(6)}  correct`,
    ...rows,
    `${'overall'.padEnd(20)} ${(100 * s.accuracy).toFixed(2).padStart(6)}  ${String(s.correct).padStart(5)} / ${s.total}`,
    `no letter found (random fallback): ${s.fallbacks}; Level-1 accuracy ${(100 * s.level1Accuracy).toFixed(2)} %`,
  ].join('\n');
}

/** OUT/results.json and OUT/results.txt. */
export function writeMmluProResults(out: string, s: MultipleChoiceScore, meta: Record<string, unknown>): Record<string, unknown> {
  const results = { ...meta, accuracy: s.accuracy, level1_accuracy: s.level1Accuracy, correct: s.correct, total: s.total, fallbacks: s.fallbacks, categories: s.categories };
  writeJsonAtomic(join(out, 'results.json'), results);
  writeFileAtomic(join(out, 'results.txt'), mmluProTable(s) + '\n');
  return results;
}
