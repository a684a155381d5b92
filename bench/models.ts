// The benchmark models shared by bench/generate.ts, bench/serve.ts and bench/serve_step.ts: a random
// Llama of llama2.c's stories15M shape (dim 288, 6 layers, 6 heads, hidden 768, vocab 32000, context
// 256; random weights, seed 0) and a synthetic 32,000-piece llama2.c tokenizer to go with it.
import { writeFileSync } from 'node:fs';
import { checkLlamaConfig, type LlamaConfig } from '../src/nn/config.js';
import { initLlamaWeights } from '../src/nn/init.js';
import type { LlamaWeights } from '../src/nn/weights.js';
import { Rng } from '../src/util/rng.js';

export function random15mConfig(): LlamaConfig {
  return checkLlamaConfig({ vocabSize: 32000, hiddenSize: 288, intermediateSize: 768, numLayers: 6, numHeads: 6, numKvHeads: 6, headDim: 48, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 256, tieWordEmbeddings: true, bosTokenId: 1, eosTokenIds: [2] }, 'bench');
}

export function random15m(): { config: LlamaConfig; weights: LlamaWeights } {
  const config = random15mConfig();
  return { config, weights: initLlamaWeights(config, new Rng(0)) };
}

/**
 * A llama2.c tokenizer file with `n` pieces: <unk> <s> </s>, the 256 byte tokens, " " (run.c's
 * encoder looks up the space it prefixes to every prompt), then " w<i>" words.
 */
export function syntheticTokenizer(path: string, n: number): void {
  const pieces = ['<unk>', '\n<s>\n', '\n</s>\n', ...Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`), ' '];
  for (let i = pieces.length; i < n; i++) pieces.push(` w${i}`);
  const parts: Buffer[] = [];
  const head = Buffer.alloc(4);
  head.writeInt32LE(Math.max(...pieces.map((p) => Buffer.byteLength(p))));
  parts.push(head);
  pieces.forEach((p, i) => {
    const b = Buffer.from(p, 'utf8');
    const h = Buffer.alloc(8);
    h.writeFloatLE(i < 259 ? 0 : -i, 0);
    h.writeInt32LE(b.length, 4);
    parts.push(h, b);
  });
  writeFileSync(path, Buffer.concat(parts));
}
