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

test('rm eval --rewardbench --reward-url: an HTTP reward endpoint scores the rows (longer response = higher reward here)', async () => {
  const { createServer } = await import('node:http');
  const { spawn } = await import('node:child_process');
  const { repoRoot } = await import('../helpers/shared.js');
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const { responses } = JSON.parse(body) as { responses: string[] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ rewards: responses.map((r) => r.length) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/reward`;
  const dir = mkdtempSync(join(tmpdir(), 'steer-rb-'));
  // alpacaeval-easy: 2 of 3 chosen longer; hep-python: 1 of 2, and a tie (wrong); math-prm: 1 of 1
  const rows = [
    ['alpacaeval-easy', 'long answer', 'short'], ['alpacaeval-easy', 'longer one', 'tiny'], ['alpacaeval-easy', 'a', 'bb'],
    ['hep-python', 'def f(): return 1', 'x'], ['hep-python', 'same', 'SAME'], ['math-prm', 'x = 4 because 2+2', 'x = 5'],
  ].map(([subset, chosen, rejected], id) => ({ id, subset, prompt: 'q', chosen, rejected }));
  writeFileSync(join(dir, 'rb.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/bin.ts'), 'rm', 'eval', '--rewardbench', '--reward-url', url, join(dir, 'rb.jsonl'), '--json'], { cwd: repoRoot });
    let s = '';
    let e = '';
    child.stdout.on('data', (d) => (s += d));
    child.stderr.on('data', (d) => (e += d));
    child.on('close', (code) => (code === 0 ? resolve(s) : reject(new Error(e))));
  });
  server.close();
  const r = JSON.parse(out);
  // Chat = alpacaeval-easy alone = 2/3; Reasoning = (984·1 + 164·1/2)/(984 + 164) = 1066/1148
  assertClose(r.sections.Chat, 2 / 3, { rtol: 1e-12 });
  assertClose(r.sections.Reasoning, 1066 / 1148, { rtol: 1e-12 });
  assert.equal(r.sections.Safety, 0, 'an absent section counts 0');
  assertClose(r.score, (2 / 3 + 0 + 0 + 1066 / 1148) / 4, { rtol: 1e-12 });
});
