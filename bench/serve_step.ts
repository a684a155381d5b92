// Micro-benchmark: one SlotBatch decode step of the random 15M Llama (bench/serve.ts's model) at
// batch 1, 16 and 64, split into the engine run and the host work around it. Short: 5 steps each.
// Usage: node --import tsx bench/serve_step.ts [--context 256] [--threads 2]
import { parseArgs } from 'node:util';
import { LlamaGenerator, SlotBatch, sampleWithLogprob } from '../src/nn/generate.js';
import { initLlamaWeights } from '../src/nn/init.js';
import { checkLlamaConfig } from '../src/nn/config.js';
import { Rng } from '../src/util/rng.js';

const { values } = parseArgs({ options: { context: { type: 'string', default: '256' }, threads: { type: 'string', default: '2' }, batches: { type: 'string', default: '1,16,64' } } });
const c = checkLlamaConfig({ vocabSize: 32000, hiddenSize: 288, intermediateSize: 768, numLayers: 6, numHeads: 6, numKvHeads: 6, headDim: 48, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 256, tieWordEmbeddings: true, bosTokenId: 1, eosTokenIds: [2] }, 'bench');
const gen = new LlamaGenerator(c, initLlamaWeights(c, new Rng(0)), { threads: Number(values.threads), bakeDecodeWeights: true });
for (const B of values.batches!.split(',').map(Number)) {
  const batch = new SlotBatch(gen, B, Number(values.context));
  for (let r = 0; r < B; r++) await batch.add([1, 300, 400, 500, 600]);
  const rng = new Rng(1);
  let tokens = new Array(B).fill(7);
  await batch.step(tokens); // compile
  const steps = 5;
  let run = 0;
  let host = 0;
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const logits = await batch.step(tokens);
    const t1 = performance.now();
    tokens = tokens.map((_, r) => sampleWithLogprob(logits.subarray(r * c.vocabSize, (r + 1) * c.vocabSize), { temperature: 1, topK: 0, topP: 1 }, rng).token);
    host += performance.now() - t1;
    run += t1 - t0;
  }
  console.log(`B=${B} context ${values.context}: step ${(run / steps).toFixed(1)} ms (${((B * steps * 1000) / run).toFixed(0)} tok/s from the step alone), sampling ${(host / steps).toFixed(1)} ms`);
}
await gen.release();
