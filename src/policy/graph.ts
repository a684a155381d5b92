// The policy on the graph: per-token log-probabilities and entropies of a batch of sequences
// (src/nn/llama.ts underneath), for trainable weights (graph inputs) or frozen ones (initializers):
//   logp[b, t] = log softmax(logits[b, t])[targets[b, t]]
//   H[b, t]    = −Σ_v p_v log p_v,  p = softmax(logits[b, t])      (the policy's entropy)
// Shapes: B rows, T positions, V vocabulary.
import type { Graph, Tensor, TypedArray } from '../graph/index.js';
import type { LlamaConfig } from '../nn/config.js';
import { llamaHidden, lmLogits, tokenLogProbs, type LlamaParams } from '../nn/llama.js';
import type { LoraGraph } from '../nn/lora.js';
import type { TrainingBatch } from './sequences.js';

export interface SequenceInputs {
  /** int64 [B, T] */
  ids: Tensor;
  /** int64 [B, T] */
  positions: Tensor;
  /** float32 [B, T] */
  attention: Tensor;
  /** int64 [B, T] */
  targets: Tensor;
  /** float32 [B, T]: 1 on response targets */
  lossMask: Tensor;
}

/** Graph inputs for a [B, T] sequence batch (names: ids, positions, attention, targets, loss_mask). */
export function sequenceInputs(g: Graph, B: number, T: number): SequenceInputs {
  return {
    ids: g.input('ids', [B, T], 'int64'),
    positions: g.input('positions', [B, T], 'int64'),
    attention: g.input('attention', [B, T]),
    targets: g.input('targets', [B, T], 'int64'),
    lossMask: g.input('loss_mask', [B, T]),
  };
}

export function sequenceInputList(s: SequenceInputs): Tensor[] {
  return [s.ids, s.positions, s.attention, s.targets, s.lossMask];
}

/** Feeds for sequenceInputs from a host batch. */
export function sequenceFeeds(b: TrainingBatch): Record<string, TypedArray> {
  return { ids: b.ids, positions: b.positions, attention: b.attention, targets: b.targets, loss_mask: b.lossMask };
}

/** Logits [B, T, V] of the policy with parameters `p` (with its LoRA adapter when `p` carries one, src/policy/lora.ts). */
export function policyLogits(c: LlamaConfig, p: LlamaParams & { readonly lora?: LoraGraph }, s: SequenceInputs): Tensor {
  return lmLogits(c, p, llamaHidden(c, p, { ids: s.ids, positions: s.positions, attentionMask: s.attention }, p.lora));
}

/** log π(targets) per position: [B, T]. */
export function policyTokenLogProbs(c: LlamaConfig, p: LlamaParams, s: SequenceInputs): Tensor {
  return tokenLogProbs(policyLogits(c, p, s), s.targets);
}

/** Entropy of softmax(logits) over the last axis: logits [..., V] → [...] (no gradient flows). */
export function tokenEntropy(logits: Tensor): Tensor {
  const ls = logits.stopGradient().logSoftmax(-1); // log p, max-shifted inside LogSoftmax
  return ls.exp().mul(ls).sum(-1).neg();
}

/** Σ_t values[b, t] · mask[b, t] per row: [B, T] → [B]. */
export function maskedRowSum(values: Tensor, mask: Tensor): Tensor {
  return values.mul(mask).sum(-1);
}
