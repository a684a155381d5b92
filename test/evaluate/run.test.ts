import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose } from '../helpers/close.js';
import { UserError } from '../../src/util/errors.js';
import { JudgeClient } from '../../src/evaluate/judge.js';
import {
  ARENA_JUDGE_TEMPLATE,
  annotateAlpaca,
  extractArenaVerdict,
  judgeArena,
  judgeMtBenchPairwise,
  judgeRewardBenchPairs,
  judgmentRecordsToArena,
  preferenceFromLogprobs,
} from '../../src/evaluate/run.js';
import { battlesFromJudgment } from '../../src/evaluate/arenahard.js';
import { aggregatePairwise, type JudgePrompt } from '../../src/evaluate/mtbench.js';
import { lengthStats } from '../../src/data/stats.js';
import { readArenaAnswers, readArenaJudgments, readArenaQuestions, readRewardBenchScores } from '../../src/evaluate/inputs.js';
import { startFakeJudge } from './fake-judge.js';

test('arena verdict extraction as get_score: one distinct label, none → try again, several → none', () => {
  assert.deepEqual(extractArenaVerdict('My final verdict is tie: [[A=B]]'), { verdict: 'A=B', tryAgain: false });
  assert.deepEqual(extractArenaVerdict('[[B>>A]] … repeated: [[B>>A]]'), { verdict: 'B>>A', tryAgain: false });
  assert.deepEqual(extractArenaVerdict('no label yet'), { verdict: null, tryAgain: true });
  assert.deepEqual(extractArenaVerdict('[[A>B]] or maybe [[B>A]]'), { verdict: null, tryAgain: false });
});

test('AlpacaEval preference from log-probs: 2 − P(m) over m and M', () => {
  // lp(m) = ln .2, lp(M) = ln .6 → P(m) = .2/.8 = .25 → preference 1.75
  assertClose(preferenceFromLogprobs([{ token: 'M', logprob: Math.log(0.6) }, { token: 'm', logprob: Math.log(0.2) }, { token: 'x', logprob: -1 }])!, 1.75);
  assert.equal(preferenceFromLogprobs([{ token: 'M', logprob: -0.1 }]), 2, 'a missing token has probability 0');
  assert.equal(preferenceFromLogprobs([{ token: 'Both', logprob: -0.1 }]), null);
});

test('judgeArena: both position orders, a second judge turn when no verdict, battles from the records', async (t) => {
  let calls = 0;
  const fake = await startFakeJudge((messages) => {
    calls++;
    const user = messages[1].content;
    const aIsModel = user.indexOf('model answer') < user.indexOf('baseline answer');
    if (messages.length === 2 && user.includes('q2')) return { text: 'Let me think…' }; // no verdict: asked to continue
    return { text: aIsModel ? 'My final verdict: [[A>>B]]' : 'My final verdict: [[B>A]]' };
  });
  t.after(() => fake.close());
  const client = new JudgeClient({ baseUrl: fake.url, model: 'judge' });
  const answers = new Map([
    ['base', new Map([['q1', 'baseline answer 1'], ['q2', 'baseline answer 2']])],
    ['mine', new Map([['q1', 'model answer 1'], ['q2', 'model answer 2']])],
  ]);
  const recs = await judgeArena({ client, judgeName: 'judge', questions: [{ questionId: 'q1', prompt: 'Q1?' }, { questionId: 'q2', prompt: 'Q2 q2?' }], answers, baseline: 'base' });
  assert.equal(recs.length, 2);
  assert.ok(recs[0].games[0].user_prompt.startsWith('<|User Prompt|>\nQ1?\n\n<|The Start of Assistant A\'s Answer|>\nbaseline answer 1'));
  assert.equal(ARENA_JUDGE_TEMPLATE.split('{answer_1}').length, 2);
  assert.deepEqual(recs.map((r) => r.games.map((g) => g.score)), [['B>A', 'A>>B'], ['B>A', 'A>>B']]);
  // q2's first game needed a second turn (the conversation grows by the reply and a nudge)
  const long = fake.bodies.filter((b) => b.messages.length === 4);
  assert.equal(long.length, 2);
  assert.equal(long[0].messages[3].content, 'continue your judgment and finish by outputting a final verdict label');
  assert.equal(calls, 6);
  const battles = judgmentRecordsToArena(recs).flatMap((j) => battlesFromJudgment(j, 'base'));
  // game 1 B>A (model wins once), game 2 A>>B (model wins 3×): 4 model wins per question
  assert.deepEqual(battles.map((b) => b.winner), new Array(8).fill('model_b'));
  await assert.rejects(judgeArena({ client, judgeName: 'j', questions: [], answers, baseline: 'nobody' }), /--baseline: no answers from the baseline "nobody"/);
});

test('annotateAlpaca: seeded order randomisation mapped back, one token with top-5 log-probs', async (t) => {
  // the judge always prefers whichever output says "good": P = .9
  const fake = await startFakeJudge((messages) => {
    const u = messages[1].content;
    const goodFirst = u.indexOf('good') < u.indexOf('bad');
    const top = [{ token: goodFirst ? 'm' : 'M', logprob: Math.log(0.9) }, { token: goodFirst ? 'M' : 'm', logprob: Math.log(0.1) }];
    return { text: top[0].token, top };
  });
  t.after(() => fake.close());
  const client = new JudgeClient({ baseUrl: fake.url, model: 'gpt-4-turbo' });
  const n = 12;
  const rows = await annotateAlpaca({
    client,
    annotator: 'a',
    instructions: Array.from({ length: n }, (_, i) => `instruction ${i}`),
    baselineOutputs: Array.from({ length: n }, () => 'bad answer'),
    modelOutputs: Array.from({ length: n }, () => 'good answer'),
    baselineName: 'base',
    modelName: 'mine',
    seed: 1,
  });
  // the model output wins with probability .9 wherever it was shown: preference 1.9 (2 − P(baseline) = 2 − .1)
  for (const r of rows) assertClose(r.preference!, 1.9, { rtol: 1e-12 });
  const swapped = rows.filter((r) => r.is_switched_outputs).length;
  assert.ok(swapped > 0 && swapped < n, `both orders occur (${swapped} of ${n} swapped)`);
  assert.equal(fake.bodies[0].max_tokens, 1);
  assert.equal(fake.bodies[0].top_logprobs, 5);
  assert.equal(fake.bodies[0].logprobs, true);
});

test('judgeMtBenchPairwise and judgeRewardBenchPairs: position swap, winners mapped back', async (t) => {
  const fake = await startFakeJudge((messages) => {
    const u = messages[1].content;
    return { text: u.indexOf('GOOD') < u.indexOf('MEH') ? '[[A]]' : '[[B]]' };
  });
  t.after(() => fake.close());
  const client = new JudgeClient({ baseUrl: fake.url, model: 'j' });
  const prompt: JudgePrompt = { name: 'pair-v2', type: 'pairwise', systemPrompt: 'S', promptTemplate: '[Q]{question}\n[A]{answer_a}\n[B]{answer_b}', outputFormat: '[[A]]', category: 'general' };
  const multi: JudgePrompt = { ...prompt, name: 'pair-v2-multi-turn', promptTemplate: '{question_1}{answer_a_1}{question_2}{answer_a_2}|{answer_b_1}{answer_b_2}' };
  const recs = await judgeMtBenchPairwise({
    client,
    judgeName: 'j',
    questions: [{ questionId: 1, category: 'writing', turns: ['q', 'q2'] }],
    prompts: new Map([['pair-v2', prompt], ['pair-v2-multi-turn', multi]]),
    references: null,
    answers: new Map([
      ['mine', new Map([['1', ['GOOD', 'GOOD']]])],
      ['base', new Map([['1', ['MEH', 'MEH']]])],
    ]),
    baseline: 'base',
  });
  assert.deepEqual(recs.map((r) => [r.turn, r.g1_winner, r.g2_winner]), [[1, 'model_1', 'model_1'], [2, 'model_1', 'model_1']]);
  const agg = aggregatePairwise(recs.map((r) => ({ model1: r.model_1, model2: r.model_2, g1Winner: r.g1_winner as 'model_1', g2Winner: r.g2_winner as 'model_1' })), 'base');
  assert.equal(agg.mine.winRateAdjusted, 1);
  const rb = await judgeRewardBenchPairs({ client, prompt, seed: 3, pairs: Array.from({ length: 8 }, (_, i) => ({ id: i, subset: 'mt-bench-easy', prompt: 'p', chosen: 'GOOD', rejected: 'MEH' })) });
  assert.ok(rb.every((r) => r.result === 1));
  assert.ok(rb.some((r) => r.chosen_shown_as_B) && rb.some((r) => !r.chosen_shown_as_B));
});

test('length statistics in code points (and tokens with a tokenizer)', () => {
  // lengths 1 (one emoji), 3, 5, 10 → mean 4.75, median 4, p90 = 5 + .7·5 = 8.5
  const s = lengthStats(['😀', 'abc', 'hello', 'x'.repeat(10)], { encode: (t: string) => t.split('') .map((_, i) => i) });
  assert.deepEqual([s.chars.n, s.chars.mean, s.chars.median, s.chars.max], [4, 4.75, 4, 10]);
  assertClose(s.chars.p90, 8.5);
  assert.equal(s.tokens!.mean, (2 + 3 + 5 + 10) / 4, 'the fake tokenizer counts UTF-16 units');
  assert.equal(lengthStats(['a']).tokens, null);
});

test('arena and RewardBench input readers: official layouts and clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-inputs-'));
  const f = (name: string, lines: object[]) => {
    writeFileSync(join(dir, name), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return join(dir, name);
  };
  const v01 = readArenaAnswers(f('gpt-x.jsonl', [{ question_id: 'q1', model_id: 'gpt-x', choices: [{ index: 0, turns: [{ content: 'hi', token_len: 1 }] }], conv_metadata: { token_len: 7, header_count: { h1: 1, h2: 2 }, list_count: { ordered: 1, unordered: 0 }, bold_count: { '**': 3, __: 0 } } }]));
  assert.equal(v01.model, 'gpt-x');
  assert.equal(v01.answers.get('q1'), 'hi');
  assert.deepEqual(v01.style.get('q1'), { tokenLen: 7, headers: 3, lists: 1, bold: 3 });
  const v2 = readArenaAnswers(f('other.jsonl', [{ uid: 'u1', model: 'm2', messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: { answer: 'ans' } }] }]));
  assert.deepEqual([v2.model, v2.answers.get('u1'), v2.style.size], ['m2', 'ans', 0]);
  assert.deepEqual(readArenaQuestions(f('q.jsonl', [{ uid: 'u1', category: 'c', prompt: 'P?' }, { question_id: 'q2', turns: [{ content: 'T?' }] }])), [{ questionId: 'u1', prompt: 'P?' }, { questionId: 'q2', prompt: 'T?' }]);
  assert.deepEqual(readArenaJudgments(f('j.jsonl', [{ question_id: 'q1', model: 'org/m', games: [{ score: 'A>B' }, null] }])), [{ questionId: 'q1', model: 'm', games: ['A>B', null] }]);
  assert.throws(() => readArenaAnswers(f('bad.jsonl', [{ question_id: 'q1' }])), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /bad\.jsonl:1: an answer needs an id \(question_id or uid\) and its text/);
    assert.match(e.message, /fix: pass arena-hard-auto's model_answer\/<model>\.jsonl/);
    return true;
  });
  const scores = readRewardBenchScores(f('s.jsonl', [{ subset: 'hep-go', score_chosen: 1, score_rejected: 0 }, { subset: 'hep-go', chosen: 0, rejected: 0 }]));
  assert.deepEqual(scores.pairs, [{ subset: 'hep-go', chosen: 1, rejected: 0 }, { subset: 'hep-go', chosen: 0, rejected: 0 }]);
  assert.throws(() => readRewardBenchScores(f('s2.jsonl', [{ subset: 'hep-go', chosen: '1', rejected: 0 }])), /s2\.jsonl:1: field "chosen" must be a number/);
  assert.throws(() => readRewardBenchScores(f('s3.jsonl', [{ chosen: 1, rejected: 0 }])), /s3\.jsonl:1: field "subset" must be a string/);
  assert.throws(() => readRewardBenchScores(f('s4.jsonl', [{ subset: 'x', result: 1 }, { subset: 'x', chosen: 1, rejected: 0 }])), /s4\.jsonl: the file mixes scored pairs and per-example results/);
});
