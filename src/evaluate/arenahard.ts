// Arena-Hard-Auto scoring (lmarena/arena-hard-auto: v0.1 show_result.py + utils_math.py @0489bf3,
// the code behind Arena-Hard-v0.1 numbers such as Nemotron-70B's 85.0; v2.0 show_result.py +
// utils/math_utils.py @196f6b8).
// Each judgment has two games: game 1 shows (A = baseline, B = model), game 2 swaps them.
// v0.1: verdict → battles (">>" repeated 3 times); Bradley–Terry by logistic regression on
//   duplicated battles, X[a] = +ln10, X[b] = −ln10, y = 1 if A wins (a tie is one win each way):
//   P(A beats B) = 1/(1 + 10^((R_B − R_A)/400)),  R = 400·β + 1000, shifted so R_baseline = 1000;
//   score = 100·P(model beats baseline), rounded to 2 decimals; 95% CI from 100 bootstrap refits
//   (seeded numpy RNG, rows resampled with replacement).
// v0.1 style control: extra standardised features (a − b)/(a + b + 1) for token length and
//   header/list/bold counts, L2-penalised logistic regression (C = 1), R_baseline = 1114.
// v2: scores per judgment = label(game 2) ++ [1 − s for s in label(game 1)], model score = mean,
//   bootstrap mean and 90% interval; with style control, BT logits c with σ(c_m − c_base).
import { MT19937 } from './mt19937.js';
import { fitLogistic, fitLogisticSklearnLbfgs, type LogisticData } from './logistic.js';
import { torchLbfgs } from './torchlbfgs.js';
import { mean, percentile, pythonRound, quantile, median, sigmoid } from '../util/stats.js';

export const ARENA_VERDICTS_V01 = ['A>>B', 'A>B', 'A=B', 'B>A', 'B>>A'] as const;

/** One judgment: the judge's verdict label for each game (null when the judge gave none). */
export interface ArenaJudgment {
  questionId: string;
  model: string;
  /** [game 1 (A = baseline, B = model), game 2 (A = model, B = baseline)] */
  games: [string | null, string | null];
}

/** Response style features of one answer (arena-hard conv_metadata). */
export interface ArenaStyle {
  tokenLen: number;
  headers: number;
  lists: number;
  bold: number;
}

export interface Battle {
  questionId: string;
  modelA: string;
  modelB: string;
  winner: 'model_a' | 'model_b' | 'tie';
  styleA?: ArenaStyle;
  styleB?: ArenaStyle;
}

/**
 * get_battles_from_row: the battles of one judgment (model_a is always the baseline). An
 * unrecognised or missing verdict drops that game; ">>" verdicts count `weight` times.
 */
export function battlesFromJudgment(
  j: ArenaJudgment,
  baseline: string,
  opts: { weight?: number; firstGameOnly?: boolean; style?: { baseline: ArenaStyle; model: ArenaStyle } } = {},
): Battle[] {
  const weight = opts.weight ?? 3;
  const out: Battle[] = [];
  const games = opts.firstGameOnly ? [j.games[0]] : j.games;
  games.forEach((verdict, g) => {
    let winner: Battle['winner'] | null = null;
    let copies = 1;
    // game 1: A is the baseline (model_a); game 2: A is the model (model_b)
    const aSide = g === 0 ? 'model_a' : 'model_b';
    const bSide = g === 0 ? 'model_b' : 'model_a';
    switch (verdict) {
      case 'A=B':
        winner = 'tie';
        break;
      case 'A>B':
        winner = aSide;
        break;
      case 'A>>B':
        winner = aSide;
        copies = weight;
        break;
      case 'B>A':
        winner = bSide;
        break;
      case 'B>>A':
        winner = bSide;
        copies = weight;
        break;
      default:
        return; // unknown or null verdict: weight 0, the game is dropped
    }
    const battle: Battle = { questionId: j.questionId, modelA: baseline, modelB: j.model, winner };
    if (opts.style) {
      battle.styleA = opts.style.baseline;
      battle.styleB = opts.style.model;
    }
    for (let c = 0; c < copies; c++) out.push(battle);
  });
  return out;
}

/** P(A beats B) for ratings on the Elo scale. */
export function eloWinProbability(ratingA: number, ratingB: number, scale = 400, base = 10): number {
  return 1 / (1 + Math.pow(base, (ratingB - ratingA) / scale));
}

/**
 * The logistic-regression design of a set of battles, built once and refitted under any
 * resampling: one row per distinct (model_a, model_b, winner) — or per battle when style features
 * are appended — with y = 1 (A wins) / 0 (B wins) / ½ (tie, i.e. one win each way) and weight
 * 2·count (the official code duplicates every battle). Models are indexed in the official order,
 * pd.concat([model_a, model_b]).unique().
 */
class BtDesign {
  readonly models: string[] = [];
  readonly X: Float64Array;
  readonly y: Float64Array;
  readonly p: number;
  readonly nRows: number;
  /** design row of each battle */
  private readonly rowOf: Int32Array;
  /** whether each design row is a baseline-vs-itself battle */
  private readonly selfRow: boolean[];

  constructor(
    readonly battles: readonly Battle[],
    extra?: { dim: number; features: (i: number) => number[] },
  ) {
    const index = new Map<string, number>();
    for (const b of battles) if (!index.has(b.modelA)) index.set(b.modelA, this.models.push(b.modelA) - 1);
    for (const b of battles) if (!index.has(b.modelB)) index.set(b.modelB, this.models.push(b.modelB) - 1);
    const p = (this.p = this.models.length + (extra?.dim ?? 0));
    const LN = Math.log(10);
    const X: number[] = [];
    const y: number[] = [];
    this.selfRow = [];
    this.rowOf = new Int32Array(battles.length);
    const rowKey = new Map<string, number>();
    battles.forEach((b, i) => {
      const key = extra ? String(i) : `${b.modelA}\u0000${b.modelB}\u0000${b.winner}`;
      let r = rowKey.get(key);
      if (r === undefined) {
        r = y.length;
        rowKey.set(key, r);
        const row = new Array<number>(p).fill(0);
        row[index.get(b.modelA)!] = LN;
        row[index.get(b.modelB)!] = -LN; // assignment, as numpy does: a self-battle keeps only −ln10
        if (extra) extra.features(i).forEach((v, k) => (row[this.models.length + k] = v));
        X.push(...row);
        y.push(b.winner === 'model_a' ? 1 : b.winner === 'model_b' ? 0 : 0.5);
        this.selfRow.push(b.modelA === b.modelB);
      }
      this.rowOf[i] = r;
    });
    this.X = Float64Array.from(X);
    this.y = Float64Array.from(y);
    this.nRows = y.length;
  }

  /** Data with each battle counted `counts[i]` times (all once when null). */
  data(counts: ArrayLike<number> | null): { data: LogisticData; hasSelfBattle: boolean } {
    const w = new Float64Array(this.nRows);
    for (let i = 0; i < this.battles.length; i++) w[this.rowOf[i]] += 2 * (counts ? counts[i] : 1);
    const hasSelfBattle = this.selfRow.some((s, r) => s && w[r] > 0);
    return { data: { X: this.X, n: this.nRows, p: this.p, y: this.y, w }, hasSelfBattle };
  }
}

/**
 * compute_mle_elo: unpenalised BT fit, R = 400·β + 1000, then the optional shift that puts
 * `anchor` at 1000. Between distinct models the MLE is defined up to a common shift of β; sklearn's
 * lbfgs starts at 0 and moves only along gradients, which then sum to 0, so it returns the
 * zero-sum solution (reproduced here). A baseline-vs-itself battle fixes the shift instead.
 */
export function computeMleElo(battles: readonly Battle[], opts: { anchor?: string | null; counts?: ArrayLike<number> } = {}): Map<string, number> {
  return mleElo(new BtDesign(battles), opts.counts ?? null, opts.anchor ?? null).elo;
}

function mleElo(design: BtDesign, counts: ArrayLike<number> | null, anchor: string | null, init?: Float64Array): { elo: Map<string, number>; coef: Float64Array } {
  const { data, hasSelfBattle } = design.data(counts);
  const beta = fitLogistic(data, { penalty: 'none', maxIter: 500, init }).coef;
  const m = hasSelfBattle ? 0 : mean(beta);
  const elo = new Map<string, number>();
  design.models.forEach((name, j) => elo.set(name, 400 * (beta[j] - m) + 1000));
  if (anchor !== null && elo.has(anchor)) {
    const shift = 1000 - elo.get(anchor)!;
    for (const [k, v] of elo) elo.set(k, v + shift);
  }
  return { elo, coef: beta };
}

/** Multiplicity of each of n rows in one bootstrap resample (n draws with replacement). */
function resampleCounts(rng: MT19937, n: number): Int32Array {
  const counts = new Int32Array(n);
  for (let i = 0; i < n; i++) counts[rng.randint(n)]++;
  return counts;
}

export interface ArenaModelResult {
  elo: number;
  /** 100·P(model beats baseline), unrounded */
  winRate: number;
  /** the official score: winRate rounded to 2 decimals */
  score: number;
  /** bootstrap 2.5% / 97.5% Elo percentiles */
  eloLower: number;
  eloUpper: number;
  /** the CI endpoints as win rates (official conversion, see arenaHardV01) */
  winRateLower: number;
  winRateUpper: number;
}

export interface ArenaV01Result {
  baseline: string;
  models: Record<string, ArenaModelResult>;
  /** style-control coefficients by feature name (absent without style control) */
  styleCoefficients?: Record<string, number>;
  nBattles: number;
}

export type StyleControl = 'none' | 'style' | 'length' | 'markdown';

/**
 * How the style-control fits are solved. 'official' retraces the official optimiser and stops where
 * it stops (v0.1: sklearn lbfgs at its default tol 1e-4; v2: torch LBFGS, lr 0.1, 50 steps), which
 * is what published numbers contain; 'optimum' solves the same problem to machine precision.
 */
export type FitMode = 'official' | 'optimum';

/**
 * v0.1 leaderboard. Bootstrap quirks of the official code are kept so numbers match it:
 * (1) CI endpoints are Elo percentiles converted to win rates against the baseline's OWN
 * percentile; (2) without style control, bootstrap refits are anchored only when a model is
 * literally named "gpt-4-0314" (the official kwargs bug), otherwise left in the zero-sum gauge.
 */
export function arenaHardV01(
  battles: readonly Battle[],
  opts: { baseline: string; rounds?: number; seed?: number; styleControl?: StyleControl; fit?: FitMode; onRound?: (done: number, total: number) => void },
): ArenaV01Result {
  const rounds = opts.rounds ?? 100;
  const rng = new MT19937(opts.seed ?? 42);
  const style = opts.styleControl ?? 'none';
  const { baseline } = opts;
  let point: Map<string, number>;
  let boots: Map<string, number>[] = [];
  let styleCoefficients: Record<string, number> | undefined;
  if (style === 'none') {
    const design = new BtDesign(battles);
    const fit = mleElo(design, null, baseline);
    point = fit.elo;
    const bootAnchor = point.has('gpt-4-0314') ? 'gpt-4-0314' : null;
    for (let r = 0; r < rounds; r++) {
      // warm start at the full-data fit: the optimum is unique, so only the speed changes
      boots.push(mleElo(design, resampleCounts(rng, battles.length), bootAnchor, fit.coef).elo);
      opts.onRound?.(r + 1, rounds);
    }
  } else {
    const sc = new StyleControlled(battles, baseline, style, opts.fit ?? 'official');
    const fit = sc.fit(null);
    point = fit.elo;
    styleCoefficients = fit.coefficients;
    for (let r = 0; r < rounds; r++) {
      // get_bootstrap_result_style_control: np.random.choice(k, k) — the same randint stream
      boots.push(sc.fit(resampleCounts(rng, battles.length), fit.coef).elo);
      opts.onRound?.(r + 1, rounds);
    }
  }
  const models: Record<string, ArenaModelResult> = {};
  const lower = new Map<string, number>();
  const upper = new Map<string, number>();
  for (const name of point.keys()) {
    const samples = boots.map((b) => b.get(name) ?? NaN).filter((v) => !Number.isNaN(v));
    lower.set(name, percentile(samples, 2.5));
    upper.set(name, percentile(samples, 97.5));
  }
  const rate = (ratings: Map<string, number>, name: string) => (name === baseline ? 0.5 : eloWinProbability(ratings.get(name)!, ratings.get(baseline)!));
  for (const [name, elo] of point) {
    const winRate = 100 * rate(point, name);
    models[name] = {
      elo,
      winRate,
      score: pythonRound(winRate, 2),
      eloLower: lower.get(name)!,
      eloUpper: upper.get(name)!,
      winRateLower: 100 * rate(lower, name),
      winRateUpper: 100 * rate(upper, name),
    };
  }
  boots = [];
  return { baseline, models, styleCoefficients, nBattles: battles.length };
}

const STYLE_FEATURES: Record<Exclude<StyleControl, 'none'>, (keyof ArenaStyle)[]> = {
  style: ['tokenLen', 'headers', 'lists', 'bold'],
  length: ['tokenLen'],
  markdown: ['headers', 'lists', 'bold'],
};
const STYLE_NAMES: Record<keyof ArenaStyle, string> = { tokenLen: 'length', headers: 'header', lists: 'list', bold: 'bold' };

/**
 * construct_style_matrices + fit_bt: features (a − b)/(a + b + 1) per battle, standardised over
 * all battles (np.std, ddof 0), appended to the BT design; L2 logistic regression with C = 1
 * (fit_bt's LogisticRegression(fit_intercept=False): lbfgs, tol 1e-4, max_iter 100, started at 0
 * for every refit — 'official' retraces it, up to 0.6 Elo short of the optimum);
 * ratings anchored at baseline = 1114 (irrelevant for win rates).
 */
class StyleControlled {
  private readonly design: BtDesign;
  private readonly feats: (keyof ArenaStyle)[];

  constructor(
    battles: readonly Battle[],
    private readonly baseline: string,
    control: Exclude<StyleControl, 'none'>,
    private readonly mode: FitMode,
  ) {
    const feats = (this.feats = STYLE_FEATURES[control]);
    const k = feats.length;
    const raw = battles.map((b) => {
      if (!b.styleA || !b.styleB) throw new RangeError(`style control needs style metadata for every battle (question ${b.questionId}, ${b.modelB})`);
      return feats.map((f) => (b.styleA![f] - b.styleB![f]) / (b.styleA![f] + b.styleB![f] + 1));
    });
    // standardise each feature over all battles (duplicates change neither mean nor population std)
    const mu = new Array<number>(k).fill(0);
    const sd = new Array<number>(k).fill(0);
    for (let f = 0; f < k; f++) {
      const col = raw.map((r) => r[f]);
      mu[f] = mean(col);
      sd[f] = Math.sqrt(mean(col.map((v) => (v - mu[f]) ** 2)));
    }
    this.design = new BtDesign(battles, { dim: k, features: (i) => raw[i].map((v, f) => (v - mu[f]) / sd[f]) });
    if (!this.design.models.includes(baseline)) throw new RangeError(`baseline ${baseline} has no battles`);
  }

  fit(counts: ArrayLike<number> | null, init?: Float64Array): { elo: Map<string, number>; coefficients: Record<string, number>; coef: Float64Array } {
    const { data } = this.design.data(counts);
    const coef =
      this.mode === 'official'
        ? fitLogisticSklearnLbfgs(data, { penalty: 'l2', C: 1, tol: 1e-4, maxIter: 100 }).coef
        : fitLogistic(data, { penalty: 'l2', C: 1, maxIter: 500, init }).coef;
    const models = this.design.models;
    const elo = new Map<string, number>();
    models.forEach((name, j) => elo.set(name, 400 * coef[j] + 1000));
    const shift = 1114 - elo.get(this.baseline)!;
    for (const [name, v] of elo) elo.set(name, v + shift);
    const coefficients: Record<string, number> = {};
    this.feats.forEach((f, i) => (coefficients[STYLE_NAMES[f]] = coef[models.length + i]));
    return { elo, coefficients, coef };
  }
}

// ---------------------------------------------------------------------------------------------
// v2.0

/** load_judgments' label_to_score: the model-side scores of one verdict, A being the first shown. */
function v2Label(verdict: string, weight: number): number[] | null {
  const rep = (v: number) => new Array<number>(weight).fill(v);
  switch (verdict) {
    case 'A>B':
    case 'B<A':
      return [1];
    case 'A>>B':
    case 'B<<A':
      return rep(1);
    case 'A=B':
    case 'B=A':
      return [0.5];
    case 'A<B':
    case 'B>A':
      return [0];
    case 'A<<B':
    case 'B>>A':
      return rep(0);
    default:
      return null;
  }
}

/**
 * load_judgments: the model's score entries for one judgment, label(game 2) ++ [1 − s for s in
 * label(game 1)] (game 2 shows the model as A); null when either game has no known verdict,
 * which drops the whole judgment.
 */
export function v2Scores(j: ArenaJudgment, weight = 3): number[] | null {
  const [g1, g2] = j.games;
  const l1 = g1 === null ? null : v2Label(g1, weight);
  const l2 = g2 === null ? null : v2Label(g2, weight);
  if (!l1 || !l2) return null;
  return [...l2, ...l1.map((s) => 1 - s)];
}

export interface V2Entry {
  model: string;
  score: number;
  questionId: string;
}

/** Explode judgments into v2 battle entries (dropping judgments with a missing verdict). */
export function v2Entries(judgments: readonly ArenaJudgment[], weight = 3): { entries: V2Entry[]; dropped: number } {
  const entries: V2Entry[] = [];
  let dropped = 0;
  for (const j of judgments) {
    const s = v2Scores(j, weight);
    if (!s) {
      dropped++;
      continue;
    }
    for (const v of s) entries.push({ model: j.model, score: v, questionId: j.questionId });
  }
  return { entries, dropped };
}

export interface V2ModelResult {
  /** plain mean of the model's entries (percent) */
  mean: number;
  /** official score: mean of the bootstrap means (percent) */
  score: number;
  lower: number;
  upper: number;
}

/**
 * print_leaderboard (no style control): per model, 100 rounds of resampling its entries with
 * replacement (groups in sorted model order, numpy RNG); score = mean of the bootstrap means,
 * interval = their 5% and 95% quantiles. The official draw needs each model's entries in its
 * judgment file's line order and numpy's global state at the run's seed (show_result.py does not
 * seed; the conformance run used np.random.seed(0), reproduced to 3e-14 with seed: 0).
 */
export function arenaHardV2(entries: readonly V2Entry[], opts: { rounds?: number; seed?: number } = {}): Record<string, V2ModelResult> {
  const rounds = opts.rounds ?? 100;
  const rng = new MT19937(opts.seed ?? 42);
  const byModel = new Map<string, number[]>();
  for (const e of entries) {
    const list = byModel.get(e.model) ?? [];
    list.push(e.score);
    byModel.set(e.model, list);
  }
  const names = [...byModel.keys()].sort(pythonStringCompare);
  const boot = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      const xs = byModel.get(name)!;
      let s = 0;
      for (let i = 0; i < xs.length; i++) s += xs[rng.randint(xs.length)];
      boot.get(name)!.push(s / xs.length);
    }
  }
  const out: Record<string, V2ModelResult> = {};
  for (const name of names) {
    const b = boot.get(name)!;
    out[name] = { mean: 100 * mean(byModel.get(name)!), score: 100 * mean(b), lower: 100 * quantile(b, 0.05), upper: 100 * quantile(b, 0.95) };
  }
  return out;
}

/** Python's default str ordering (by code point), which pandas groupby uses for model names. */
export function pythonStringCompare(a: string, b: string): number {
  const ca = Array.from(a);
  const cb = Array.from(b);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = ca[i].codePointAt(0)! - cb[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}

export type V2StyleControl = 'length' | 'markdown' | 'both';

export interface V2StyleResult {
  featureNames: string[];
  /** point fit on all entries */
  pointCoefficients: number[];
  pointWinRate: Record<string, number>;
  /** official numbers: bootstrap median and 5%/95% quantiles (percent) */
  models: Record<string, { pointWinRate: number; median: number; lower: number; upper: number }>;
  medianCoefficients: number[];
}

/**
 * print_leaderboard_with_style_features: length (t_m − t_b)/(t_m + t_b); markdown densities
 * d = count/(tokens + 1), feature (d_m − d_b)/(d_m + d_b + 1); standardised (unbiased std);
 * one-hot +1 model / −1 baseline over the sorted model list; unpenalised BT (soft labels) on all
 * entries; win rate σ(c_m − c_base); 100 bootstrap refits (np.random.randint(0, n, (100, n)) over
 * the entries as given: the official draw needs the judgment files concatenated in glob order,
 * each in its line order, and the run's seed — 0 for the conformance run).
 * fit_pairwise_model minimises Σ BCE-with-logits by torch LBFGS from c = 0.5 with lr 0.1 and 50
 * steps, which stops well short of the optimum (up to 1 win-rate point here): 'official' retraces
 * those 50 steps (in float64; torch runs float32), 'optimum' solves to machine precision.
 */
export function arenaHardV2StyleControl(
  entries: readonly (V2Entry & { style: ArenaStyle; baselineStyle: ArenaStyle })[],
  opts: { baseline: string; control: V2StyleControl; rounds?: number; seed?: number; fit?: FitMode; onRound?: (done: number, total: number) => void },
): V2StyleResult {
  const n = entries.length;
  const all = entries.map((e) => {
    const m = e.style;
    const b = e.baselineStyle;
    const dm = [m.headers, m.lists, m.bold].map((c) => c / (m.tokenLen + 1));
    const db = [b.headers, b.lists, b.bold].map((c) => c / (b.tokenLen + 1));
    return [(m.tokenLen - b.tokenLen) / (m.tokenLen + b.tokenLen), ...dm.map((v, i) => (v - db[i]) / (v + db[i] + 1))];
  });
  for (let f = 0; f < 4; f++) {
    const col = all.map((r) => r[f]);
    const mu = mean(col);
    const sd = Math.sqrt(col.reduce((s, v) => s + (v - mu) ** 2, 0) / (n - 1));
    all.forEach((r) => (r[f] = (r[f] - mu) / sd));
  }
  const pick = opts.control === 'both' ? [0, 1, 2, 3] : opts.control === 'length' ? [0] : [1, 2, 3];
  const featureNames = pick.map((f) => ['length', 'header_density', 'list_density', 'bold_density'][f]);
  const unique = [...new Set([...entries.map((e) => e.model), opts.baseline])].sort(pythonStringCompare);
  const col = new Map(unique.map((m, i) => [m, i]));
  const p = unique.length + pick.length;
  const X = new Float64Array(n * p);
  entries.forEach((e, i) => {
    X[i * p + col.get(e.model)!] = 1;
    X[i * p + col.get(opts.baseline)!] = -1; // the baseline's own rows end up with −1 only
    pick.forEach((f, k) => (X[i * p + unique.length + k] = all[i][f]));
  });
  const y = Float64Array.from(entries, (e) => e.score);
  const fitCounts = (counts: ArrayLike<number> | null, init?: Float64Array) => {
    const w = counts ? Float64Array.from(counts) : new Float64Array(n).fill(1);
    if ((opts.fit ?? 'official') === 'official') return fitPairwiseTorch({ X, n, p, y, w });
    return fitLogistic({ X, n, p, y, w }, { penalty: 'none', maxIter: 500, init }).coef;
  };
  const base = col.get(opts.baseline)!;
  const winRates = (c: Float64Array) => Object.fromEntries(unique.map((m, i) => [m, 100 * (m === opts.baseline ? 0.5 : sigmoid(c[i] - c[base]))]));
  const point = fitCounts(null);
  const rounds = opts.rounds ?? 100;
  const rng = new MT19937(opts.seed ?? 42);
  const draws = rng.randintArray(n, rounds * n); // np.random.randint(0, n, size=(rounds, n)), row-major
  const bootRates: Record<string, number>[] = [];
  const bootCoefs: number[][] = [];
  for (let r = 0; r < rounds; r++) {
    const counts = new Float64Array(n);
    for (let i = 0; i < n; i++) counts[draws[r * n + i]]++;
    const c = fitCounts(counts, point); // warm start: same unique optimum, fewer iterations
    bootRates.push(winRates(c));
    bootCoefs.push(Array.from(c.subarray(unique.length)));
    opts.onRound?.(r + 1, rounds);
  }
  const pointWinRate = winRates(point);
  const models: V2StyleResult['models'] = {};
  for (const m of unique) {
    const xs = bootRates.map((b) => b[m]);
    models[m] = { pointWinRate: pointWinRate[m], median: quantile(xs, 0.5), lower: quantile(xs, 0.05), upper: quantile(xs, 0.95) };
  }
  return {
    featureNames,
    pointCoefficients: Array.from(point.subarray(unique.length)),
    pointWinRate,
    models,
    medianCoefficients: pick.map((_, k) => median(bootCoefs.map((c) => c[k]))),
  };
}

/**
 * math_utils.fit_pairwise_model('bt'): BTModel logits initialised to 0.5, loss
 * F.binary_cross_entropy_with_logits(X·c, y, reduction='sum') (a bootstrap's repeated rows as
 * weights w), optim.LBFGS(lr=0.1, max_iter=50, tolerance_grad=tolerance_change=1e-9).
 */
export function fitPairwiseTorch(d: LogisticData, opts: { lr?: number; maxIter?: number; tol?: number } = {}): Float64Array {
  const { X, n, p, y, w } = d;
  // the rows with weight > 0 as sparse lists (column ascending, so every sum below adds the same
  // terms in the same order as the dense loop would): one-hot rows have ≤ 2 + features non-zeros
  const rows: number[] = [];
  const start: number[] = [0];
  const cols: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    if (w[i] === 0) continue;
    rows.push(i);
    for (let j = 0, o = i * p; j < p; j++) if (X[o + j] !== 0) (cols.push(j), vals.push(X[o + j]));
    start.push(cols.length);
  }
  const fun = (c: Float64Array) => {
    const g = new Float64Array(p);
    let loss = 0;
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k];
      const a = start[k];
      const b = start[k + 1];
      let z = 0;
      for (let t = a; t < b; t++) z += vals[t] * c[cols[t]];
      // torch's stable form: (1 − y)·z + max(−z, 0) + log(e^{−max(−z,0)} + e^{−z−max(−z,0)});
      // e = e^{−|z|} also gives σ(z) as stats.sigmoid computes it (1/(1+e) for z ≥ 0, e/(1+e) else)
      const e = Math.exp(-Math.abs(z));
      loss += w[i] * ((1 - y[i]) * z + Math.max(-z, 0) + Math.log1p(e));
      const r = w[i] * ((z >= 0 ? 1 / (1 + e) : e / (1 + e)) - y[i]);
      for (let t = a; t < b; t++) g[cols[t]] += r * vals[t];
    }
    return { f: loss, g };
  };
  const tol = opts.tol ?? 1e-9;
  return torchLbfgs(fun, new Float64Array(p).fill(0.5), { lr: opts.lr ?? 0.1, maxIter: opts.maxIter ?? 50, toleranceGrad: tol, toleranceChange: tol }).x;
}

/** Per-kind markdown counts as arena-hard's add_markdown_info.py writes them into conv_metadata. */
export interface MarkdownBreakdown {
  header_count: Record<'h1' | 'h2' | 'h3' | 'h4' | 'h5' | 'h6', number>;
  list_count: { ordered: number; unordered: number };
  bold_count: { '**': number; __: number };
}

/**
 * Markdown element counts as arena-hard's add_markdown_info.py takes them (fenced code blocks
 * removed first): headers ^#{1..6}\s, list items ^\s*\d+\.\s and ^\s*[-*+]\s, bold **…** and __…__.
 */
export function markdownBreakdown(answer: string): MarkdownBreakdown {
  // remove_pattern: findall returns each block's inner text; str.replace then deletes every
  // occurrence of that text (the backtick fences themselves stay)
  let text = answer;
  for (const m of answer.matchAll(/```([^`]*)```/g)) if (m[1] !== '') text = text.split(m[1]).join('');
  const count = (re: RegExp) => (text.match(re) ?? []).length;
  const h = (level: number) => count(new RegExp(`^#{${level}}\\s`, 'gm'));
  return {
    header_count: { h1: h(1), h2: h(2), h3: h(3), h4: h(4), h5: h(5), h6: h(6) },
    list_count: { ordered: count(/^\s*\d+\.\s/gm), unordered: count(/^\s*[-*+]\s/gm) },
    bold_count: { '**': count(/\*\*[^*\n]+\*\*/g), __: count(/__[^_\n]+__/g) },
  };
}

/** The totals style control uses: headers, list items and bold spans. */
export function markdownCounts(answer: string): Omit<ArenaStyle, 'tokenLen'> {
  const b = markdownBreakdown(answer);
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, x) => a + x, 0);
  return { headers: sum(b.header_count), lists: sum(b.list_count), bold: sum(b.bold_count) };
}
