import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTask, renderPrompt } from '../../src/data/toy/tasks.js';
import { makeResponse } from '../../src/data/toy/styles.js';
import { Rng } from '../../src/util/rng.js';
import { trainSft } from '../../src/policy/sft.js';
import { trainReinforce } from '../../src/policy/reinforce.js';
import { toyCorrectnessReward } from '../../src/policy/reward.js';
import { tinyCharPolicy } from './tiny.js';

// A slice of the toy world: "first letter" tasks on six words. The SFT data answers half right
// (style terse) and half wrong (style wrong_terse), as the world's imperfect SFT mix does, so the
// SFT policy samples right answers about half the time. REINFORCE against the ground truth must
// move it towards the right ones: over seeds 6–8 the mean reward of the last 5 steps exceeded the
// first 5 by 0.36–0.40 (k = 8; with k = 4 the baseline is noisier and one seed in four rose only 0.12).
const WORDS = ['cat', 'dog', 'emu', 'fox', 'owl', 'yak'];

test('REINFORCE on a toy-world slice raises the mean ground-truth reward by at least 0.25 (seeded; typically 0.35–0.40)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-rl-learn-'));
  try {
    const rng = new Rng(11);
    const prompts = WORDS.map((word) => renderPrompt(makeTask('first', { word }), 0));
    const data = WORDS.flatMap((word, i) => {
      const task = makeTask('first', { word });
      return [0, 1, 2, 3].map((j) => ({ prompt: prompts[i], response: makeResponse(task, j % 2 === 0 ? 'terse' : 'wrong_terse', rng).text }));
    });
    const sft = await trainSft({ policy: tinyCharPolicy(7, 0.1), data, out: join(dir, 'sft'), steps: 60, batchSize: 8, lr: 0.02, warmupSteps: 5, threads: 1, quiet: true, resume: false });
    const rl = await trainReinforce({
      policy: sft.policy, reward: toyCorrectnessReward(), prompts, out: join(dir, 'rl'), steps: 40, promptsPerStep: 6, samplesPerPrompt: 8,
      maxNewTokens: 4, lr: 0.01, seed: 3, deterministic: true, threads: 1, quiet: true, resume: false,
    });
    const m = readFileSync(join(dir, 'rl', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => !r.eval);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(m.slice(0, 5).map((r) => r.reward_mean));
    const last = mean(m.slice(-5).map((r) => r.reward_mean));
    assert.ok(first > 0.2 && first < 0.8, `the SFT policy is right about half the time (first 5 steps: ${first.toFixed(3)})`);
    assert.ok(last - first >= 0.25, `mean reward rose by ${(last - first).toFixed(3)} (${first.toFixed(3)} → ${last.toFixed(3)})`);
    assert.ok(m.every((r) => r.kl >= 0 && r.kl < 2), 'KL stays bounded');
    assert.equal(rl.steps, 40);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
