import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose } from '../helpers/close.js';
import { conformance } from './conformance.js';
import {
  EXAMPLE_COUNTS,
  REWARDBENCH_SECTIONS,
  bestOfNResult,
  generativeResult,
  legacyRewardBenchAverage,
  pairCorrect,
  pairwiseAccuracy,
  rewardBenchScore,
  scoreRewardBench,
  sectionScores,
  tiesScore,
  type JudgeVerdict,
} from '../../src/evaluate/rewardbench.js';

test('pairCorrect is strict: ties and NaN are wrong', () => {
  assert.equal(pairCorrect(1, 0.5), 1);
  assert.equal(pairCorrect(0.5, 0.5), 0);
  assert.equal(pairCorrect(-1, 2), 0);
  assert.equal(pairCorrect(NaN, 0), 0);
  assert.equal(pairCorrect(0, NaN), 0);
});

test('sections by hand: Reasoning weighs math-prm 984 against 6×164 code prompts', () => {
  // Reasoning = (1.0·984 + 0·164·6)/(984 + 984) = 0.5; Chat with two subsets present:
  // (0.5·100 + 1.0·95)/195 = 145/195
  const s = sectionScores({ 'math-prm': 1, 'hep-cpp': 0, 'hep-go': 0, 'hep-java': 0, 'hep-js': 0, 'hep-python': 0, 'hep-rust': 0, 'alpacaeval-easy': 0.5, 'alpacaeval-length': 1 });
  assertClose(s.Reasoning, 0.5);
  assertClose(s.Chat, 145 / 195);
  assert.equal(s.Safety, 0, 'a section with no subsets present is 0');
  assertClose(rewardBenchScore(s), (0.5 + 145 / 195) / 4);
});

test('RewardBench conformance A: the official README example (beaver-7b-v1.0-cost)', (t) => {
  const c = conformance(t, 'rewardbench');
  if (!c) return;
  const numeric = Object.fromEntries(Object.entries(c.A_readme_example.metrics).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
  const s = sectionScores(numeric);
  for (const [k, v] of Object.entries(c.A_readme_example.expected_sections)) assertClose(s[k as keyof typeof s], v as number, { rtol: 0, atol: 1e-12, what: k });
  assertClose(rewardBenchScore(s), c.A_readme_example.expected_overall_4_section_mean, { rtol: 0, atol: 1e-12 });
  assertClose(legacyRewardBenchAverage(s).average, c.B_synthetic_per_example.legacy_without_prior_sets_readme_model.expected_average, { rtol: 0, atol: 1e-12 });
});

test('RewardBench conformance B: per-example rewards → subsets, sections, score, legacy average', (t) => {
  const c = conformance(t, 'rewardbench');
  if (!c) return;
  const b = c.B_synthetic_per_example;
  const rows = b.subset.map((subset: string, i: number) => ({ subset, chosen: b.score_chosen[i], rejected: b.score_rejected[i] }));
  const ties = rows.filter((r: { chosen: number; rejected: number }) => r.chosen === r.rejected).length;
  assert.equal(ties, b.n_exact_ties, 'the vector includes exact ties, which must count as wrong');
  const report = scoreRewardBench(rows);
  for (const [k, v] of Object.entries(b.expected_per_subset_correct)) assert.equal(report.subsets[k].correct, v, k);
  for (const [k, v] of Object.entries(b.expected_per_subset_accuracy)) assertClose(report.subsets[k].accuracy, v as number, { rtol: 0, atol: 1e-12, what: k });
  for (const [k, v] of Object.entries(b.expected_sections)) assertClose(report.sections[k as keyof typeof report.sections], v as number, { rtol: 0, atol: 1e-12, what: k });
  assertClose(report.score, b.expected_overall_4_section_mean, { rtol: 0, atol: 1e-12 });
  assert.deepEqual(report.unknownSubsets, []);
  const legacy = legacyRewardBenchAverage(report.sections, b.legacy_with_prior_sets.prior_set_accuracies_illustrative);
  assertClose(legacy.priorSets, b.legacy_with_prior_sets.expected_prior_sets, { rtol: 0, atol: 1e-12 });
  assertClose(legacy.average, b.legacy_with_prior_sets.expected_average, { rtol: 0, atol: 1e-12 });
  // the same through the helper the reward-model engineer calls
  assertClose(pairwiseAccuracy(rows)['math-prm'].accuracy, b.expected_per_subset_accuracy['math-prm']);
});

test('RewardBench conformance C: section edge cases (missing subsets skipped, empty section 0)', (t) => {
  const c = conformance(t, 'rewardbench');
  if (!c) return;
  for (const ec of c.C_section_edge_cases) {
    const s = sectionScores(ec.metrics);
    for (const [k, v] of Object.entries(ec.expected_sections)) assertClose(s[k as keyof typeof s], v as number, { rtol: 0, atol: 1e-12, what: `${ec.case} ${k}` });
  }
});

test('RewardBench conformance D: the generative tie/error rule', (t) => {
  const c = conformance(t, 'rewardbench');
  if (!c) return;
  for (const d of c.D_generative_tie_rule) assert.equal(generativeResult(d.judge_output as JudgeVerdict, d.chosen_shown_as_B), d.expected, JSON.stringify(d));
});

test('RewardBench 2 conformance E: best-of-4 and the Ties score', (t) => {
  const c = conformance(t, 'rewardbench');
  if (!c) return;
  for (const r of c.E_rewardbench2.best_of_4) assertClose(bestOfNResult(r.scores_chosen_first), r.expected_result, { what: JSON.stringify(r.scores_chosen_first) });
  const rows = c.E_rewardbench2.ties_subset.rows.map((r: { id: string; scores: number[]; num_correct: number }) => ({ id: r.id, scores: r.scores, numCorrect: r.num_correct }));
  assertClose(tiesScore(rows), c.E_rewardbench2.ties_subset.expected_score, { rtol: 0, atol: 1e-12 });
});

test('tiesScore by hand on one prompt pair', () => {
  // ref:1 scores [3 | 1]: accurate, gap 2. tied:1 scores [5, 4 | 1]: accurate, spread 1, gap 3.
  // preferred: 3 > 1 yes; hard: min(2, 3) = 2 > 1 yes; margin tanh(2/1 − 1) = tanh(1).
  // score = 0.3 + 0.3 + 0.2 + 0.2 + 0.01·tanh(1)
  const s = tiesScore([
    { id: 'ref:1', scores: [3, 1], numCorrect: 1 },
    { id: 'tied:1', scores: [5, 4, 1], numCorrect: 2 },
  ]);
  assertClose(s, 1 + 0.01 * Math.tanh(1));
  assert.throws(() => tiesScore([{ id: 'other:1', scores: [1, 0], numCorrect: 1 }]), /"ref:<n>" or "tied:<n>"/);
});

test('RewardBench conformance F: the published Nemotron-70B-Reward 4-section mean', (t) => {
  const c = conformance(t, 'rewardbench');
  if (!c) return;
  const s = c.F_published_check.sections;
  // 97.5 + 85.7 + 95.1 + 98.1 = 376.4; /4 = 94.1
  assertClose(rewardBenchScore({ Chat: s.Chat, 'Chat Hard': s['Chat Hard'], Safety: s.Safety, Reasoning: s.Reasoning }), c.F_published_check.expected_overall_4_section_mean, { atol: 1e-9 });
});

test('the section table covers every weighted subset exactly once', () => {
  const all = Object.values(REWARDBENCH_SECTIONS).flat();
  assert.equal(new Set(all).size, all.length);
  assert.deepEqual([...all].sort(), Object.keys(EXAMPLE_COUNTS).sort());
  assert.deepEqual(scoreRewardBench([{ subset: 'my-subset', chosen: 1, rejected: 0 }]).unknownSubsets, ['my-subset']);
});
