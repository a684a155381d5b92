// AlpacaEval 2 metrics (tatsu-lab/alpaca_eval@cd543a1 src/alpaca_eval/metrics/{winrate,helpers,glm_winrate}.py).
//   preference ∈ [1, 2]: 1 = baseline (output_1) wins, 2 = model (output_2) wins; legacy 0 ≡ 1.5 (draw)
//   win_rate = 100·mean(pref − 1); standard_error = 100·std(pref − 1, ddof=1)/√n
//   discrete_win_rate = 100·(wins + draws/2)/n after rounding pref to {1, 2} (exact 1.5 = draw)
//   length-controlled (Dubois et al. 2024, arXiv 2404.04475):
//     logit P(model wins) = a·tanh(Δlen/std(Δlen)) + b·instruction_difficulty + c·not_gamed_baseline
//     (Δlen = len(output_1) − len(output_2) in code points, std with ddof=1, no intercept), fitted
//     by L1 logistic regression on soft labels with C chosen by 5-fold GroupKFold CV over
//     logspace(−4, 4, 10), on the model's rows (weight 1) plus the 2×805 "gamed" rows of
//     df_gamed.csv (weight λ/2 = 0.1, not_gamed_baseline = 0);
//     LC = 100·mean_i σ(b·difficulty_i + c)  (Δlen = 0, not gamed); lc_standard_error = 100·sem(σ(·)).
import { UserError, describeValue } from '../util/errors.js';
import { groupKFoldEqualSize, logisticRegressionCV, logspace } from './crossval.js';
import type { LogisticData } from './logistic.js';
import { codePointLength, mean, sem, sigmoid, std } from '../util/stats.js';

/** Field names as alpaca_eval's leaderboards write them. */
export interface AlpacaWinRate {
  win_rate: number;
  standard_error: number;
  n_wins: number;
  n_wins_base: number;
  n_draws: number;
  n_total: number;
  discrete_win_rate: number;
}

export interface GlmWeights {
  /** coefficient of tanh(std_delta_len) */
  'np.tanh(std_delta_len)': number;
  instruction_difficulty: number;
  'not_gamed_baseline.astype(float)': number;
}

export interface AlpacaLcMetrics extends AlpacaWinRate {
  length_controlled_winrate: number;
  lc_standard_error: number;
  glm_weights: GlmWeights;
  /** C chosen by cross-validation (null for the baseline against itself) */
  chosen_C: number | null;
  mean_cv_score_per_C: number[];
  /** per annotation row: the GLM's predicted P(model wins) with no length difference */
  glm_preference: number[];
}

/** The gamed regularisation rows (df_gamed.csv; the conformance file's gamed_regularization_rows). */
export interface GamedRows {
  index: number[];
  /** already in [0, 1] */
  preference: number[];
  /** already standardised */
  stdDeltaLen: number[];
  instructionDifficulty: number[];
  /** df_gamed.csv's not_gamed_baseline column (false for every official row) */
  notGamedBaseline?: boolean[];
}

/** numpy round (half to even). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function describeHead2Head(preds: number[]): Omit<AlpacaWinRate, 'discrete_win_rate'> {
  const n_draws = preds.filter((p) => p === 1.5).length;
  const valid = preds.filter((p) => p >= 1 && p <= 2).map((p) => p - 1);
  return {
    win_rate: mean(valid) * 100,
    standard_error: sem(valid) * 100,
    n_wins: valid.filter((p) => p > 0.5).length,
    n_wins_base: valid.filter((p) => p < 0.5).length,
    n_draws,
    n_total: valid.length,
  };
}

/** get_winrate: the absolute (soft) and zero-one win rates of a model against the baseline. */
export function alpacaWinRate(preferences: ArrayLike<number | null>): AlpacaWinRate {
  const soft: number[] = [];
  const discrete: number[] = [];
  for (let i = 0; i < preferences.length; i++) {
    const raw = preferences[i];
    const p = raw === null || raw === undefined ? NaN : raw;
    soft.push(p === 0 ? 1.5 : p);
    // ZeroOneScoringRule: 1.5 → 0 (draw), then numpy round; a draw is scored 1.5
    const r = p === 1.5 || p === 0 ? 0 : roundHalfEven(p);
    discrete.push(r === 0 ? 1.5 : r);
  }
  const abs = describeHead2Head(soft);
  return { ...abs, discrete_win_rate: describeHead2Head(discrete).win_rate };
}


/** instruction_difficulty by eval-set index: the first gamed row of each index (drop_duplicates). */
export function difficultyFromGamed(gamed: GamedRows): Map<number, number> {
  const out = new Map<number, number>();
  gamed.index.forEach((idx, i) => {
    if (!out.has(idx)) out.set(idx, gamed.instructionDifficulty[i]);
  });
  return out;
}

export interface LcInput {
  /** annotator preferences in row order (row position = instruction index, as the official code) */
  preference: ArrayLike<number | null>;
  /** code-point lengths of the baseline (output_1) and model (output_2) outputs */
  lenBaseline: ArrayLike<number>;
  lenModel: ArrayLike<number>;
  gamed: GamedRows;
  /** the model is the baseline itself: LC = 50 by construction, no fit */
  isBaseline?: boolean;
  /** regularize_to_baseline_lambda (0.2) */
  lambda?: number;
  Cs?: number[];
  nSplits?: number;
}

const ZERO_WEIGHTS: GlmWeights = { 'np.tanh(std_delta_len)': 0, instruction_difficulty: 0, 'not_gamed_baseline.astype(float)': 0 };

/** get_length_controlled_winrate for one model's annotations against the baseline. */
export function lengthControlledWinRate(input: LcInput): AlpacaLcMetrics {
  const n = input.preference.length;
  if (input.lenBaseline.length !== n || input.lenModel.length !== n) {
    throw new RangeError(`lengthControlledWinRate: ${n} preferences but ${input.lenBaseline.length} baseline and ${input.lenModel.length} model lengths`);
  }
  const metrics = alpacaWinRate(input.preference);
  if (input.isBaseline) {
    const glm = new Array<number>(n).fill(0.5);
    return { ...metrics, length_controlled_winrate: 50, lc_standard_error: 0, glm_weights: { ...ZERO_WEIGHTS }, chosen_C: null, mean_cv_score_per_C: [], glm_preference: glm };
  }
  const difficulty = difficultyFromGamed(input.gamed);
  const delta = Array.from({ length: n }, (_, i) => input.lenBaseline[i] - input.lenModel[i]);
  const sd = std(delta, 1);
  if (!(sd > 0)) throw new RangeError('lengthControlledWinRate: every output pair has the same length difference, so std(Δlen) = 0 and the length feature is undefined');
  const diffOf = (i: number) => {
    const v = difficulty.get(i);
    if (v === undefined) throw new RangeError(`lengthControlledWinRate: no instruction_difficulty for row ${i} (the gamed rows cover ${difficulty.size} instructions)`);
    return v;
  };
  const lambda = input.lambda ?? 0.2;
  // training rows: gamed rows first, then the model's rows (pd.concat([df_gamed, df])); NaN labels dropped
  const rows: { x: [number, number, number]; y: number; w: number }[] = [];
  const g = input.gamed;
  for (let i = 0; i < g.index.length; i++) {
    if (Number.isNaN(g.preference[i])) continue;
    const notGamed = g.notGamedBaseline?.[i] ?? false;
    rows.push({ x: [Math.tanh(g.stdDeltaLen[i]), g.instructionDifficulty[i], notGamed ? 1 : 0], y: g.preference[i], w: notGamed ? 1 : lambda / 2 });
  }
  for (let i = 0; i < n; i++) {
    const raw = input.preference[i];
    const pref = raw === null || raw === undefined ? NaN : raw === 0 ? 0.5 : raw - 1;
    if (Number.isNaN(pref)) continue;
    rows.push({ x: [Math.tanh(delta[i] / sd), diffOf(i), 1], y: pref, w: 1 });
  }
  const N = rows.length;
  const data: LogisticData = {
    X: Float64Array.from(rows.flatMap((r) => r.x)),
    n: N,
    p: 3,
    y: Float64Array.from(rows, (r) => r.y),
    w: Float64Array.from(rows, (r) => r.w),
  };
  const Cs = input.Cs ?? logspace(-4, 4, 10);
  // fit_LogisticRegressionCV: groups = row number, each row duplicated (label 1 and label 0)
  const cv = logisticRegressionCV(data, { Cs, fold: groupKFoldEqualSize(N, input.nSplits ?? 5), penalty: 'l1' });
  const [lengthCoef, difficultyCoef, notGamedCoef] = cv.coef;
  // predict with no length difference and a non-gamed baseline
  const glm = Array.from({ length: n }, (_, i) => sigmoid(difficultyCoef * diffOf(i) + notGamedCoef));
  return {
    ...metrics,
    length_controlled_winrate: mean(glm) * 100,
    lc_standard_error: sem(glm) * 100,
    glm_weights: { 'np.tanh(std_delta_len)': lengthCoef, instruction_difficulty: difficultyCoef, 'not_gamed_baseline.astype(float)': notGamedCoef },
    chosen_C: cv.C,
    mean_cv_score_per_C: cv.meanScores,
    glm_preference: glm,
  };
}

/** LC win rate implied by GLM weights: 100·mean_i σ(b·difficulty_i + c). */
export function lcFromWeights(weights: GlmWeights, instructionDifficulty: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < instructionDifficulty.length; i++) {
    s += sigmoid(weights.instruction_difficulty * instructionDifficulty[i] + weights['not_gamed_baseline.astype(float)']);
  }
  return (100 * s) / instructionDifficulty.length;
}

/**
 * predict_winrate: LC of `model` against another `baseline` from both models' GLM weights (each
 * fitted against the same reference): 100·mean_i σ(Δc + Δb·difficulty_i). (The official function
 * returns a fraction; steer reports percent like every other win rate.)
 */
export function predictLcWinRate(model: GlmWeights, baseline: GlmWeights, instructionDifficulty: ArrayLike<number>): number {
  const delta: GlmWeights = {
    'np.tanh(std_delta_len)': model['np.tanh(std_delta_len)'] - baseline['np.tanh(std_delta_len)'],
    instruction_difficulty: model.instruction_difficulty - baseline.instruction_difficulty,
    'not_gamed_baseline.astype(float)': model['not_gamed_baseline.astype(float)'] - baseline['not_gamed_baseline.astype(float)'],
  };
  return lcFromWeights(delta, instructionDifficulty);
}

/** One row of AlpacaEval's annotations.json. */
export interface AlpacaAnnotation {
  instruction?: string;
  output_1: string;
  output_2: string;
  generator_1: string;
  generator_2: string;
  preference: number | null;
}

/** Validate annotations.json (an array of rows) and return its rows. */
export function parseAnnotations(value: unknown, where: string): AlpacaAnnotation[] {
  if (!Array.isArray(value)) {
    throw new UserError({ what: 'annotations must be a JSON array of rows', where, received: describeValue(value), fix: "pass alpaca_eval's annotations.json (results/<model>/<annotator>/annotations.json)" });
  }
  return value.map((row: unknown, i: number) => {
    const at = `${where}[${i}]`;
    if (row === null || typeof row !== 'object') throw new UserError({ what: 'each annotation must be an object', where: at, received: describeValue(row), fix: 'pass the official annotations.json unmodified' });
    const r = row as Record<string, unknown>;
    for (const k of ['output_1', 'output_2', 'generator_1', 'generator_2']) {
      if (typeof r[k] !== 'string') throw new UserError({ what: `field "${k}" must be a string`, where: `${at}.${k}`, received: describeValue(r[k]), fix: 'every annotation row needs output_1, output_2, generator_1 and generator_2' });
    }
    const p = r.preference;
    if (p !== null && p !== undefined && typeof p !== 'number') {
      throw new UserError({ what: 'field "preference" must be a number in [1, 2] (or null)', where: `${at}.preference`, received: describeValue(p), fix: 'preferences are 1 (baseline better) … 2 (model better); 0 is a legacy draw' });
    }
    return {
      instruction: typeof r.instruction === 'string' ? r.instruction : undefined,
      output_1: r.output_1 as string,
      output_2: r.output_2 as string,
      generator_1: r.generator_1 as string,
      generator_2: r.generator_2 as string,
      preference: p === undefined ? null : (p as number | null),
    };
  });
}

/** All AlpacaEval 2 metrics for one model's annotations (row order = eval-set order). */
export function alpacaEvalFromAnnotations(annotations: readonly AlpacaAnnotation[], gamed: GamedRows, where = 'annotations'): AlpacaLcMetrics & { model: string; baseline: string; avg_length: number } {
  if (annotations.length === 0) throw new UserError({ what: 'there are no annotations', where, fix: 'pass a non-empty annotations.json' });
  const models = [...new Set(annotations.map((a) => a.generator_2))];
  if (models.length !== 1) throw new UserError({ what: 'annotations must be for one model (one generator_2)', where, received: models.join(', '), fix: 'split the file per model; the length-controlled GLM is fitted per model' });
  const baseline = annotations[0].generator_1;
  const lenModel = annotations.map((a) => codePointLength(a.output_2));
  const metrics = lengthControlledWinRate({
    preference: annotations.map((a) => a.preference),
    lenBaseline: annotations.map((a) => codePointLength(a.output_1)),
    lenModel,
    gamed,
    isBaseline: models[0] === baseline,
  });
  return { model: models[0], baseline, avg_length: Math.trunc(mean(lenModel)), ...metrics };
}
