// Tiny policies for tests: the toy world's char codec on a 1-layer Llama small enough for the
// float64 interpreter, seeded random weights.
import { CharCodec } from '../../src/policy/codec.js';
import { randomLlamaWeights, toyPolicyConfig, type PolicyModel } from '../../src/policy/model.js';
import { EMBED } from '../../src/nn/weights.js';

/**
 * A char-level policy: hidden 16, 1 layer, 2 heads (1 KV head), context 96, tied embeddings.
 * `eosBias` > 0 makes stopping likely: every embedding row gets a shared direction u (so hidden
 * states lean towards u) and the stop token's row gets eosBias·u more, raising its logit.
 */
export function tinyCharPolicy(seed = 1, std = 0.2, eosBias = 0): PolicyModel {
  const codec = new CharCodec();
  const config = toyPolicyConfig({ hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, numKvHeads: 1, maxPositionEmbeddings: 96 }, codec.tokenizer);
  const weights = randomLlamaWeights(config, seed, std);
  if (eosBias > 0) {
    const e = weights.get(EMBED)!;
    const D = config.hiddenSize;
    for (let v = 0; v < config.vocabSize; v++) {
      e.data[v * D] += 1;
      if (v === codec.tokenizer.eosId) e.data[v * D] += eosBias;
    }
  }
  return { config, weights, codec, source: `tiny test policy (seed ${seed})` };
}
