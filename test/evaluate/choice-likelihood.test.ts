// Multiple choice by likelihood: the per-option log-likelihood equals the sum of the log-probs the
// KV-cache generator reports for the same tokens (an independent path: the decode graph), the
// argmax picks the first option on a tie, and the toy knowledge rows are well formed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initToyPolicy } from '../../src/policy/model.js';
import { samplePolicy } from '../../src/policy/sample.js';
import { responseLogLikelihoods, scoreByLikelihood } from '../../src/evaluate/choice-likelihood.js';
import { parseQuestion } from '../../src/evaluate/mmlupro.js';
import { toyKnowledgeRows } from '../../src/data/toy/knowledge.js';
import { answerFor, taskFromPrompt } from '../../src/data/toy/tasks.js';

const policy = initToyPolicy(3, { hiddenSize: 32, numLayers: 1 });

test('Σ log π over an option = the generator\'s log-probs of the same tokens', async () => {
  const prompts = ['Spell cat.', 'What is 3+4?', 'First letter of dog?'];
  const samples = await samplePolicy(policy, prompts, { maxNewTokens: 6, temperature: 1, seed: 5, threads: 1 });
  const rows = prompts.map((p, i) => ({ prompt: policy.codec.encodePrompt(p), response: samples[i].tokens }));
  const ll = await responseLogLikelihoods(policy, rows, { batchSize: 2, threads: 1 });
  samples.forEach((s, i) => {
    const expected = s.logprobs.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(ll[i] - expected) < 1e-3 * Math.max(1, Math.abs(expected)), `${ll[i]} vs ${expected}`);
  });
});

test('scoreByLikelihood: the likeliest option, the first on a tie, MMLU-Pro tally', async () => {
  const q = (id: string, options: string[], answer: string, category: string) => parseQuestion({ id, question: 'Spell cat.', options, answer, category }, `t:${id}`, 0);
  const [a, b] = await responseLogLikelihoods(policy, [
    { prompt: policy.codec.encodePrompt('Spell cat.'), response: policy.codec.encodeResponse('c-a-t') },
    { prompt: policy.codec.encodePrompt('Spell cat.'), response: policy.codec.encodeResponse('zzzzzzzzzzzzzzzz') },
  ], { threads: 1 });
  const likelier = a > b ? 'A' : 'B';
  const s = await scoreByLikelihood(policy, [q('1', ['c-a-t', 'zzzzzzzzzzzzzzzz'], likelier, 'spell'), q('2', ['same', 'same'], 'B', 'tie')], { threads: 1 });
  assert.deepEqual(s.items.map((i) => i.pred), [likelier, 'A']);
  assert.equal(s.correct, 1);
  assert.deepEqual(s.categories, { spell: { corr: 1, wrong: 0, acc: 1 }, tie: { corr: 0, wrong: 1, acc: 0 } });
  assert.equal(s.optionLogLikelihoods[0][0], a);
});

test('toy knowledge rows: the truth among distinct wrong answers, deterministic, by task kind', () => {
  const prompts = ['How many r in strawberry?', 'Spell cat.', 'Reverse dog.', 'What is 3+4?', 'What is 9-5?', 'First letter of bee?', 'not a task'];
  const rows = toyKnowledgeRows(prompts, 0);
  assert.equal(rows.length, 6);
  for (const r of rows) {
    const t = taskFromPrompt(r.question)!;
    assert.equal(r.options['ABCDEFGHIJ'.indexOf(r.answer)], answerFor(t.kind, t));
    assert.equal(new Set(r.options).size, r.options.length);
    assert.ok(r.options.length >= 2 && r.options.length <= 4);
    assert.equal(r.category, t.kind);
  }
  assert.deepEqual(toyKnowledgeRows(prompts, 0), rows);
  assert.notDeepEqual(toyKnowledgeRows(prompts, 1), rows);
});
