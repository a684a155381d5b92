// `steer rm eval --rewardbench`: a steer reward model over RewardBench-format rows, reported as
// RewardBench reports it (sections weighted by its example counts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSteer } from '../helpers/cli.js';
import { assertClose } from '../helpers/close.js';
import { randomRewardModel } from './helpers.js';
import { saveRewardModel } from '../../src/reward/model.js';
import { evaluatePairs } from '../../src/reward/evaluate.js';

test('rm eval --rewardbench: per-subset accuracy, sections weighted by example counts, per-example results', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-rb-'));
  const model = join(dir, 'rm');
  saveRewardModel(model, randomRewardModel(7));
  const subsets = ['alpacaeval-easy', 'mt-bench-easy', 'llmbar-natural', 'refusals-dangerous', 'math-prm', 'hep-python'];
  const rows = Array.from({ length: 36 }, (_, i) => ({ id: i, subset: subsets[i % 6], prompt: `What is ${i} plus ${i % 5}?`, chosen: `It is ${i + (i % 5)}.`, rejected: i % 4 ? `It is ${i * 3 + 1}, I think.` : 'No.' }));
  writeFileSync(join(dir, 'rb.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const r = runSteer(['rm', 'eval', '--rewardbench', '--model', model, join(dir, 'rb.jsonl'), '--results', join(dir, 'results.json'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const lib = await evaluatePairs(model, rows);
  const acc = (s: string) => lib.bySubset[s].accuracy;
  // RewardBench EXAMPLE_COUNTS: alpacaeval-easy 100, mt-bench-easy 28, math-prm 984, hep-python 164
  assertClose(out.sections.Chat, (100 * acc('alpacaeval-easy') + 28 * acc('mt-bench-easy')) / 128, { rtol: 1e-12 });
  assertClose(out.sections['Chat Hard'], acc('llmbar-natural'), { rtol: 1e-12 });
  assertClose(out.sections.Safety, acc('refusals-dangerous'), { rtol: 1e-12 });
  assertClose(out.sections.Reasoning, (984 * acc('math-prm') + 164 * acc('hep-python')) / 1148, { rtol: 1e-12 });
  assertClose(out.score, (out.sections.Chat + out.sections['Chat Hard'] + out.sections.Safety + out.sections.Reasoning) / 4, { rtol: 1e-12 });
  const saved = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  assert.equal(saved.perExample.length, 36);
  saved.perExample.forEach((e: { results: number; scores_chosen: number; scores_rejected: number }, i: number) => {
    assert.equal(e.scores_chosen, lib.rows[i].chosen);
    assert.equal(e.results, e.scores_chosen > e.scores_rejected ? 1 : 0);
  });

  writeFileSync(join(dir, 'bad.jsonl'), JSON.stringify({ subset: 'my-set', prompt: 'a', chosen: 'b', rejected: 'c' }) + '\n');
  const bad = runSteer(['rm', 'eval', '--rewardbench', '--model', model, join(dir, 'bad.jsonl')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /subsets that are not RewardBench's: my-set/);
});
