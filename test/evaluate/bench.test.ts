// From a model to a benchmark score with one command each, as a user runs it: stories260K (a real
// llama2.c policy) or an OpenAI-compatible endpoint answers, a scripted judge endpoint on
// 127.0.0.1 judges in each benchmark's format, steer scores — and the official code (FastChat's
// show_result, alpaca_eval's LC metric; test/evaluate/peers.py) recomputes the numbers from the
// files steer wrote. Small on purpose: a few questions, 16-token answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose } from '../helpers/close.js';
import { repoRoot, sharedFile } from '../helpers/shared.js';
import { venvPython } from '../helpers/python.js';
import { conformance } from './conformance.js';
import { startFakeJudge } from './fake-judge.js';
import { benchReply } from './bench-judge.js';
import { runSteer } from '../helpers/cli.js';
import { initToyPolicy, savePolicy } from '../../src/policy/model.js';

function steer(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/bin.ts'), ...args], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function peer(py: string, args: string[]) {
  const r = spawnSync(py, [join(repoRoot, 'test/evaluate/peers.py'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const tmp = () => mkdtempSync(join(tmpdir(), 'steer-bench-'));
const jsonl = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const SHORTUUID = /^[23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz]{22}$/;

function policyFiles(t: Parameters<typeof sharedFile>[0]) {
  const bin = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tok = sharedFile(t, 'data/stories260k/tok512.bin');
  return bin && tok ? ['--model', bin, '--tokenizer', tok] : null;
}

test('MT-Bench: an endpoint answers with FastChat temperatures and two turns; stories260K answers, is judged, and FastChat show_result gives the same averages; a torn answer file resumes', async (t) => {
  const q = sharedFile(t, 'data/mt-bench/question.jsonl');
  const prompts = sharedFile(t, 'data/mt-bench/judge_prompts.jsonl');
  const ref = sharedFile(t, 'data/mt-bench/reference_answer-gpt-4.jsonl');
  const model = policyFiles(t);
  const py = venvPython(t, ['fastchat.llm_judge.show_result']);
  if (!q || !prompts || !ref || !model || !py) return;
  const fake = await startFakeJudge(benchReply);
  t.after(() => fake.close());
  const dir = tmp();

  // 1. an endpoint policy over all 80 questions, answers only: the requests FastChat's gen_api_answer makes
  const api = await steer(['eval', 'mtbench', '--policy-url', fake.url, '--policy-model', 'gpt-3.5-turbo', '--questions', q, '--answers-only', '--out', dir, '--quiet']);
  assert.equal(api.status, 0, api.stderr);
  const questions = jsonl(q);
  assert.equal(fake.requests, 160, 'two turns per question');
  const catOf = new Map(questions.map((x) => [x.turns[0], x.category]));
  const temps: Record<string, number> = { writing: 0.7, roleplay: 0.7, extraction: 0, math: 0, coding: 0, reasoning: 0, stem: 0.1, humanities: 0.1 };
  for (const b of fake.bodies) {
    const cat = catOf.get(b.messages[0].content)!;
    assert.equal(b.temperature, temps[cat], `temperature for ${cat}`);
    assert.equal(b.max_tokens, 1024);
  }
  // turn 2 carries the first question and answer
  const second = fake.bodies.find((b) => b.messages.length === 3)!;
  assert.deepEqual(second.messages.map((m) => m.role), ['user', 'assistant', 'user']);
  const apiRows = jsonl(join(dir, 'model_answer/gpt-3.5-turbo.jsonl'));
  assert.deepEqual(apiRows.map((r) => r.question_id), questions.map((x) => x.question_id), 'sorted by question_id');
  assert.equal(second.messages[1].content, apiRows.find((r) => r.choices[0].turns[0] === second.messages[1].content)?.choices[0].turns[0]);

  // 2. stories260K, judged: one command from the model to the score
  const before = fake.requests;
  const args = ['eval', 'mtbench', ...model, '--questions', q, '--judge-prompts', prompts, '--reference', ref, '--limit', '3', '--max-new-tokens', '16', '--judge-url', fake.url, '--judge-model', 'gpt-4', '--out', dir, '--json', '--quiet'];
  const r = await steer(args);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fake.requests - before, 6, '3 questions × 2 turns judged');
  const out = JSON.parse(r.stdout).models.stories260K;
  // question 82's two judgments carry no rating (the scripted judge): −1, left out of the averages
  assert.deepEqual([out.nRows, out.nValid], [6, 4]);
  assert.equal(jsonl(join(dir, 'gpt-4_single.jsonl')).filter((j) => j.score === -1).length, 2);
  const answerPath = join(dir, 'model_answer/stories260K.jsonl');
  const rows = jsonl(answerPath);
  assert.equal(rows.length, 3);
  for (const row of rows) {
    assert.deepEqual(Object.keys(row), ['question_id', 'answer_id', 'model_id', 'choices', 'tstamp']);
    assert.match(row.answer_id, SHORTUUID);
    assert.equal(row.model_id, 'stories260K');
    assert.equal(row.choices[0].turns.length, 2);
  }
  // the official code on the same files
  const official = peer(py, ['mtbench', join(dir, 'gpt-4_single.jsonl'), join(dir, 'model_answer')]);
  assert.equal(out.average, official.average.stories260K);
  assert.equal(out.firstTurn, official.first_turn.stories260K);
  assert.equal(out.secondTurn, official.second_turn.stories260K);
  assert.deepEqual(official.answers.stories260K['81'], rows[0].choices[0].turns);

  // 3. a crash tore the last answer line: only that question is answered and judged again
  const text = readFileSync(answerPath, 'utf8');
  writeFileSync(answerPath, text.slice(0, text.length - 40));
  const judged = fake.requests;
  const again = await steer(args);
  assert.equal(again.status, 0, again.stderr);
  const rows2 = jsonl(answerPath);
  assert.deepEqual(rows2.slice(0, 2).map((x) => x.answer_id), rows.slice(0, 2).map((x) => x.answer_id), 'finished answers kept');
  assert.equal(rows2.length, 3);
  assert.ok(fake.requests - judged <= 2, 'at most the regenerated answer’s two turns are judged again');
  assert.equal(jsonl(join(dir, 'gpt-4_single.jsonl')).length, 6, 'no judgment counted twice');
});

test('AlpacaEval 2 from stories260K: model_outputs.json, annotations in the official order, LC within 0.01 of alpaca_eval', async (t) => {
  const refOut = sharedFile(t, 'data/alpaca-eval/gpt4_1106_preview.model_outputs.json');
  const c = conformance(t, 'alpacaeval_lc');
  const model = policyFiles(t);
  const py = venvPython(t, ['pandas', 'sklearn', 'patsy']);
  if (!refOut || !c || !model || !py) return;
  const fake = await startFakeJudge(benchReply);
  t.after(() => fake.close());
  const dir = tmp();
  const g = c.gamed_regularization_rows;
  writeFileSync(join(dir, 'df_gamed.csv'), 'model,index,preference,std_delta_len,instruction_difficulty,not_gamed_baseline\n' + g.index.map((idx: number, i: number) => `${g.model[i]},${idx},${g.preference[i]},${g.std_delta_len[i]},${g.instruction_difficulty[i]},False`).join('\n') + '\n');
  writeFileSync(join(dir, 'instruction_difficulty.csv'), ',instruction_difficulty\n' + c.instruction_difficulty.map((v: number, i: number) => `${i},${v}`).join('\n') + '\n');
  const r = await steer(['eval', 'alpaca', ...model, '--reference-outputs', refOut, '--gamed', join(dir, 'df_gamed.csv'), '--instruction-difficulty', join(dir, 'instruction_difficulty.csv'), '--limit', '40', '--max-new-tokens', '16', '--judge-url', fake.url, '--judge-model', 'gpt-4-1106-preview', '--out', dir, '--json', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  const outputs = JSON.parse(readFileSync(join(dir, 'model_outputs.json'), 'utf8'));
  const evalSet = JSON.parse(readFileSync(refOut, 'utf8'));
  assert.equal(outputs.length, 40);
  assert.deepEqual(Object.keys(outputs[0]), ['instruction', 'output', 'generator', 'dataset']);
  assert.deepEqual(outputs.map((o: { instruction: string; dataset: string }) => [o.instruction, o.dataset]), evalSet.slice(0, 40).map((o: { instruction: string; dataset: string }) => [o.instruction, o.dataset]));
  assert.equal(fake.requests, 40);
  assert.deepEqual(fake.bodies.map((b) => [b.max_tokens, b.temperature, b.top_logprobs]), new Array(40).fill([1, 1, 5]));
  const official = peer(py, ['alpaca', join(dir, 'annotations.json'), join(dir, 'df_gamed.csv')]);
  const annotations = JSON.parse(readFileSync(join(dir, 'annotations.json'), 'utf8'));
  assert.deepEqual(annotations.map((a: { is_switched_outputs: boolean }) => a.is_switched_outputs), official.is_switched_outputs, 'the order shown to the judge is the official one, row by row');
  assertClose(res.win_rate, official.win_rate, { rtol: 1e-12 });
  assertClose(res.standard_error, official.standard_error, { rtol: 1e-9 });
  assert.equal(res.discrete_win_rate, official.discrete_win_rate);
  assert.ok(Math.abs(res.length_controlled_winrate - official.length_controlled_winrate) < 0.01, `LC ${res.length_controlled_winrate} vs alpaca_eval ${official.length_controlled_winrate}`);
});

test('Arena-Hard: baseline answers from an endpoint through a 429 storm, stories260K answers in model_answer format, both orders judged, BT score', async (t) => {
  const q = sharedFile(t, 'data/arena-hard/question-v0.1.jsonl');
  const model = policyFiles(t);
  if (!q || !model) return;
  const fake = await startFakeJudge(benchReply);
  t.after(() => fake.close());
  const dir = tmp();
  fake.failures.push({ status: 429, retryAfter: '0' }, { status: 503 });
  const base = await steer(['eval', 'arena', '--policy-url', fake.url, '--policy-model', 'gpt-4-0314', '--questions', q, '--limit', '6', '--answers-only', '--out', dir, '--quiet']);
  assert.equal(base.status, 0, base.stderr);
  assert.equal(fake.requests, 8, '6 answers + 2 retried failures');
  assert.deepEqual(new Set(fake.bodies.map((b) => `${b.temperature}/${b.max_tokens}`)), new Set(['0/4096']));
  const judgedBefore = fake.requests;
  const r = await steer(['eval', 'arena', ...model, '--questions', q, '--answers', join(dir, 'model_answer/gpt-4-0314.jsonl'), '--limit', '6', '--max-new-tokens', '16', '--rounds', '10', '--judge-url', fake.url, '--judge-model', 'gpt-4-1106-preview', '--out', dir, '--json', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const rows = jsonl(join(dir, 'model_answer/stories260K.jsonl'));
  assert.equal(rows.length, 6);
  for (const row of rows) {
    assert.deepEqual(Object.keys(row), ['question_id', 'answer_id', 'model_id', 'choices', 'tstamp', 'conv_metadata']);
    assert.deepEqual(Object.keys(row.choices[0].turns[0]), ['content', 'token_len']);
    assert.ok(row.choices[0].turns[0].token_len > 0 && row.choices[0].turns[0].token_len <= 16, `token_len ${row.choices[0].turns[0].token_len}`);
  }
  const judgments = jsonl(join(dir, 'model_judgment/stories260K.jsonl'));
  assert.equal(judgments.length, 6);
  const calls = fake.requests - judgedBefore;
  const retried = fake.bodies.slice(judgedBefore).filter((b) => b.messages.length === 4).length;
  assert.equal(calls, 12 + retried, 'two games per question, plus a second turn where no verdict came');
  const out = JSON.parse(r.stdout);
  assert.equal(out.models['gpt-4-0314'].score, 50);
  assert.ok(out.models.stories260K.score >= 0 && out.models.stories260K.score <= 100, `score ${out.models.stories260K.score}`);
  assert.ok(out.lengths.stories260K.tokens.n === 6 && out.lengths.stories260K.chars.mean > 0, JSON.stringify(out.lengths));
});

test('eval all: one command from an endpoint policy to the three numbers, equal to each benchmark’s own results, with the probe answers', async (t) => {
  const data = sharedFile(t, 'data');
  const c = conformance(t, 'alpacaeval_lc');
  if (!data || !c) return;
  const fake = await startFakeJudge(benchReply);
  t.after(() => fake.close());
  const dir = tmp();
  const g = c.gamed_regularization_rows;
  writeFileSync(join(dir, 'df_gamed.csv'), 'model,index,preference,std_delta_len,instruction_difficulty,not_gamed_baseline\n' + g.index.map((idx: number, i: number) => `${g.model[i]},${idx},${g.preference[i]},${g.std_delta_len[i]},${g.instruction_difficulty[i]},False`).join('\n') + '\n');
  writeFileSync(join(dir, 'instruction_difficulty.csv'), ',instruction_difficulty\n' + c.instruction_difficulty.map((v: number, i: number) => `${i},${v}`).join('\n') + '\n');
  writeFileSync(join(dir, 'probes.txt'), 'How many r in strawberry?\nSpell cat.\n');
  // the Arena-Hard baseline: a small (untrained) steer policy that answers in the same run
  savePolicy(join(dir, 'toy-base'), initToyPolicy(3));
  const r = await steer(['eval', 'all', '--policy-url', fake.url, '--policy-model', 'my-policy', '--data', data, '--gamed', join(dir, 'df_gamed.csv'), '--instruction-difficulty', join(dir, 'instruction_difficulty.csv'), '--arena-baseline-model', join(dir, 'toy-base'), '--max-new-tokens', '12', '--limit', '5', '--probes', join(dir, 'probes.txt'), '--judge-url', fake.url, '--judge-model', 'judge', '--out', join(dir, 'all'), '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(readFileSync(join(dir, 'all/summary.json'), 'utf8'));
  const res = (b: string) => JSON.parse(readFileSync(join(dir, 'all', b, 'results.json'), 'utf8'));
  assert.equal(summary.model, 'my-policy');
  assert.equal(summary.mtbench, res('mtbench').models['my-policy'].average);
  assert.equal(summary.alpacaeval2_lc, res('alpaca').length_controlled_winrate);
  assert.equal(summary.arena_hard, res('arena').models['my-policy'].score);
  assert.equal(res('arena').baseline, 'toy-base');
  assert.equal(jsonl(join(dir, 'all/arena-baseline/model_answer/toy-base.jsonl')).length, 5);
  assert.deepEqual(summary.probes.map((p: { prompt: string }) => p.prompt), ['How many r in strawberry?', 'Spell cat.']);
  assert.match(r.stdout, /MT-Bench \(1–10\)[\s\S]*AlpacaEval 2 LC %[\s\S]*Arena-Hard % vs toy-base/);
  // the probe request: greedy, single turn
  assert.ok(fake.bodies.some((b) => b.messages.length === 1 && b.messages[0].content === 'Spell cat.' && b.temperature === 0));
});

test('an endpoint that dies mid-run: exit 2 with the fix, and the rerun asks only for what is missing', async (t) => {
  const q = sharedFile(t, 'data/mt-bench/question.jsonl');
  if (!q) return;
  let broken = true;
  const fake = await startFakeJudge((messages) => {
    // the fourth question's first turn fails (HTTP 500) while the server is broken
    if (broken && messages.length === 1 && messages[0].content.startsWith('Write a persuasive email')) throw new Error('scripted crash');
    return benchReply(messages);
  });
  t.after(() => fake.close());
  const dir = tmp();
  const args = ['eval', 'mtbench', '--policy-url', fake.url, '--policy-model', 'p', '--questions', q, '--limit', '4', '--answers-only', '--max-retries', '0', '--out', dir, '--quiet'];
  const first = await steer(args);
  assert.equal(first.status, 2);
  assert.match(first.stderr, /the policy endpoint kept failing after 1 attempts \(last: HTTP 500\)/);
  assert.match(first.stderr, /rerun the same command to resume/);
  assert.doesNotMatch(first.stderr, /at .*\.ts:\d+/, 'no stack trace');
  const seen = fake.requests; // 4 first turns (one failed) + nothing else: the step stops at the failure
  broken = false;
  const second = await steer(args);
  assert.equal(second.status, 0, second.stderr);
  // cached: the 3 first turns that succeeded; asked: the failed first turn, then 4 second turns
  assert.equal(fake.requests - seen, 5);
  assert.equal(jsonl(join(dir, 'model_answer/p.jsonl')).length, 4);
});

test('policy option errors: exit 2, one message naming the option and the fix', () => {
  const run = (args: string[]) => runSteer(args);
  const both = run(['eval', 'mtbench', '--model', 'm', '--policy-url', 'http://127.0.0.1:9/v1', '--questions', 'q.jsonl']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--model \/ --policy-url: pass --model or --policy-url, not both/);
  const noName = run(['eval', 'arena', '--policy-url', 'http://127.0.0.1:9/v1', '--questions', 'q.jsonl']);
  assert.equal(noName.status, 2);
  assert.match(noName.stderr, /--policy-model: --policy-url needs the model name to send[\s\S]*fix: pass --policy-model NAME/);
  const noRef = run(['eval', 'alpaca', '--policy-url', 'http://127.0.0.1:9/v1', '--policy-model', 'p', '--gamed', 'g.csv', '--instruction-difficulty', 'd.csv']);
  assert.equal(noRef.status, 2);
  assert.match(noRef.stderr, /--reference-outputs: generating AlpacaEval outputs needs the eval set/);
  assert.doesNotMatch(both.stderr + noName.stderr + noRef.stderr, /\n\s+at /, 'no stack trace');
});
