import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainSft } from '../../src/policy/sft.js';
import { loadPolicy } from '../../src/policy/model.js';
import { toyAccuracy } from '../../src/policy/sample.js';
import { tinyCharPolicy } from './tiny.js';

const DATA = [
  { prompt: 'First letter of cat?', response: 'c' },
  { prompt: 'First letter of dog?', response: 'd' },
  { prompt: 'First letter of emu?', response: 'e' },
  { prompt: 'First letter of fox?', response: 'f' },
];

test('SFT learns the responses: NLL falls from ~log V to below 0.3, greedy answers right, saved model reloads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-sft-'));
  try {
    const res = await trainSft({ policy: tinyCharPolicy(7, 0.1), data: DATA, evalData: DATA.slice(0, 2), out: dir, steps: 60, batchSize: 4, lr: 0.02, warmupSteps: 5, threads: 1, quiet: true, resume: false });
    const rows = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const train = rows.filter((r) => !r.eval);
    // near-uniform start over 84 tokens: NLL ≈ log 84 = 4.43; each row has 2 response tokens (letter, <eos>)
    assert.ok(train[0].loss > 3.5, `initial loss ${train[0].loss}`);
    assert.equal(train[0].tokens, 8, '4 rows × (1 letter + <eos>): only response tokens are counted');
    assert.ok(res.lastMetrics.loss < 0.3, `final loss ${res.lastMetrics.loss}`);
    assert.ok(res.lastEval!.eval_nll < 0.3);
    const reloaded = loadPolicy(res.modelDir);
    const acc = await toyAccuracy(reloaded, DATA.map((d) => d.prompt), { threads: 1, maxNewTokens: 4 });
    assert.equal(acc.accuracy, 1, JSON.stringify(acc.responses));
    assert.equal(acc.ended, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SFT option and data errors name the field and the fix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-sft-'));
  try {
    await assert.rejects(trainSft({ policy: tinyCharPolicy(), data: DATA, out: dir, maxLength: 8, quiet: true }), /every SFT example is longer than 8 tokens[\s\S]*fix: raise maxLength \(--max-length\)/);
    await assert.rejects(trainSft({ policy: tinyCharPolicy(), data: DATA, out: dir, maxLength: 500, quiet: true }), /sft\.maxLength[\s\S]*at most the model context \(96\)/);
    await assert.rejects(trainSft({ policy: tinyCharPolicy(), data: [{ prompt: 'Spell café.', response: 'x' }], out: dir, quiet: true }), /example 0 \(prompt\): character "é"/);
    await assert.rejects(trainSft({ policy: tinyCharPolicy(), data: DATA, out: dir, lr: -1, quiet: true }), /sft\.lr[\s\S]*expected: a positive learning rate/);
    await assert.rejects(trainSft({ policy: tinyCharPolicy(), data: DATA, out: '', quiet: true }), /sft\.out[\s\S]*fix: pass out/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
