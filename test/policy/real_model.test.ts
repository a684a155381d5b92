import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedFile } from '../helpers/shared.js';
import { loadPolicy } from '../../src/policy/model.js';
import { trainSft } from '../../src/policy/sft.js';
import { trainReinforce } from '../../src/policy/reinforce.js';
import { functionRewardSource } from '../../src/policy/reward.js';

test('a real checkpoint (stories260K, llama2.c tokenizer): SFT lowers the loss, REINFORCE starts at KL 0, the model directory reloads', async (t) => {
  const bin = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tok = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!bin || !tok) return;
  const dir = mkdtempSync(join(tmpdir(), 'steer-real-'));
  try {
    const policy = loadPolicy(bin, { tokenizer: tok });
    assert.equal(policy.codec.kind, 'plain');
    const data = [
      { prompt: 'Once upon a time', response: ' there was a little cat named Tom.' },
      { prompt: 'Lily went to the park', response: ' and played with her red ball.' },
    ];
    const sft = await trainSft({ policy, data, out: join(dir, 'sft'), steps: 8, batchSize: 2, lr: 3e-3, threads: 1, quiet: true, resume: false });
    const rows = readFileSync(join(dir, 'sft', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(sft.lastMetrics.loss < rows[0].loss - 0.3, `loss ${rows[0].loss} → ${sft.lastMetrics.loss}`);
    const reloaded = loadPolicy(sft.modelDir);
    assert.equal(reloaded.codec.kind, 'plain', 'the llama2.c tokenizer was saved beside the weights');
    const rl = await trainReinforce({
      policy: reloaded, reward: functionRewardSource('words', (items) => items.map((i) => i.response.split(' ').length / 10)),
      prompts: ['Once upon a time', 'The dog'], out: join(dir, 'rl'), steps: 1, promptsPerStep: 2, samplesPerPrompt: 2, maxNewTokens: 12, threads: 1, quiet: true, resume: false,
    });
    assert.ok(rl.lastMetrics.kl < 1e-5, `KL ${rl.lastMetrics.kl}`); // log π from generation vs the reference's full pass: float32 rounding
    assert.ok(rl.lastMetrics.entropy > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
