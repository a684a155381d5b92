import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainDpo } from '../../src/policy/dpo.js';
import type { PreferencePair } from '../../src/data/pairs.js';
import { assertClose } from '../helpers/close.js';
import { tinyCharPolicy } from './tiny.js';

// Toy-world pairs: the right answer is chosen; margins 1–3 as HelpSteer2-Preference strengths.
const PAIRS: PreferencePair[] = [
  { prompt: 'How many r in strawberry?', chosen: '3', rejected: '2', margin: 3 },
  { prompt: 'Spell cat.', chosen: 'c-a-t', rejected: 'c-t', margin: 2 },
  { prompt: 'What is 3+4?', chosen: 'the answer is 7.', rejected: '8', margin: 1 },
  { prompt: 'Reverse dog.', chosen: 'god', rejected: 'dgo', margin: 2 },
];

function records(dir: string) {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

test('DPO variants: step 1 has policy = reference (loss log 2 · …), then the loss falls and chosen wins', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-dpo-'));
  try {
    // at policy = reference every implicit reward is 0 (d = 0), so the first batch's loss is
    //   regular: −log σ(0) = log 2;  margin: mean −log σ(−m) = mean log(1 + e^m);  scaled: mean m · log 2
    // batchSize 4 = all four pairs, margins [3, 2, 1, 2]
    const ms = [3, 2, 1, 2];
    const first = { regular: Math.LN2, margin: ms.reduce((a, m) => a + Math.log1p(Math.exp(m)), 0) / 4, scaled: (ms.reduce((a, b) => a + b, 0) / 4) * Math.LN2 };
    for (const loss of ['regular', 'margin', 'scaled'] as const) {
      const out = join(dir, loss);
      const res = await trainDpo({ policy: tinyCharPolicy(4, 0.3), pairs: PAIRS, evalPairs: PAIRS.slice(0, 3), loss, out, steps: 25, batchSize: 4, lr: 0.01, beta: 0.5, threads: 1, quiet: true, resume: false });
      const rows = records(out).filter((r) => !r.eval);
      assertClose(rows[0].loss, first[loss], { rtol: 1e-5, what: `${loss} loss at step 1` });
      // the reference pass and the training graph are different graphs: equal up to float32 rounding
      assertClose(rows[0].chosen_reward, 0, { atol: 1e-5, what: 'implicit reward at policy = reference' });
      assertClose(rows[0].rejected_reward, 0, { atol: 1e-5, what: 'implicit reward at policy = reference' });
      // 25 full-batch steps on four pairs: the loss falls by more than half, every chosen wins
      assert.ok(res.lastMetrics.loss < 0.5 * first[loss], `${loss}: loss ${rows[0].loss} → ${res.lastMetrics.loss}`);
      assert.equal(res.lastMetrics.reward_accuracy, 1);
      assert.ok(res.lastEval!.eval_reward_accuracy >= 2 / 3 && res.lastEval!.eval_reward_margin > 0);
    }
    // two micro-batches of two pairs follow the same loss curve as one batch of four (equal sizes:
    // the mean of the micro-batch means is the batch mean)
    const micro = join(dir, 'micro');
    await trainDpo({ policy: tinyCharPolicy(4, 0.3), pairs: PAIRS, loss: 'regular', out: micro, steps: 4, batchSize: 4, microBatchSize: 2, lr: 0.01, beta: 0.5, threads: 1, quiet: true, resume: false });
    const whole = records(join(dir, 'regular')).filter((r) => !r.eval).slice(0, 4).map((r) => r.loss);
    assertClose(records(micro).map((r) => r.loss), whole, { rtol: 2e-3, what: 'micro-batched DPO loss' });
    // the reference pass is cached and reused when a run continues
    const out = join(dir, 'regular');
    const cache = join(out, 'reference-logps.json');
    const before = statSync(cache).mtimeMs;
    const res = await trainDpo({ policy: tinyCharPolicy(4, 0.3), pairs: PAIRS, evalPairs: PAIRS.slice(0, 3), out, steps: 30, batchSize: 4, lr: 0.01, beta: 0.5, threads: 1, quiet: true });
    assert.equal(res.resumedFrom, 25);
    assert.equal(statSync(cache).mtimeMs, before, 'reference-logps.json reused');
    assert.equal(JSON.parse(readFileSync(cache, 'utf8')).train.chosen.length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('margin and scaled DPO need pair margins; bad options are clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-dpo-'));
  try {
    const noMargin = [{ prompt: 'Spell cat.', chosen: 'c-a-t', rejected: 'c-t', source: 'pairs.jsonl:7' }];
    await assert.rejects(trainDpo({ policy: tinyCharPolicy(), pairs: noMargin, loss: 'scaled', out: dir, threads: 1, quiet: true }), /pairs\.jsonl:7: pair 0 has no margin[\s\S]*fix: use --loss regular/);
    await assert.rejects(trainDpo({ policy: tinyCharPolicy(), pairs: PAIRS, loss: 'ipo' as 'regular', out: dir, threads: 1, quiet: true }), /dpo\.loss[\s\S]*expected: regular \| margin \| scaled/);
    await assert.rejects(trainDpo({ policy: tinyCharPolicy(), pairs: PAIRS, beta: -1, out: dir, threads: 1, quiet: true }), /dpo\.beta[\s\S]*expected: a positive number/);
    await assert.rejects(trainDpo({ policy: tinyCharPolicy(), pairs: PAIRS, maxLength: 10, out: dir, threads: 1, quiet: true }), /no preference pair fits in 10 tokens[\s\S]*fix: raise maxLength/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
