// Smaller promises of the reliability issue, each through the CLI in-process: a reward model with
// NaN weights is refused by `rm score` and `rm eval` (it used to write "reward": null and print NaN),
// and `steer generate` loads a model `steer sft --init toy` wrote (the char tokenizer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveRewardModel } from '../../src/reward/model.js';
import { initToyPolicy, savePolicy } from '../../src/policy/model.js';
import { randomRewardModel } from '../reward/helpers.js';
import { runCaptured } from './corpus/capture.js';

test('a reward model with NaN weights is refused before scoring: rm score and rm eval exit 2 and write nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-nanrm-'));
  try {
    const rm = randomRewardModel(1, ['helpfulness']);
    rm.head.weight[3] = NaN;
    saveRewardModel(join(dir, 'rm'), rm);
    writeFileSync(join(dir, 'rows.jsonl'), '{"prompt": "hi", "response": "hello"}\n');
    writeFileSync(join(dir, 'pairs.jsonl'), '{"prompt": "hi", "chosen": "hello", "rejected": "bye"}\n');
    const s = await runCaptured(['rm', 'score', '--model', join(dir, 'rm'), join(dir, 'rows.jsonl'), '--out', join(dir, 'scored.jsonl')]);
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, /rm: the reward model's weights hold NaN or infinite values \(score\.weight\[3\] = NaN\)[\s\S]*fix: the training run that wrote it diverged/);
    assert.equal(existsSync(join(dir, 'scored.jsonl')), false);
    const e = await runCaptured(['rm', 'eval', '--model', join(dir, 'rm'), join(dir, 'pairs.jsonl'), '--quiet']);
    assert.equal(e.code, 2, e.stderr);
    assert.doesNotMatch(e.stdout, /NaN/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('steer generate loads a model saved with the toy world\'s char tokenizer (greedy continuation of the prompt)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-chargen-'));
  try {
    savePolicy(join(dir, 'model'), initToyPolicy(0, { hiddenSize: 16, numLayers: 1, numHeads: 2, numKvHeads: 1, intermediateSize: 32 }));
    const r = await runCaptured(['generate', '--model', join(dir, 'model'), '--prompt', '<user>How many r in strawberry?<assistant>', '--max-new-tokens', '4', '--temperature', '0', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    // the printed text is the prompt (special tokens dropped) and at most 4 more characters
    assert.ok(r.stdout.startsWith('How many r in strawberry?'), r.stdout);
    assert.ok(r.stdout.trimEnd().length <= 'How many r in strawberry?'.length + 4 + 1, r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
