import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClose } from '../helpers/close.js';
import { conformance } from './conformance.js';
import { UserError } from '../../src/util/errors.js';
import { codePointLength } from '../../src/util/stats.js';
import {
  alpacaEvalFromAnnotations,
  alpacaWinRate,
  lcFromWeights,
  lengthControlledWinRate,
  parseAnnotations,
  predictLcWinRate,
  type GamedRows,
} from '../../src/evaluate/alpacaeval.js';
import { checkDifficultyMatchesGamed, readGamedRows, readInstructionDifficulty } from '../../src/evaluate/alpacaeval-io.js';
import { groupKFoldEqualSize, logspace, numpyAvx512ArgsortOfConstant } from '../../src/evaluate/crossval.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const gamedOf = (c: any): GamedRows => {
  const g = c.gamed_regularization_rows;
  return { index: g.index, preference: g.preference, stdDeltaLen: g.std_delta_len, instructionDifficulty: g.instruction_difficulty };
};

test('win rates by hand: soft, discrete, draws, legacy 0 and invalid rows', () => {
  // preferences 1, 2, 1.5, 0 (legacy draw → 1.5), 1.75, NaN (dropped):
  // soft p−1 = [0, 1, .5, .5, .75] → mean .55 → 55; discrete: [0, 1, .5, .5, 1] → 60
  // draws: the 1.5 and the 0 → 2; wins (p−1 > .5): 1 and .75 → 2; base wins: 1
  const r = alpacaWinRate([1, 2, 1.5, 0, 1.75, NaN]);
  assertClose(r.win_rate, 55);
  assertClose(r.discrete_win_rate, 60);
  assert.deepEqual([r.n_wins, r.n_wins_base, r.n_draws, r.n_total], [2, 1, 2, 5]);
  // sem: deviations from .55 are −.55 .45 −.05 −.05 .2, squares sum to .55; std = √(.55/4); ·100/√5
  assertClose(r.standard_error, (100 * Math.sqrt(0.55 / 4)) / Math.sqrt(5));
});

test('AlpacaEval conformance: win rate, standard error, discrete win rate exactly, for every case', (t) => {
  const c = conformance(t, 'alpacaeval_lc');
  if (!c) return;
  for (const cas of c.cases_refit_from_annotations) {
    const r = alpacaWinRate(cas.inputs.preference);
    const e = cas.expected_official_recompute;
    assertClose(r.win_rate, e.win_rate, { rtol: 0, atol: 1e-9, what: `${cas.model} win_rate` });
    assertClose(r.standard_error, e.standard_error, { rtol: 0, atol: 1e-9, what: `${cas.model} standard_error` });
    assertClose(r.discrete_win_rate, e.discrete_win_rate, { rtol: 0, atol: 1e-9, what: `${cas.model} discrete` });
    assert.deepEqual([r.n_wins, r.n_wins_base, r.n_draws, r.n_total], [e.n_wins, e.n_wins_base, e.n_draws, e.n_total], cas.model);
  }
});

test('AlpacaEval conformance: LC from our own refit within 0.05 points, with the official CV folds', (t) => {
  const c = conformance(t, 'alpacaeval_lc');
  if (!c) return;
  const gamed = gamedOf(c);
  for (const cas of c.cases_refit_from_annotations) {
    const r = lengthControlledWinRate({
      preference: cas.inputs.preference,
      lenBaseline: cas.inputs.len_output_1_baseline,
      lenModel: cas.inputs.len_output_2_model,
      gamed,
      isBaseline: cas.model === 'gpt4_1106_preview',
    });
    const e = cas.expected_official_recompute;
    assertClose(r.length_controlled_winrate, e.length_controlled_winrate, { rtol: 0, atol: 0.05, what: `${cas.model} LC` });
    assertClose(r.lc_standard_error, e.lc_standard_error, { rtol: 0, atol: 0.005, what: `${cas.model} LC standard error` });
    if (!cas.fit_internals) continue;
    // Same folds as sklearn GroupKFold on numpy 1.26.4: the held-out scores agree to liblinear's
    // slack (≤ 3e-6 here); another fold assignment (e.g. numpy ≥ 2 or no AVX-512) moves them ~2e-4.
    assertClose(r.mean_cv_score_per_C, cas.fit_internals.mean_cv_score_per_C, { rtol: 0, atol: 2e-5, what: `${cas.model} CV scores` });
    assertClose(r.glm_preference, cas.expected_glm_preference_per_row, { rtol: 0, atol: 2e-3, what: `${cas.model} GLM preference` });
    // Our solver reaches the optimum, liblinear stops at tol 1e-4: compare with its tight-tolerance fit.
    if (r.chosen_C === cas.fit_internals.chosen_C) {
      const w = cas.fit_internals.coef_tight_tol_same_C;
      assertClose(Object.values(r.glm_weights), [w['np.tanh(std_delta_len)'], w.instruction_difficulty, w['not_gamed_baseline.astype(float)']], { rtol: 0, atol: 1e-6, what: `${cas.model} coefficients` });
      assertClose(r.length_controlled_winrate, cas.fit_internals.lc_tight_tol_same_C, { rtol: 0, atol: 1e-6 });
    } else {
      // gpt4_gamed: the CV scores of C = 21.5 and 166.8 differ by 1e-6, inside liblinear's slack;
      // the exact optimum prefers 21.5 (LC 12.194 vs official 12.189).
      assert.equal(cas.model, 'gpt4_gamed');
    }
  }
});

test('AlpacaEval conformance: LC from published GLM weights (closed form) and across baselines', (t) => {
  const c = conformance(t, 'alpacaeval_lc');
  if (!c) return;
  const diff: number[] = c.instruction_difficulty;
  const weights = new Map<string, any>();
  for (const cas of c.closed_form_from_published_weights) {
    weights.set(cas.model, cas.glm_weights);
    assertClose(lcFromWeights(cas.glm_weights, diff), cas.expected_lc, { rtol: 0, atol: 1e-9, what: cas.model });
  }
  for (const cas of c.cases_refit_from_annotations) {
    weights.set(cas.model, cas.published_glm_weights);
    assertClose(lcFromWeights(cas.published_glm_weights, diff), cas.lc_from_published_glm_weights, { rtol: 0, atol: 1e-9, what: cas.model });
  }
  let checked = 0;
  for (const x of c.cross_baseline_predictions) {
    if (!weights.has(x.model) || !weights.has(x.baseline)) continue; // claude-2.1's weights are not in the file
    assertClose(predictLcWinRate(weights.get(x.model), weights.get(x.baseline), diff), x.expected_lc, { rtol: 0, atol: 1e-9, what: `${x.model} vs ${x.baseline}` });
    checked++;
  }
  assert.equal(checked, 2);
  // the two claude-2.1 predictions are each other's complement: σ(−x) = 1 − σ(x)
  const [ab, ba] = c.cross_baseline_predictions;
  assertClose(ab.expected_lc + ba.expected_lc, 100, { atol: 1e-9 });
});

test('lengths are code points, not UTF-16 units, as the conformance lengths show', (t) => {
  assert.equal(codePointLength('a😀b'), 3);
  assert.equal('a😀b'.length, 4);
  assert.equal(codePointLength('\ud800'), 1, 'a lone surrogate is one code point, as in Python');
  const c = conformance(t, 'alpacaeval_lc');
  if (!c) return;
  for (const cas of c.cases_refit_from_annotations) {
    const u16: number[] = cas.inputs.len_output_2_utf16;
    const cp: number[] = cas.inputs.len_output_2_model;
    const u16b: number[] = cas.inputs.len_output_1_utf16;
    const cpb: number[] = cas.inputs.len_output_1_baseline;
    const differing = u16.filter((v, i) => v !== cp[i]).length + u16b.filter((v, i) => v !== cpb[i]).length;
    assert.equal(differing, cas.n_outputs_where_utf16_length_differs_from_python_len, cas.model);
  }
});

test('annotations.json end to end: texts of the right code-point lengths reproduce the official numbers', (t) => {
  const c = conformance(t, 'alpacaeval_lc');
  if (!c) return;
  const cas = c.cases_refit_from_annotations[0];
  // a 4-byte emoji is one code point: lengths must not be measured in UTF-16 units
  const text = (n: number) => (n > 0 ? '😀' + 'x'.repeat(n - 1) : '');
  const ann = cas.inputs.preference.map((p: number, i: number) => ({
    instruction: `q${i}`,
    output_1: text(cas.inputs.len_output_1_baseline[i]),
    output_2: text(cas.inputs.len_output_2_model[i]),
    generator_1: 'gpt4_1106_preview',
    generator_2: cas.model,
    preference: p,
  }));
  const r = alpacaEvalFromAnnotations(parseAnnotations(ann, 'annotations.json'), gamedOf(c));
  assert.equal(r.model, cas.model);
  assert.equal(r.avg_length, cas.published_leaderboard.avg_length);
  assertClose(r.win_rate, cas.expected_official_recompute.win_rate, { rtol: 0, atol: 1e-9 });
  assertClose(r.length_controlled_winrate, cas.expected_official_recompute.length_controlled_winrate, { rtol: 0, atol: 0.05 });
});

test('annotation errors name the row and field', () => {
  assert.throws(() => parseAnnotations({}, 'a.json'), /a\.json: annotations must be a JSON array of rows/);
  assert.throws(() => parseAnnotations([{ output_1: 'x', output_2: 3, generator_1: 'b', generator_2: 'm', preference: 1 }], 'a.json'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /^a\.json\[0\]\.output_2: field "output_2" must be a string/);
    assert.match(e.message, /fix: every annotation row needs output_1, output_2, generator_1 and generator_2/);
    return true;
  });
  assert.throws(() => parseAnnotations([{ output_1: 'x', output_2: 'y', generator_1: 'b', generator_2: 'm', preference: 'B' }], 'a.json'), /a\.json\[0\]\.preference: field "preference" must be a number/);
  const two = parseAnnotations(
    [
      { output_1: 'x', output_2: 'y', generator_1: 'b', generator_2: 'm1', preference: 1 },
      { output_1: 'x', output_2: 'yy', generator_1: 'b', generator_2: 'm2', preference: 2 },
    ],
    'a.json',
  );
  const gamed: GamedRows = { index: [0, 1], preference: [0.5, 0.5], stdDeltaLen: [0, 0], instructionDifficulty: [0, 0] };
  assert.throws(() => alpacaEvalFromAnnotations(two, gamed, 'a.json'), /a\.json: annotations must be for one model[\s\S]*received: m1, m2/);
});

test('the official CSV side files and the JSON shapes read to the same rows', (t) => {
  const c = conformance(t, 'alpacaeval_lc');
  if (!c) return;
  const dir = mkdtempSync(join(tmpdir(), 'steer-ae-'));
  const g = c.gamed_regularization_rows;
  const csv = ['model,index,preference,std_delta_len,instruction_difficulty,not_gamed_baseline'];
  g.index.forEach((idx: number, i: number) => csv.push(`${g.model[i]},${idx},${g.preference[i]},${g.std_delta_len[i]},${g.instruction_difficulty[i]},False`));
  writeFileSync(join(dir, 'df_gamed.csv'), csv.join('\n') + '\n');
  writeFileSync(join(dir, 'gamed.json'), JSON.stringify(g));
  const fromCsv = readGamedRows(join(dir, 'df_gamed.csv'));
  const fromJson = readGamedRows(join(dir, 'gamed.json'));
  assert.deepEqual(fromCsv.index, fromJson.index);
  assert.deepEqual(fromCsv.preference, fromJson.preference);
  assert.deepEqual(fromCsv.stdDeltaLen, fromJson.stdDeltaLen);
  assert.ok(fromCsv.notGamedBaseline!.every((x) => x === false));
  writeFileSync(join(dir, 'instruction_difficulty.csv'), ',instruction_difficulty\n' + c.instruction_difficulty.map((v: number, i: number) => `${i},${v}`).join('\n') + '\n');
  writeFileSync(join(dir, 'difficulty.json'), JSON.stringify(c.instruction_difficulty));
  const d1 = readInstructionDifficulty(join(dir, 'instruction_difficulty.csv'));
  assert.deepEqual(d1, readInstructionDifficulty(join(dir, 'difficulty.json')));
  checkDifficultyMatchesGamed(d1, fromCsv, 'difficulty'); // equal up to 1 ulp of CSV rounding
  assert.throws(() => checkDifficultyMatchesGamed(d1.slice(0, 10), fromCsv, 'd.csv'), /d\.csv: the instruction difficulties cover 10 instructions but the gamed rows cover 805/);
  writeFileSync(join(dir, 'bad.csv'), 'model,index,preference\nx,0,0.5\n');
  assert.throws(() => readGamedRows(join(dir, 'bad.csv')), /bad\.csv:1: the gamed-rows CSV has no column "std_delta_len"[\s\S]*fix: pass alpaca_eval's df_gamed\.csv unmodified/);
  writeFileSync(join(dir, 'bad2.csv'), 'model,index,preference,std_delta_len,instruction_difficulty\nx,0,abc,0,0\n');
  assert.throws(() => readGamedRows(join(dir, 'bad2.csv')), /bad2\.csv:2: column "preference" must be a number/);
  writeFileSync(join(dir, 'bad.json'), '{"index": [0]}');
  assert.throws(() => readGamedRows(join(dir, 'bad.json')), /bad\.json field preference: field "preference" must be an array of numbers/);
});

test('CV folds: numpy 1.26.4 (AVX-512) argsort of equal keys, and GroupKFold dealing', () => {
  // np.argsort(np.full(100, 2)) printed by numpy 1.26.4 on an AVX-512 machine: runs 88–96, 1–7, 16–87, 8–15, 97–99, 0
  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  assert.deepEqual(Array.from(numpyAvx512ArgsortOfConstant(100)), [...range(88, 96), ...range(1, 7), ...range(16, 87), ...range(8, 15), ...range(97, 99), 0]);
  // n = 300 (unrolled partition): the 39 runs numpy printed
  const runs300 = [[280, 287], [272, 279], [264, 271], [256, 263], [24, 31], [16, 23], [8, 15], [288, 288], [1, 7], [88, 95], [80, 87], [72, 79], [64, 71], [120, 127], [112, 119], [104, 111], [96, 103], [152, 159], [144, 151], [136, 143], [128, 135], [184, 191], [176, 183], [168, 175], [160, 167], [216, 223], [208, 215], [200, 207], [192, 199], [248, 255], [240, 247], [232, 239], [224, 231], [56, 63], [48, 55], [40, 47], [32, 39], [289, 299], [0, 0]];
  assert.deepEqual(Array.from(numpyAvx512ArgsortOfConstant(300)), runs300.flatMap(([a, b]) => range(a, b)));
  assert.deepEqual(Array.from(numpyAvx512ArgsortOfConstant(2415).slice(0, 10)), [2392, 2393, 2394, 2395, 2396, 2397, 2398, 2399, 2384, 2385]);
  assert.deepEqual(Array.from(numpyAvx512ArgsortOfConstant(17)), range(0, 16), 'small arrays: bitonic networks keep equal keys in place');
  // GroupKFold deals the reversed order round-robin: n = 7, order identity → folds of 6,5,4,3,2,1,0 = 0,1,2,0,1,2,0
  assert.deepEqual(Array.from(groupKFoldEqualSize(7, 3)), [0, 2, 1, 0, 2, 1, 0]);
  assert.throws(() => groupKFoldEqualSize(3, 5), /n_splits=5 is greater than the number of groups 3/);
  // np.logspace(-4, 4, 10) with numpy 1.26.4 (the conformance Cs_grid)
  assert.deepEqual(logspace(-4, 4, 10), [9.999999999999999e-5, 0.000774263682681127, 0.005994842503189409, 0.046415888336127774, 0.3593813663804626, 2.782559402207126, 21.54434690031882, 166.81005372000556, 1291.5496650148827, 10000.0]);
});
