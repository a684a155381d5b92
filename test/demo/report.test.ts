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
    world: [
      { label: "the world's responses rated by the panel (HelpSteer2 rows)", value: 120 },
      { label: "annotator agreement on preferences before filtering (Cohen's κ, quadratic weights)", value: 0.4812 },
    ],
    alignment: [
      { policy: 'SFT base', arenaHard: { value: 50, lower: 50, upper: 50 }, alpacaLc: { value: 50, lower: 50, upper: 50 }, mtBench: { value: 5.125, lower: 4.9, upper: 5.4 }, lengthChars: 12, greedy: 0.42, sampled: 0.3 },
      {
        policy: 'REINFORCE',
        arenaHard: { value: 61.23, lower: 55.5, upper: 66.01 },
        alpacaLc: { value: 52, lower: 47.1, upper: 56.9 },
        mtBench: { value: 6.5, lower: 6.2, upper: 6.8 },
        mtBenchVsBase: { value: 1.375, lower: -0.2, upper: 2.9 },
        lengthChars: 9.5,
        greedy: 0.815,
        greedyVsBase: { value: 0.395, lower: 0.3, upper: 0.49 },
        sampled: 0.7125,
        sampledVsBase: { value: 0.4125, lower: -0.02, upper: 0.5 },
      },
    ],
    benchmarkQuestions: 200,
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
        worked: 'r at 3, 8, 9, so 3.',
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
  // the alignment table comes first, each score with its interval; the baseline's pairwise scores have none
  assert.ok(html.indexOf('id="alignment-table"') < html.indexOf('id="rm-table"'));
  assert.match(html, /data-metric="arena.reinforce">61\.2<\/span> <span class="ci">\[55\.5, 66\.0\]<\/span>/);
  assert.match(html, /data-metric="arena.sft-base">50\.0<\/span> <\/td>/);
  assert.match(html, /data-metric="mt-bench.sft-base">5\.13<\/span> <span class="ci">\[4\.90, 5\.40\]/);
  assert.match(html, /data-metric="greedy-gain.reinforce">\+39\.5<\/span> <span class="ci">\[30\.0, 49\.0\]/);
  assert.match(html, /on 200 held-out prompts/);
  // what to conclude: Arena (55.5 > 50) and greedy ([30, 49] > 0) beyond noise; LC, MT-Bench and sampled intervals include no change
  assert.match(html, /<b>REINFORCE<\/b>: better than the SFT base beyond noise on Arena-Hard-style, greedy accuracy; within noise on AlpacaEval-LC-style, MT-Bench-style, sampled accuracy\./);
  // human labels, never raw keys
  assert.match(html, /annotator agreement on preferences before filtering \(Cohen's κ, quadratic weights\)<\/td><td class="num">0\.481</);
  assert.doesNotMatch(html, /kappaBefore|preferenceTasks/);
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
  assert.match(html, /<code>3<\/code><br><span class="caption">worked: <code>r at 3, 8, 9, so 3\.<\/code>/);
  // the greedy answer, then the sampled ones with their marks; a policy without samples shows none
  assert.match(html, /<b>REINFORCE<\/b>: <code>3<\/code> <span class="ok">✔<\/span><br>sampled: <code>r at 3, 8, so 2\.<\/code> <span class="bad">✘<\/span> · <code>3<\/code> <span class="ok">✔<\/span><\/li>/);
  assert.match(html, /<b>SFT base<\/b>: <code>2<\/code> <span class="bad">✘<\/span><\/li>/);
  assert.ok((html.match(/<svg /g) ?? []).length >= 4, 'four inline SVG plots');
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org|vega\.github\.io)/, 'no scripts, no external resources');
});
