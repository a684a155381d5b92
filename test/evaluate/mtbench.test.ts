import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose } from '../helpers/close.js';
import { sharedFile } from '../helpers/shared.js';
import { conformance } from './conformance.js';
import { UserError } from '../../src/util/errors.js';
import {
  aggregatePairwise,
  aggregateSingle,
  extractPairWinner,
  extractRating,
  formatTemplate,
  mapGameWinner,
  readJudgePrompts,
  readMtBenchAnswers,
  readMtBenchQuestions,
  renderPairJudgment,
  renderSingleJudgment,
  selectJudgePromptName,
  type JudgePrompt,
} from '../../src/evaluate/mtbench.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function promptsFromConformance(c: any): Map<string, JudgePrompt> {
  const out = new Map<string, JudgePrompt>();
  for (const [name, p] of Object.entries<any>(c.judge_prompts)) {
    out.set(name, { name, type: p.type, systemPrompt: p.system_prompt, promptTemplate: p.prompt_template, outputFormat: p.output_format, category: p.category });
  }
  return out;
}

test('formatTemplate follows Python str.format: fields, {{ }}, values inserted verbatim', () => {
  assert.equal(formatTemplate('a {x} b {{y}} {x}', { x: '{z}' }), 'a {z} b {y} {z}');
  assert.throws(() => formatTemplate('{missing}', {}), /no value for field \{missing\}/);
  assert.throws(() => formatTemplate('a } b', {}), /single "}"/);
});

test('rating extraction: synthetic conformance cases (first [[x]], else first [x], else -1)', (t) => {
  const c = conformance(t, 'mtbench');
  if (!c) return;
  for (const e of c.extraction_cases_synthetic) assert.equal(extractRating(e.judgment), e.expected_rating, JSON.stringify(e.judgment));
});

test('rating extraction: real GPT-4 judgments reproduce the stored scores', (t) => {
  const c = conformance(t, 'mtbench');
  if (!c) return;
  for (const e of c.extraction_cases_real) {
    assert.equal(extractRating(e.judgment), e.expected_rating);
    assert.equal(extractRating(e.judgment), e.stored_score);
  }
});

test('pairwise verdict extraction: [[A]]/[[B]]/[[C]] and two-score formats (tie within 0.1)', (t) => {
  const c = conformance(t, 'mtbench');
  if (!c) return;
  for (const e of c.pairwise_extraction_cases_synthetic) assert.equal(extractPairWinner(e.judgment, e.output_format), e.expected_winner, JSON.stringify(e));
  assert.throws(() => extractPairWinner('[[A]]', '[[x]]'), /unknown pairwise output format/);
});

test('judge prompt selection: reference-based for math/reasoning/coding, multi-turn for turn 2', () => {
  assert.equal(selectJudgePromptName('writing', 1, 'single'), 'single-v1');
  assert.equal(selectJudgePromptName('math', 1, 'single'), 'single-math-v1');
  assert.equal(selectJudgePromptName('coding', 2, 'single'), 'single-math-v1-multi-turn');
  assert.equal(selectJudgePromptName('roleplay', 2, 'pairwise'), 'pair-v2-multi-turn');
  assert.equal(selectJudgePromptName('reasoning', 1, 'pairwise'), 'pair-math-v1');
});

test('prompt rendering reproduces the real judge prompts exactly (single, math, both multi-turn variants)', (t) => {
  const c = conformance(t, 'mtbench');
  if (!c) return;
  const prompts = promptsFromConformance(c);
  for (const r of c.prompt_render_cases_real) {
    const name = selectJudgePromptName(r.category, r.turn, 'single');
    assert.equal(name, r.judge_prompt);
    const msg = renderSingleJudgment(prompts.get(name)!, { questionId: r.question_id, category: r.category, turns: r.question_turns }, r.answer_turns, r.reference_turns, r.turn);
    assert.equal(msg.system, r.system_prompt, `${r.question_id} turn ${r.turn} system`);
    assert.equal(msg.user, r.expected_user_prompt, `${r.question_id} turn ${r.turn} user`);
    assert.equal(extractRating(r.real_judgment), r.stored_score);
  }
  const math = prompts.get('single-math-v1')!;
  assert.throws(() => renderSingleJudgment(math, { questionId: 1, category: 'math', turns: ['q'] }, ['a'], null, 1), /needs a reference answer/);
});

test('pairwise rendering puts answer A first and swaps cleanly', (t) => {
  const c = conformance(t, 'mtbench');
  if (!c) return;
  const prompts = promptsFromConformance(c);
  const q = { questionId: 81, category: 'writing', turns: ['Q1', 'Q2'] };
  const m = renderPairJudgment(prompts.get('pair-v2')!, q, ['a1', 'a2'], ['b1', 'b2'], null, 1);
  assert.ok(m.user.indexOf('a1') < m.user.indexOf('b1'));
  assert.ok(m.user.startsWith('[User Question]\nQ1\n'));
  const m2 = renderPairJudgment(prompts.get('pair-v2-multi-turn')!, q, ['a1', 'a2'], ['b1', 'b2'], null, 2);
  for (const s of ['a1', 'a2', 'b1', 'b2', 'Q2']) assert.ok(m2.user.includes(s), s);
  assert.deepEqual([mapGameWinner('A', 1), mapGameWinner('A', 2), mapGameWinner('B', 2), mapGameWinner('tie', 2)], ['model_1', 'model_2', 'model_1', 'tie']);
});

test('aggregation as show_result.py: pooled average, not the mean of turn means (real judgments)', (t) => {
  const c = conformance(t, 'mtbench');
  if (!c) return;
  for (const [name, cas] of Object.entries<any>(c.aggregation_cases_real)) {
    const got = aggregateSingle(cas.rows.map((r: { model: string; turn: number; score: number }) => ({ model: r.model, turn: r.turn, score: r.score })));
    for (const [model, e] of Object.entries<any>(cas.expected)) {
      const g = got[model];
      assert.equal(g.nRows, e.n_rows_total, `${name} ${model}`);
      assert.equal(g.nValid, e.n_valid);
      assert.equal(g.nValidTurn1, e.n_valid_turn1);
      assert.equal(g.nValidTurn2, e.n_valid_turn2);
      assertClose(g.firstTurn, e.first_turn, { rtol: 0, atol: 1e-12 });
      assertClose(g.secondTurn, e.second_turn, { rtol: 0, atol: 1e-12 });
      assertClose(g.average, e.average, { rtol: 0, atol: 1e-12, what: `${name} ${model} average` });
      assertClose(g.meanOfTurnMeans, e.mean_of_turn_means, { rtol: 0, atol: 1e-12 });
    }
  }
});

test('aggregation by hand: 2 valid turn-1 rows and 1 valid turn-2 row', () => {
  // turn 1: 8, 6 → 7; turn 2: 3 → 3; pooled (8 + 6 + 3)/3 = 17/3, not (7 + 3)/2 = 5
  const r = aggregateSingle([
    { model: 'm', turn: 1, score: 8 },
    { model: 'm', turn: 1, score: 6 },
    { model: 'm', turn: 2, score: 3 },
    { model: 'm', turn: 2, score: -1 },
  ]);
  assertClose(r.m.average, 17 / 3);
  assertClose(r.m.meanOfTurnMeans, 5);
});

test('pairwise aggregation against a baseline (synthetic conformance case)', (t) => {
  const c = conformance(t, 'mtbench');
  if (!c) return;
  const cas = c.pairwise_aggregation_case_synthetic;
  const got = aggregatePairwise(
    cas.rows.map((r: any) => ({ model1: r.model_1, model2: r.model_2, g1Winner: r.g1_winner, g2Winner: r.g2_winner })),
    'gpt-3.5-turbo',
  );
  assert.deepEqual(Object.keys(got).sort(), Object.keys(cas.expected).sort(), 'the baseline row is removed');
  for (const [m, e] of Object.entries<any>(cas.expected)) {
    assert.deepEqual([got[m].win, got[m].loss, got[m].tie], [e.win, e.loss, e.tie], m);
    assertClose([got[m].winRate, got[m].lossRate, got[m].winRateAdjusted], [e.win_rate, e.loss_rate, e.win_rate_adjusted], { rtol: 0, atol: 1e-12 });
  }
});

test('the real FastChat files parse: 8 judge prompts equal to the conformance copy, 80 questions, 30 references', (t) => {
  const c = conformance(t, 'mtbench');
  const jp = sharedFile(t, 'data/mt-bench/judge_prompts.jsonl');
  const qp = sharedFile(t, 'data/mt-bench/question.jsonl');
  const rp = sharedFile(t, 'data/mt-bench/reference_answer-gpt-4.jsonl');
  if (!c || !jp || !qp || !rp) return;
  const prompts = readJudgePrompts(jp);
  assert.deepEqual([...prompts.values()], [...promptsFromConformance(c).values()].sort((a, b) => [...prompts.keys()].indexOf(a.name) - [...prompts.keys()].indexOf(b.name)));
  const questions = readMtBenchQuestions(qp);
  assert.equal(questions.length, 80);
  assert.ok(questions.every((q) => q.turns.length === 2));
  const refs = readMtBenchAnswers(rp);
  assert.equal(refs.answers.size, 30);
  assert.equal(refs.model, 'gpt-4');
  const needRef = questions.filter((q) => ['math', 'reasoning', 'coding'].includes(q.category));
  assert.equal(needRef.length, 30);
  assert.ok(needRef.every((q) => refs.answers.has(String(q.questionId))), 'every reference-graded question has a reference answer');
});

test('malformed MT-Bench files are user errors naming file, line and field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-mtb-'));
  const bad = join(dir, 'q.jsonl');
  writeFileSync(bad, '{"question_id": 1, "category": "writing", "turns": ["a"]}\n{"question_id": 2, "turns": "oops"}\n');
  assert.throws(() => readMtBenchQuestions(bad), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /q\.jsonl:2: field "turns" must be a non-empty array of strings/);
    assert.match(e.message, /fix: use FastChat's data\/mt_bench\/question\.jsonl/);
    return true;
  });
  writeFileSync(bad, '{"question_id": 1, "turns": ["a"]}\nnot json\n');
  assert.throws(() => readMtBenchQuestions(bad), /q\.jsonl:2: invalid JSON/);
  const ans = join(dir, 'a.jsonl');
  writeFileSync(ans, '{"question_id": 1, "choices": [{"turns": [1, 2]}]}\n');
  assert.throws(() => readMtBenchAnswers(ans), /a\.jsonl:1: no answer turns found[\s\S]*fix: write one JSON object per answered question/);
  const jp = join(dir, 'jp.jsonl');
  writeFileSync(jp, '{"name": "x", "type": "other", "system_prompt": "", "prompt_template": "", "output_format": ""}\n');
  assert.throws(() => readJudgePrompts(jp), /jp\.jsonl:1: field "type" must be "single" or "pairwise"/);
});
