// Training sequences for a causal LM, with the loss on response tokens only:
//   seq = prompt ++ response (response ends with the stop token when it ended),
//   targets[t] = seq[t + 1],   lossMask[t] = 1 ⇔ seq[t + 1] is a response token
// (TRL's completion-only loss / NeMo-Aligner's loss mask: prompt and padding never enter a loss).
// Rows are right-padded to T; the attention mask hides padding (src/nn/llama.ts).
// Shapes: B rows, T positions.
import { UserError } from '../util/errors.js';
import { positionIdsFromMask } from '../nn/llama.js';

export interface TokenizedExample {
  /** Prompt tokens (chat formatting and BOS included); at least one. */
  prompt: readonly number[];
  /** Response tokens (stop token included when the response ended). */
  response: readonly number[];
}

/** Host arrays of a right-padded training batch (the graph-side inputs of one Llama pass are nn/llama.ts SequenceBatch). */
export interface TrainingBatch {
  B: number;
  T: number;
  /** [B, T] token ids (padding = padId) */
  ids: BigInt64Array;
  /** [B, T] RoPE positions */
  positions: BigInt64Array;
  /** [B, T] 1 real token, 0 padding */
  attention: Float32Array;
  /** [B, T] the next token (0 where unused) */
  targets: BigInt64Array;
  /** [B, T] 1 where targets[t] is a response token */
  lossMask: Float32Array;
  /** Per row: index t of the first response target (prompt length − 1) and the response length. */
  responseStart: number[];
  responseLength: number[];
}

/** Pack examples into a right-padded batch of length T (default: the longest sequence). */
export function buildSequenceBatch(examples: readonly TokenizedExample[], opts: { padId: number; T?: number }): TrainingBatch {
  const B = examples.length;
  if (B === 0) throw new UserError({ what: 'an empty batch', where: 'buildSequenceBatch(examples)', expected: 'at least one example', fix: 'pass at least one example' });
  const longest = Math.max(...examples.map((e) => e.prompt.length + e.response.length));
  const T = opts.T ?? longest;
  const ids = new BigInt64Array(B * T).fill(BigInt(opts.padId));
  const attention = new Float32Array(B * T);
  const targets = new BigInt64Array(B * T);
  const lossMask = new Float32Array(B * T);
  const responseStart: number[] = [];
  const responseLength: number[] = [];
  examples.forEach((e, b) => {
    const P = e.prompt.length;
    const L = P + e.response.length;
    if (P === 0) throw new UserError({ what: `example ${b} has an empty prompt`, where: `buildSequenceBatch(examples[${b}])`, expected: 'at least one prompt token (BOS)', fix: 'encode prompts with the policy codec' });
    if (L > T) throw new UserError({ what: `example ${b} has ${L} tokens`, where: `buildSequenceBatch(examples[${b}])`, expected: `at most T = ${T} tokens`, received: `${P} prompt + ${e.response.length} response tokens`, fix: 'raise the maximum length or drop long examples first' });
    const row = b * T;
    for (let t = 0; t < L; t++) {
      ids[row + t] = BigInt(t < P ? e.prompt[t] : e.response[t - P]);
      attention[row + t] = 1;
    }
    for (let t = 0; t + 1 < L; t++) {
      targets[row + t] = ids[row + t + 1];
      if (t + 1 >= P) lossMask[row + t] = 1;
    }
    responseStart.push(P - 1);
    responseLength.push(e.response.length);
  });
  return { B, T, ids, positions: positionIdsFromMask(attention, B, T), attention, targets, lossMask, responseStart, responseLength };
}

/** Row b's per-response-token values out of a [B, T] array (e.g. token log-probs). */
export function responseValues(values: ArrayLike<number>, batch: TrainingBatch, b: number): Float64Array {
  const out = new Float64Array(batch.responseLength[b]);
  const off = b * batch.T + batch.responseStart[b];
  for (let i = 0; i < out.length; i++) out[i] = values[off + i];
  return out;
}
