// A reward-model training step with LoRA on a random SmolLM2-135M-shaped Llama (hidden 576, 30
// layers, 9/3 heads, intermediate 1536, vocab 49152, tied), steer vs PyTorch + peft on the same
// batch shape and token formula, 2 threads. Bradley-Terry loss over B pairs of T tokens, adapter on
// q,k,v,o (rank 8, alpha 16), score head trained. Prints each side's median step time, the ratio
// and each process's peak RSS. Short by default (2 warm-up + 3 timed steps per side).
//   node --import tsx bench/checkpoints/lora.ts [--batch 2] [--T 128] [--steps 3] [--layers 30]
// The peer runs in .venv's python with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (DESIGN §5).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LlamaConfig } from '../../src/nn/config.js';
import { initLlamaWeights } from '../../src/nn/init.js';
import { initLora, type LoraConfig } from '../../src/nn/lora.js';
import { padBatch } from '../../src/nn/llama.js';
import { compileRewardTrainStep } from '../../src/reward/step.js';
import { HEAD_BIAS, HEAD_WEIGHT } from '../../src/reward/model.js';
import { TrainState, type TrainStep } from '../../src/train/optim.js';
import { Rng } from '../../src/util/rng.js';

const { values: a } = parseArgs({ options: { batch: { type: 'string', default: '2' }, T: { type: 'string', default: '128' }, steps: { type: 'string', default: '3' }, warmup: { type: 'string', default: '2' }, layers: { type: 'string', default: '30' } } });
const B = Number(a.batch);
const T = Number(a.T);
const steps = Number(a.steps);
const warmup = Number(a.warmup);
const c: LlamaConfig = {
  vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: Number(a.layers), numHeads: 9, numKvHeads: 3, headDim: 64,
  rmsNormEps: 1e-5, ropeTheta: 100000, ropeScaling: null, maxPositionEmbeddings: 8192, tieWordEmbeddings: true, bosTokenId: 1, eosTokenIds: [2],
};
const lora: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

// steer
const base = initLlamaWeights(c, new Rng(0), { std: 0.02 });
const rows = Array.from({ length: 2 * B }, (_, r) => Array.from({ length: T }, (_, t) => 1 + ((r * 7919 + t * 104729) % (c.vocabSize - 1))));
const pb = padBatch(rows, { side: 'right', padId: 0 });
let t0 = performance.now();
const step = (await compileRewardTrainStep(c, { loss: 'bt', slots: 1, rewardWeights: [1], batchSize: B, T, gradAccum: 1, threads: 2, deterministic: false, spinning: false, lora: { config: lora, base } })) as TrainStep;
const compileS = (performance.now() - t0) / 1000;
const params: Record<string, Float32Array> = {};
for (const [n, t] of initLora(c, lora, new Rng(1))) params[n] = t.data;
params[HEAD_WEIGHT] = Float32Array.from({ length: c.hiddenSize }, () => 0.02);
params[HEAD_BIAS] = new Float32Array(1);
const state = TrainState.init(params);
const steerMs: number[] = [];
for (let i = 0; i < warmup + steps; i++) {
  t0 = performance.now();
  await step.run(state, { ids: pb.ids, positions: pb.positions, mask: pb.mask, last: pb.lastIndex }, 1e-4);
  if (i >= warmup) steerMs.push(performance.now() - t0);
}
const steerRss = process.resourceUsage().maxRSS / 1024;

// PyTorch + peft
const dir = mkdtempSync(join(tmpdir(), 'steer-lora-bench-'));
const spec = join(dir, 'spec.json');
writeFileSync(spec, JSON.stringify({ threads: 2, rank: lora.rank, alpha: lora.alpha, targets: lora.targets, batch: B, T, steps, warmup, config: { vocab: c.vocabSize, hidden: c.hiddenSize, intermediate: c.intermediateSize, layers: c.numLayers, heads: c.numHeads, kv_heads: c.numKvHeads } }));
const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '2', OMP_WAIT_POLICY: 'PASSIVE' };
delete env.OPENBLAS_CORETYPE;
delete env.OPENBLAS_L2_SIZE;
const repo = fileURLToPath(new URL('../..', import.meta.url));
const r = spawnSync(join(repo, '.venv/bin/python'), [fileURLToPath(new URL('./lora_peer.py', import.meta.url)), spec], { encoding: 'utf8', env });
rmSync(dir, { recursive: true, force: true });
if (r.status !== 0) throw new Error(`peer failed:\n${r.stderr}`);
const peer = JSON.parse(r.stdout.trim().split('\n').pop()!) as { step_ms: number[]; max_rss_mb: number; blas: string[] };

console.log(`RM step, LoRA r${lora.rank} on q,k,v,o, ${c.numLayers} layers (SmolLM2-135M shape), ${B} pairs × ${T} tokens, 2 threads, ${steps} timed steps after ${warmup} warm-up`);
console.log(`steer: median ${median(steerMs).toFixed(0)} ms/step (${steerMs.map((x) => x.toFixed(0)).join(', ')}), compile ${compileS.toFixed(1)} s, peak RSS ${steerRss.toFixed(0)} MB`);
console.log(`torch+peft: median ${median(peer.step_ms).toFixed(0)} ms/step (${peer.step_ms.map((x) => x.toFixed(0)).join(', ')}), peak RSS ${peer.max_rss_mb.toFixed(0)} MB; ${peer.blas.join('; ')}`);
console.log(`ratio steer / torch: step time ${(median(steerMs) / median(peer.step_ms)).toFixed(2)}, peak RSS ${(steerRss / peer.max_rss_mb).toFixed(2)}`);
