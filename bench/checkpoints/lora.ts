// A reward-model training step with LoRA on a random Llama (--shape 135m: SmolLM2-135M; --shape 1b:
// Llama-3.2-1B's shape with a 32k vocabulary; bench/checkpoints/alternate.ts), steer vs PyTorch +
// peft on the same batch shape and token formula, 2 threads. Bradley-Terry loss over B pairs of T
// tokens, adapter on q,k,v,o (rank 8, alpha 16), score head trained, AdamW with clipping 1.
// Alternating repeats, each side in its own process; medians of step time and peak RSS, their
// ratios and the load average.
//   node --import tsx bench/checkpoints/lora.ts [--shape 135m] [--batch 2] [--T 128] [--steps 2] [--warmup 1] [--repeats 3]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initLlamaWeights } from '../../src/nn/init.js';
import { initLora, type LoraConfig } from '../../src/nn/lora.js';
import { padBatch } from '../../src/nn/llama.js';
import { compileRewardTrainStep } from '../../src/reward/step.js';
import { HEAD_BIAS, HEAD_WEIGHT } from '../../src/reward/model.js';
import { TrainState, type TrainStep } from '../../src/train/optim.js';
import { Rng } from '../../src/util/rng.js';
import { alternate, peerConfig, shapeOf, summary } from './alternate.js';

const { values: a } = parseArgs({ options: { shape: { type: 'string', default: '135m' }, batch: { type: 'string', default: '2' }, T: { type: 'string', default: '128' }, steps: { type: 'string', default: '2' }, warmup: { type: 'string', default: '1' }, repeats: { type: 'string', default: '3' }, layers: { type: 'string' }, side: { type: 'string' } } });
const B = Number(a.batch);
const T = Number(a.T);
const steps = Number(a.steps);
const warmup = Number(a.warmup);
const c = shapeOf(a.shape!, a.layers);
const lora: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };

if (a.side === 'steer') {
  const base = initLlamaWeights(c, new Rng(0), { std: 0.02 });
  const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
  const stages: Record<string, number> = { base_mb: rssMb() }; // RSS after building the base, after each step
  const rows = Array.from({ length: 2 * B }, (_, r) => Array.from({ length: T }, (_, t) => 1 + ((r * 7919 + t * 104729) % (c.vocabSize - 1))));
  const pb = padBatch(rows, { side: 'right', padId: 0 });
  let t0 = performance.now();
  const step = (await compileRewardTrainStep(c, { loss: 'bt', slots: 1, rewardWeights: [1], batchSize: B, T, gradAccum: 1, maxGradNorm: 1, threads: 2, deterministic: false, spinning: false, lora: { config: lora, base } })) as TrainStep;
  const compileS = (performance.now() - t0) / 1000;
  const params: Record<string, Float32Array> = {};
  for (const [n, t] of initLora(c, lora, new Rng(1))) params[n] = t.data;
  params[HEAD_WEIGHT] = Float32Array.from({ length: c.hiddenSize }, () => 0.02);
  params[HEAD_BIAS] = new Float32Array(1);
  const state = TrainState.init(params);
  const stepMs: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    t0 = performance.now();
    await step.run(state, { ids: pb.ids, positions: pb.positions, mask: pb.mask, last: pb.lastIndex }, 1e-4);
    if (i >= warmup) stepMs.push(performance.now() - t0);
    stages[`step${i + 1}_mb`] = rssMb();
  }
  await step.exe.release();
  console.log(JSON.stringify({ step_ms: stepMs, max_rss_mb: process.resourceUsage().maxRSS / 1024, compile_s: compileS, stages }));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'steer-lora-bench-'));
  try {
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ threads: 2, rank: lora.rank, alpha: lora.alpha, targets: lora.targets, batch: B, T, steps, warmup, config: peerConfig(c) }));
    const args = ['--shape', a.shape!, '--batch', String(B), '--T', String(T), '--steps', String(steps), '--warmup', String(warmup), ...(a.layers ? ['--layers', a.layers] : [])];
    const res = alternate(fileURLToPath(import.meta.url), args, fileURLToPath(new URL('./lora_peer.py', import.meta.url)), spec, Number(a.repeats));
    const title = `RM step (Bradley-Terry), LoRA r${lora.rank} on q,k,v,o + head, --shape ${a.shape} (${c.numLayers} layers, hidden ${c.hiddenSize}), ${B} pairs × ${T} tokens, 2 threads, ${a.repeats} alternating repeats of ${warmup} warm-up + ${steps} timed steps`;
    for (const line of summary(title, res)) console.log(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
