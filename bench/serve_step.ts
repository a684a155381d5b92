// Micro-benchmark: one SlotBatch decode step of the random 15M Llama (bench/serve.ts's model) at
// batch 1, 16 and 64, split into the engine run and the host work around it: --steps steps each
// (default 30) after 5 untimed ones, every row's sequence an 18-token prompt (the chat prompt of
// bench/serve.ts) growing by one token a step.
// Three paths: host (step(): logits [B, V] out, sampleWithLogprob's float64 softmax per row),
// graph (stepProbs(): softmax in the decode graph, sampleFromProbs — what `steer serve` runs for
// top-p or top_logprobs requests) and draw (stepDraw(): the token drawn in the graph, one uniform
// per row in — what `steer serve` runs otherwise). --rounds R repeats the three paths R times,
// alternating, and prints each path's median.
// Usage: node --import tsx bench/serve_step.ts [--context 256] [--threads 2] [--steps 30] [--batches 1,16,64] [--rounds 1]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { LlamaGenerator, SlotBatch, sampleFromProbs, sampleWithLogprob } from '../src/nn/generate.js';
import { random15m } from './models.js';
import { Rng } from '../src/util/rng.js';

const { values } = parseArgs({ options: { context: { type: 'string', default: '256' }, threads: { type: 'string', default: '2' }, batches: { type: 'string', default: '1,16,64' }, rounds: { type: 'string', default: '1' }, steps: { type: 'string', default: '30' } } });
const { config: c, weights } = random15m();
const gen = new LlamaGenerator(c, weights, { threads: Number(values.threads), bakeDecodeWeights: true });
const o = { temperature: 1, topK: 0, topP: 1 };
const paths = ['host', 'graph', 'draw'] as const;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const B of values.batches!.split(',').map(Number)) {
const figures = new Map<string, { run: number[]; host: number[]; cpu: number[] }>(paths.map((p) => [p, { run: [], host: [], cpu: [] }]));
for (let round = 0; round < Number(values.rounds); round++) for (const path of paths) {
  const batch = new SlotBatch(gen, B, Number(values.context));
  await batch.addMany(Array.from({ length: B }, (_, r) => Array.from({ length: 18 }, (_, i) => (i === 0 ? 1 : 300 + 37 * i + r))));
  const rng = new Rng(1);
  let tokens = new Array(B).fill(7);
  const draw = async () => (await batch.stepDraw(tokens, tokens.map(() => rng.float()), tokens.map(() => 1))).token;
  for (let w = 0; w < 5; w++) { // compile, then warm up
    if (path === 'host') await batch.step(tokens);
    else if (path === 'graph') await batch.stepProbs(tokens);
    else await draw();
  }
  const steps = Number(values.steps);
  let run = 0;
  let host = 0;
  const cpu0 = process.cpuUsage();
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const V = c.vocabSize;
    if (path === 'host') {
      const logits = await batch.step(tokens);
      const t1 = performance.now();
      run += t1 - t0;
      tokens = tokens.map((_, r) => sampleWithLogprob(logits.subarray(r * V, (r + 1) * V), o, rng).token);
      host += performance.now() - t1;
    } else if (path === 'draw') {
      const token = await draw();
      const t1 = performance.now();
      run += t1 - t0;
      tokens = Array.from(token, Number);
      host += performance.now() - t1;
    } else {
      const { logits, probs } = await batch.stepProbs(tokens);
      const t1 = performance.now();
      run += t1 - t0;
      tokens = tokens.map((_, r) => sampleFromProbs(logits.subarray(r * V, (r + 1) * V), probs.subarray(r * V, (r + 1) * V), o, rng).token);
      host += performance.now() - t1;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const f = figures.get(path)!;
  f.run.push(run / steps);
  f.host.push(host / steps);
  f.cpu.push((cpu.user + cpu.system) / 1000 / steps);
}
for (const [path, f] of figures) console.log(`${path.padEnd(5)} B=${B} context ${values.context}: step ${median(f.run).toFixed(1)} ms + sampling ${median(f.host).toFixed(1)} ms = ${(median(f.run) + median(f.host)).toFixed(1)} ms wall (${((B * 1000) / (median(f.run) + median(f.host))).toFixed(0)} tok/s), ${median(f.cpu).toFixed(1)} ms CPU per step; medians of ${f.run.length}, load ${loadavg()[0].toFixed(1)}`);
}
await gen.release();
