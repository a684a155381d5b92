// Micro-benchmark: one SlotBatch decode step of the random 15M Llama (bench/serve.ts's model) at
// batch 1, 16 and 64, split into the engine run and the host work around it. Short: 5 steps each.
// Two paths: host (step(): logits [B, V] out, sampleWithLogprob's float64 softmax per row) and
// graph (stepProbs(): softmax in the decode graph, sampleFromProbs — what `steer serve` runs).
// Usage: node --import tsx bench/serve_step.ts [--context 256] [--threads 2]
import { parseArgs } from 'node:util';
import { LlamaGenerator, SlotBatch, sampleFromProbs, sampleWithLogprob } from '../src/nn/generate.js';
import { random15m } from './models.js';
import { Rng } from '../src/util/rng.js';

const { values } = parseArgs({ options: { context: { type: 'string', default: '256' }, threads: { type: 'string', default: '2' }, batches: { type: 'string', default: '1,16,64' } } });
const { config: c, weights } = random15m();
const gen = new LlamaGenerator(c, weights, { threads: Number(values.threads), bakeDecodeWeights: true });
const o = { temperature: 1, topK: 0, topP: 1 };
for (const B of values.batches!.split(',').map(Number)) for (const path of ['host', 'graph'] as const) {
  const batch = new SlotBatch(gen, B, Number(values.context));
  for (let r = 0; r < B; r++) await batch.add([1, 300, 400, 500, 600]);
  const rng = new Rng(1);
  let tokens = new Array(B).fill(7);
  if (path === 'host') await batch.step(tokens);
  else await batch.stepProbs(tokens); // compile
  const steps = 5;
  let run = 0;
  let host = 0;
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const V = c.vocabSize;
    if (path === 'host') {
      const logits = await batch.step(tokens);
      const t1 = performance.now();
      run += t1 - t0;
      tokens = tokens.map((_, r) => sampleWithLogprob(logits.subarray(r * V, (r + 1) * V), o, rng).token);
      host += performance.now() - t1;
    } else {
      const { logits, probs } = await batch.stepProbs(tokens);
      const t1 = performance.now();
      run += t1 - t0;
      tokens = tokens.map((_, r) => sampleFromProbs(logits.subarray(r * V, (r + 1) * V), probs.subarray(r * V, (r + 1) * V), o, rng).token);
      host += performance.now() - t1;
    }
  }
  console.log(`${path.padEnd(5)} B=${B} context ${values.context}: step ${(run / steps).toFixed(1)} ms (${((B * steps * 1000) / run).toFixed(0)} tok/s from the step alone), sampling ${(host / steps).toFixed(1)} ms`);
}
await gen.release();
