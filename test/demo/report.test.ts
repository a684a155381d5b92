import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderDemoReport, meanStd } from '../../src/demo/report.js';

test('meanStd: sample std (n−1)', () => {
  // [0.8, 0.9, 1.0]: mean 0.9, deviations ±0.1 → var = 0.02/2 = 0.01 → std 0.1
  const { mean, std } = meanStd([0.8, 0.9, 1.0]);
  assert.ok(Math.abs(mean - 0.9) < 1e-12 && Math.abs(std - 0.1) < 1e-12);
});

test('the report is self-contained HTML carrying the given numbers, escaped, with inline SVG plots', async () => {
  const html = await renderDemoReport({
    title: 'steer demo',
    seed: 7,
    createdAt: '2026-01-01',
    world: { ratings: 120, kappaBefore: 0.4812 },
    rewardModels: [{ variant: 'Scaled BT (from regression)', accuracies: [0.8, 0.9, 1.0] }],
    policies: [
      { policy: 'SFT base', trueAccuracy: 0.42, sampledAccuracy: 0.3, rewardScore: -0.5, meanLengthChars: 12 },
      { policy: 'REINFORCE', trueAccuracy: 0.815, sampledAccuracy: 0.7125, rewardScore: 1.25, meanLengthChars: 9.5 },
    ],
    samplesPerPrompt: 12,
    reinforce: [
      { step: 0, reward: -0.5, kl: 0, lengthChars: 12 },
      { step: 1, reward: 0.2, kl: 0.01, lengthChars: 11 },
    ],
    probes: [
      {
        prompt: 'How many r in <strawberry>?',
        answer: '3',
        samples: [
          { policy: 'REINFORCE', text: '3', correct: true, sampled: [{ text: 'r at 3, 8, so 2.', correct: false }, { text: '3', correct: true }] },
          { policy: 'SFT base', text: '2', correct: false },
        ],
      },
    ],
    knowledge: [
      { policy: 'SFT base', accuracy: 0.6, correct: 72, total: 120, categories: { count: 0.5, spell: 0.75 } },
      { policy: 'REINFORCE', accuracy: 0.575, correct: 69, total: 120, categories: { count: 0.45 } },
    ],
    knowledgeChance: 0.2916,
    stageSeconds: { sft: 12.34 },
  });
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /data-metric="rm.scaled-bt-from-regression">90\.0 ± 10\.0</);
  assert.match(html, /data-metric="accuracy.reinforce">81\.5</);
  // the knowledge check: accuracy per policy, per task kind (blank where a policy has none), chance
  assert.match(html, /data-metric="knowledge.sft-base">60\.0</);
  assert.match(html, /data-metric="knowledge.reinforce">57\.5<\/td><td class="num">69 \/ 120<\/td><td class="num">45\.0<\/td><td class="num"><\/td>/);
  assert.match(html, /A uniform guess scores 29\.2 %/);
  assert.match(html, /data-metric="accuracy.sft-base">42\.0</);
  assert.match(html, /data-metric="sampled-accuracy.reinforce">71\.3</);
  assert.match(html, /sampled, t = 1, 12 per prompt/);
  assert.match(html, /How many r in &lt;strawberry&gt;\?/);
  // the greedy answer, then the sampled ones with their marks; a policy without samples shows none
  assert.match(html, /<b>REINFORCE<\/b>: <code>3<\/code> <span class="ok">✔<\/span><br>sampled: <code>r at 3, 8, so 2\.<\/code> <span class="bad">✘<\/span> · <code>3<\/code> <span class="ok">✔<\/span><\/li>/);
  assert.match(html, /<b>SFT base<\/b>: <code>2<\/code> <span class="bad">✘<\/span><\/li>/);
  assert.ok((html.match(/<svg /g) ?? []).length >= 4, 'four inline SVG plots');
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org|vega\.github\.io)/, 'no scripts, no external resources');
});
