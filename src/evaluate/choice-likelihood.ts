// Multiple choice by likelihood, for a policy that was never taught the "The answer is (X)" format
// (the toy world's small policies): each option is scored as the policy's whole response to the
// question,
//   score(option) = Σₜ log π(yₜ | question, y<ₜ)   over the option's tokens and the stop token,
// and the prediction is the option of highest score (the first on a tie) — the continuation scoring
// of lm-evaluation-harness's multiple-choice tasks ("acc"), with the stop token included so that
// "7" is not favoured over "72" for being its prefix. Accuracy overall and per category is
// MMLU-Pro's tally (mmlupro.ts), so the numbers read like `steer eval mmlu-pro`'s.
// Shapes: rows R = Σ options, batches [B, T], per-row log-likelihood sums [B].
import { Graph } from '../graph/index.js';
import type { LlamaConfig } from '../nn/config.js';
import type { LlamaParams } from '../nn/llama.js';
import { buildSequenceBatch, type TokenizedExample } from '../policy/sequences.js';
import { lengthBucket } from '../train/batches.js';
import { maskedRowSum, policyTokenLogProbs, sequenceFeeds, sequenceInputList, sequenceInputs } from '../policy/graph.js';
import { PolicyForward } from '../policy/update.js';
import type { PolicyModel } from '../policy/model.js';
import { UserError } from '../util/errors.js';
import { CHOICE_LETTERS, tallyPredictions, type MultipleChoiceQuestion, type MultipleChoiceScore, type ScoredItem } from './mmlupro.js';

/** Σ log π over each row's response tokens: [B, T] → logp_sum [B]. */
function responseLogLikelihoodGraph(g: Graph, c: LlamaConfig, B: number, T: number, _policy: LlamaParams, frozen: LlamaParams | null) {
  const s = sequenceInputs(g, B, T);
  return { batch: sequenceInputList(s), outputs: { logp_sum: maskedRowSum(policyTokenLogProbs(c, frozen!, s), s.lossMask) } };
}

/** Σ log π(response | prompt) for each row, in fixed-shape batches (one compiled graph per policy). */
export async function responseLogLikelihoods(policy: PolicyModel, rows: readonly TokenizedExample[], opts: { batchSize?: number; threads?: number } = {}): Promise<number[]> {
  if (rows.length === 0) return [];
  const B = opts.batchSize ?? 64;
  const maxLen = policy.config.maxPositionEmbeddings;
  const longest = Math.max(...rows.map((r) => r.prompt.length + r.response.length));
  if (longest > maxLen) throw new UserError({ what: `a question and option take ${longest} tokens, more than the model's context (${maxLen})`, where: 'responseLogLikelihoods', fix: 'shorten the question or its options' });
  const T = lengthBucket(longest, 16, maxLen);
  const forward = new PolicyForward(policy.config, responseLogLikelihoodGraph, policy.weights, { threads: opts.threads }, false);
  const out: number[] = [];
  try {
    for (let i = 0; i < rows.length; i += B) {
      const chunk = rows.slice(i, i + B);
      const real = chunk.length;
      while (chunk.length < B) chunk.push(chunk[0]); // one shape for every batch; the copies are dropped
      const r = await forward.run(null, B, T, sequenceFeeds(buildSequenceBatch(chunk, { padId: policy.codec.padId, T })));
      const sums = r.logp_sum as Float32Array;
      for (let j = 0; j < real; j++) out.push(sums[j]);
    }
  } finally {
    await forward.release();
  }
  return out;
}

/** Each question answered by the option of highest likelihood; scored with MMLU-Pro's tally. */
export async function scoreByLikelihood(policy: PolicyModel, questions: readonly MultipleChoiceQuestion[], opts: { batchSize?: number; threads?: number } = {}): Promise<MultipleChoiceScore & { optionLogLikelihoods: number[][] }> {
  const rows: TokenizedExample[] = [];
  for (const q of questions) {
    const prompt = policy.codec.encodePrompt(q.question);
    for (const o of q.options) rows.push({ prompt, response: policy.codec.encodeResponse(o) });
  }
  const ll = await responseLogLikelihoods(policy, rows, opts);
  let k = 0;
  const perQuestion: number[][] = [];
  const items = questions.map((q): ScoredItem => {
    const scores = ll.slice(k, k + q.options.length);
    k += q.options.length;
    perQuestion.push(scores);
    let best = 0;
    for (let j = 1; j < scores.length; j++) if (scores[j] > scores[best]) best = j;
    const pred = CHOICE_LETTERS[best];
    const answer = CHOICE_LETTERS[q.answerIndex];
    return { id: q.id, category: q.category, answer, extracted: pred, pred, correct: pred === answer };
  });
  return { ...tallyPredictions(items), optionLogLikelihoods: perQuestion };
}
