// Readable tables of evaluation results (what `steer eval` prints and writes as results.txt).
import type { AlpacaLcMetrics } from './alpacaeval.js';
import type { ArenaV01Result, V2ModelResult, V2StyleResult } from './arenahard.js';
import type { JudgeStats } from './judge.js';
import type { LengthStats } from '../data/stats.js';
import type { MtBenchModelScore, PairwiseModelScore } from './mtbench.js';
import type { RewardBenchReport } from './rewardbench.js';

/** Left-aligned first column, right-aligned others. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => (r[j] ?? '').length)));
  return cells.map((r) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ')).join('\n');
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? (Math.abs(x) < 0.5 * 10 ** -d ? 0 : x).toFixed(d) : 'n/a');

export function rewardBenchTable(r: RewardBenchReport & { legacyAverage?: number }): string {
  const rows = Object.entries(r.subsets)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([s, v]) => [s, `${v.correct}/${v.total}`, f(100 * v.accuracy, 1)]);
  const out = [table(['subset', 'correct', 'accuracy %'], rows), '', table(['section', 'score %'], Object.entries(r.sections).map(([k, v]) => [k, f(100 * v, 1)]))];
  out.push('', `RewardBench score (mean of the 4 sections): ${f(100 * r.score, 1)}`);
  if (r.legacyAverage !== undefined) out.push(`legacy v1 average (with prior sets): ${f(100 * r.legacyAverage, 1)}`);
  if (r.unknownSubsets.length) out.push(`subsets outside the sections (not weighted): ${r.unknownSubsets.join(', ')}`);
  return out.join('\n');
}

export function mtBenchTable(scores: Record<string, MtBenchModelScore>): string {
  const rows = Object.entries(scores)
    .sort(([, a], [, b]) => b.average - a.average)
    .map(([m, s]) => [m, f(s.average), f(s.firstTurn), f(s.secondTurn), `${s.nValid}/${s.nRows}`]);
  return table(['model', 'MT-Bench', 'turn 1', 'turn 2', 'valid judgments'], rows) + '\n(MT-Bench = mean over all valid judgments of both turns, as FastChat show_result.py)';
}

export function mtBenchPairwiseTable(scores: Record<string, PairwiseModelScore>, baseline: string): string {
  const rows = Object.entries(scores)
    .sort(([, a], [, b]) => b.winRateAdjusted - a.winRateAdjusted)
    .map(([m, s]) => [m, s.win, s.loss, s.tie, f(s.winRate, 3), f(s.lossRate, 3), f(s.winRateAdjusted, 3)]);
  return `against ${baseline}\n` + table(['model', 'win', 'loss', 'tie', 'win_rate', 'loss_rate', 'win_rate_adjusted'], rows);
}

export function alpacaTable(r: AlpacaLcMetrics & { model: string; baseline: string; avg_length: number }): string {
  return [
    `${r.model} vs ${r.baseline}`,
    table(
      ['metric', 'value'],
      [
        ['length-controlled win rate', `${f(r.length_controlled_winrate)} ± ${f(r.lc_standard_error)}`],
        ['win rate', `${f(r.win_rate)} ± ${f(r.standard_error)}`],
        ['discrete win rate', f(r.discrete_win_rate)],
        ['wins / losses / draws', `${r.n_wins} / ${r.n_wins_base} / ${r.n_draws} of ${r.n_total}`],
        ['average length (chars)', r.avg_length],
        ['GLM C (cross-validated)', r.chosen_C === null ? '—' : f(r.chosen_C, 4)],
      ],
    ),
  ].join('\n');
}

export function arenaV01Table(r: ArenaV01Result): string {
  const rows = Object.entries(r.models)
    .sort(([, a], [, b]) => b.winRate - a.winRate)
    .map(([m, s]) => [m, f(s.score), `(-${f(s.score - s.winRateLower)}, +${f(s.winRateUpper - s.score)})`, f(s.elo, 1)]);
  const out = [`against ${r.baseline} (${r.nBattles} battles)`, table(['model', 'score', '95% CI', 'Elo'], rows)];
  if (r.styleCoefficients) out.push('style coefficients: ' + Object.entries(r.styleCoefficients).map(([k, v]) => `${k} ${f(v, 3)}`).join(', '));
  return out.join('\n');
}

export function arenaV2Table(r: Record<string, V2ModelResult>): string {
  const rows = Object.entries(r)
    .sort(([, a], [, b]) => b.score - a.score)
    .map(([m, s]) => [m, f(s.score, 1), `(-${f(s.score - s.lower, 1)} / +${f(s.upper - s.score, 1)})`]);
  return table(['model', 'score %', '90% CI'], rows);
}

export function arenaV2StyleTable(r: V2StyleResult): string {
  const rows = Object.entries(r.models)
    .sort(([, a], [, b]) => b.median - a.median)
    .map(([m, s]) => [m, f(s.median, 1), `(-${f(s.median - s.lower, 1)} / +${f(s.upper - s.median, 1)})`]);
  return table(['model', 'score %', '90% CI'], rows) + '\nfeature coefficients (median): ' + r.featureNames.map((n, i) => `${n} ${f(r.medianCoefficients[i], 3)}`).join(', ');
}

export function lengthTable(byModel: Record<string, LengthStats>): string {
  const rows = Object.entries(byModel).map(([m, s]) => [m, s.chars.n, f(s.chars.mean, 0), f(s.chars.median, 0), s.tokens ? f(s.tokens.mean, 0) : '—']);
  return table(['model', 'answers', 'mean chars', 'median chars', 'mean tokens'], rows);
}

export function judgeStatsLine(s: JudgeStats): string {
  return `judge: ${s.completed} judgments (${s.cacheHits} from cache), ${s.requests} requests (${s.retries} retries), ${s.promptTokens} prompt + ${s.completionTokens} completion tokens, ${(s.requestMs / 1000).toFixed(1)} s in requests`;
}
