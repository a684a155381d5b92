// Response-length statistics: characters counted as Unicode code points (Python len(str), what
// AlpacaEval's length control uses) and, given a tokenizer, tokens; mean, median, p90, max.
// The paper reports mean response length in characters (e.g. 2,200 after REINFORCE vs 1,729).
import type { TextTokenizer } from '../text/tokenizer.js';
import { codePointLength } from './alpacaeval.js';
import { mean, quantile } from './stats.js';

export interface LengthSummary {
  n: number;
  mean: number;
  median: number;
  p90: number;
  max: number;
}

export interface LengthStats {
  chars: LengthSummary;
  /** null when no tokenizer was given */
  tokens: LengthSummary | null;
}

function summarize(xs: number[]): LengthSummary {
  return { n: xs.length, mean: mean(xs), median: quantile(xs, 0.5), p90: quantile(xs, 0.9), max: xs.length ? Math.max(...xs) : NaN };
}

export function lengthStats(texts: readonly string[], tokenizer?: Pick<TextTokenizer, 'encode'>): LengthStats {
  return {
    chars: summarize(texts.map(codePointLength)),
    tokens: tokenizer ? summarize(texts.map((t) => tokenizer.encode(t, { bos: false }).length)) : null,
  };
}
