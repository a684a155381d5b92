import { LlamaGenerator, SlotBatch } from './src/nn/generate.js';
import { random15m } from './bench/models.js';
const { config: c, weights } = random15m();
const gen = new LlamaGenerator(c, weights, { threads: 2, bakeDecodeWeights: true });
for (const B of [1, 16]) {
  const b = new SlotBatch(gen, B, 256);
  for (let r = 0; r < B; r++) await b.add([1, 300, 400, 500, 600]);
  const toks = new Array(B).fill(7);
  for (let i = 0; i < 30; i++) await b.stepDraw(toks, toks.map(() => 0.5), toks.map(() => 1));
  (await gen.step('draw', B, 1, b.M)).exe.endProfiling();
}
await gen.release();
