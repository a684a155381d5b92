import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose } from '../helpers/close.js';
import { repoRoot } from '../helpers/shared.js';
import { conformance } from './conformance.js';
import { startFakeJudge } from './fake-judge.js';

// The built CLI (`npm test` rebuilds dist/ first), as a user runs it; spawned asynchronously so
// the fake judge in this process keeps serving.
const BIN = join(repoRoot, 'bin/steer.js');

function steer(args: string[], cwd?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: cwd ?? tmpdir(), env: { ...process.env, OPENAI_API_KEY: 'test-key' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const tmp = () => mkdtempSync(join(tmpdir(), 'steer-eval-cli-'));

test('steer eval alpaca --annotations … --instruction-difficulty CSV --gamed CSV --json prints the official metrics', async (t) => {
  const c = conformance(t, 'alpacaeval_lc');
  if (!c) return;
  const dir = tmp();
  const cas = c.cases_refit_from_annotations[3]; // NullModel: the constant-output cheat, LC stays 86.46
  // annotations.json as alpaca_eval writes it; texts of the right code-point lengths
  const ann = cas.inputs.preference.map((p: number, i: number) => ({
    instruction: `instruction ${i}`,
    output_1: 'é'.repeat(cas.inputs.len_output_1_baseline[i]),
    generator_1: 'gpt4_1106_preview',
    dataset: 'helpful_base',
    output_2: '😀'.repeat(cas.inputs.len_output_2_model[i]),
    generator_2: cas.model,
    annotator: 'weighted_alpaca_eval_gpt4_turbo',
    preference: p,
    time_per_example: 0.8,
    price_per_example: 0.01,
    raw_completion: null,
  }));
  writeFileSync(join(dir, 'annotations.json'), JSON.stringify(ann));
  // the two files alpaca_eval downloads, in their CSV form
  const g = c.gamed_regularization_rows;
  writeFileSync(
    join(dir, 'df_gamed.csv'),
    'model,index,preference,std_delta_len,instruction_difficulty,not_gamed_baseline\n' + g.index.map((idx: number, i: number) => `${g.model[i]},${idx},${g.preference[i]},${g.std_delta_len[i]},${g.instruction_difficulty[i]},False`).join('\n') + '\n',
  );
  writeFileSync(join(dir, 'instruction_difficulty.csv'), ',instruction_difficulty\n' + c.instruction_difficulty.map((v: number, i: number) => `${i},${v}`).join('\n') + '\n');
  const r = await steer(['eval', 'alpaca', '--annotations', 'annotations.json', '--instruction-difficulty', 'instruction_difficulty.csv', '--gamed', 'df_gamed.csv', '--json'], dir);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const e = cas.expected_official_recompute;
  for (const k of ['win_rate', 'standard_error', 'discrete_win_rate']) assertClose(out[k], e[k], { rtol: 0, atol: 1e-9, what: k });
  assertClose(out.length_controlled_winrate, e.length_controlled_winrate, { rtol: 0, atol: 0.05 });
  assertClose(out.lc_standard_error, e.lc_standard_error, { rtol: 0, atol: 0.005 });
  assert.equal(out.model, 'NullModel');
  // results.json and the readable table land in the default --out directory
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'runs/eval-alpaca/results.json'), 'utf8')).win_rate, out.win_rate);
  assert.match(readFileSync(join(dir, 'runs/eval-alpaca/results.txt'), 'utf8'), /length-controlled win rate\s+86\.4\d ± 0\.14/);
});

test('steer eval usage errors: one clear message, exit 2', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'a.json'), '[]');
  const [r, r3, r4] = await Promise.all([
    steer(['eval', 'alpaca', '--annotations', 'a.json', '--instruction-difficulty', 'd.json', '--quiet'], dir),
    steer(['eval', 'arena', '--scoring', 'v2', '--style-control', 'style', '--judgments', 'x.jsonl', '--quiet'], dir),
    steer(['eval', 'mtbench', '--answers', 'a.json', '--quiet'], dir),
  ]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--gamed: the length-controlled win rate needs the gamed regularisation rows/);
  assert.match(r.stderr, /fix: pass alpaca_eval's df_gamed\.csv/);
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /--style-control: v2 style control is none \| length \| markdown \| both/);
  assert.equal(r4.status, 2);
  assert.match(r4.stderr, /--questions: judging MT-Bench needs --questions/);
  for (const x of [r, r3, r4]) assert.doesNotMatch(x.stderr, /at .*\.js:\d+/, 'no stack trace');
});

test('steer eval mtbench --judgments: real GPT-4 judgments give show_result.py numbers', async (t) => {
  const c = conformance(t, 'mtbench');
  if (!c) return;
  const dir = tmp();
  const cas = c.aggregation_cases_real.dp_origin;
  writeFileSync(join(dir, 'gpt-4_single.jsonl'), cas.rows.map((r: object) => JSON.stringify({ ...r, judge: ['gpt-4', 'single-v1'] })).join('\n') + '\n');
  const r = await steer(['eval', 'mtbench', '--judgments', join(dir, 'gpt-4_single.jsonl'), '--out', dir, '--json', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const [m, e] of Object.entries<any>(cas.expected)) assertClose(out.models[m].average, e.average, { rtol: 0, atol: 1e-12, what: m });
});

test('steer eval arena --judgments (v0.1): the conformance leaderboard scores', async (t) => {
  const c = conformance(t, 'arenahard_bt');
  if (!c) return;
  const dir = tmp();
  const args = ['eval', 'arena', '--baseline', c.inputs.baseline, '--rounds', '20', '--out', dir, '--json', '--quiet'];
  for (const m of c.inputs.battle_row_model_order) {
    const rows = c.inputs.models[m].verdicts_game1_game2.map((g: (string | null)[], i: number) => JSON.stringify({ question_id: c.inputs.question_ids[i], model: m, judge: 'ensemble', games: g.map((s) => ({ score: s })) }));
    writeFileSync(join(dir, `${m}.jsonl`), rows.join('\n') + '\n');
    args.push('--judgments', join(dir, `${m}.jsonl`));
  }
  const r = await steer(args);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const [m, e] of Object.entries<any>(c.expected.v01_no_control)) assert.equal(out.models[m].score, e.score, m);
});

test('steer eval mtbench with a judge endpoint: judges, scores, and a rerun is served from the cache', async (t) => {
  // the judge rates answers by their length digit so the expected score is known: "[[n]]"
  const fake = await startFakeJudge((messages) => {
    const user = messages[messages.length - 1].content;
    return { text: `Fine answer. Rating: [[${user.includes('long answer') ? 9 : 3}]]` };
  });
  t.after(() => fake.close());
  const dir = tmp();
  writeFileSync(join(dir, 'question.jsonl'), [
    JSON.stringify({ question_id: 1, category: 'writing', turns: ['Write a haiku.', 'Now another.'] }),
    JSON.stringify({ question_id: 2, category: 'math', turns: ['What is 2+2?', 'And 3+3?'] }),
  ].join('\n'));
  writeFileSync(join(dir, 'reference.jsonl'), JSON.stringify({ question_id: 2, model_id: 'gpt-4', choices: [{ index: 0, turns: ['4', '6'] }] }) + '\n');
  writeFileSync(join(dir, 'judge_prompts.jsonl'), ['single-v1', 'single-math-v1', 'single-v1-multi-turn', 'single-math-v1-multi-turn'].map((name) => JSON.stringify({
    name,
    type: 'single',
    system_prompt: 'You are a judge.',
    prompt_template: name.includes('multi') ? `Q1 {question_1} A1 {answer_1} Q2 {question_2} A2 {answer_2}${name.includes('math') ? ' R {ref_answer_1} {ref_answer_2}' : ''}` : `Q {question} A {answer}${name.includes('math') ? ' R {ref_answer_1}' : ''}`,
    output_format: '[[rating]]',
    category: name.includes('math') ? 'math' : 'general',
  })).join('\n'));
  writeFileSync(join(dir, 'model-a.jsonl'), [1, 2].map((q) => JSON.stringify({ question_id: q, model_id: 'model-a', choices: [{ index: 0, turns: ['a long answer', 'a long answer'] }] })).join('\n'));
  writeFileSync(join(dir, 'model-b.jsonl'), [1, 2].map((q) => JSON.stringify({ question_id: q, model_id: 'model-b', choices: [{ index: 0, turns: ['short', q === 1 ? 'a long answer' : 'short'] }] })).join('\n'));
  const p = (f: string) => join(dir, f);
  const args = ['eval', 'mtbench', '--answers', p('model-a.jsonl'), '--answers', p('model-b.jsonl'), '--questions', p('question.jsonl'), '--judge-prompts', p('judge_prompts.jsonl'), '--reference', p('reference.jsonl'), '--judge-url', fake.url, '--judge-model', 'fake-gpt', '--out', p('runs/eval-mtbench'), '--json', '--quiet'];
  const r = await steer(args);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  // model-a: four 9s → 9. model-b: turn 1 3, 3; turn 2 9 (q1, the multi-turn prompt shows "long answer"), 3
  // — but turn-2 prompts show the whole dialogue, so q1 turn 2 sees "a long answer": 9; pooled (3+3+9+3)/4 = 4.5
  assert.equal(out.models['model-a'].average, 9);
  assert.equal(out.models['model-b'].average, 4.5);
  assert.equal(fake.requests, 8);
  assert.equal(fake.bodies[0].model, 'fake-gpt');
  const judgments = readFileSync(join(dir, 'runs/eval-mtbench/fake-gpt_single.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(judgments.length, 8);
  assert.ok(judgments.some((j) => j.judge[1] === 'single-math-v1' && j.user_prompt.endsWith(' R 4')));
  // the rerun resumes from OUT/judge-cache.jsonl: no request is made, same numbers
  const again = await steer(args);
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout).models, out.models);
  assert.equal(fake.requests, 8);
  assert.ok(existsSync(join(dir, 'runs/eval-mtbench/judge-cache.jsonl')));
});
