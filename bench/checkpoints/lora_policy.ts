// A REINFORCE update step with LoRA on a random SmolLM2-135M-shaped Llama (hidden 576, 30 layers,
// 9/3 heads, intermediate 1536, vocab 49152, tied), steer vs PyTorch + peft on the same batch, 2
// threads: token-mean policy-gradient loss L = −Σ_b A_b Σ_t m_bt log π(y_bt) / Σ m over B rows of T
// tokens (the first T/2 are the prompt, masked), advantages ±1, adapter on q,k,v,o (rank 8, alpha 16),
// AdamW with global-norm clipping 1. Prints each side's median step time, the ratio and each
// process's peak RSS. Short by default (1 warm-up + 3 timed steps per side).
//   node --import tsx bench/checkpoints/lora_policy.ts [--batch 4] [--T 128] [--steps 3] [--layers 30]
// The peer runs in .venv's python with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (DESIGN §5).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LlamaConfig } from '../../src/nn/config.js';
import { initLlamaWeights } from '../../src/nn/init.js';
import type { LoraConfig } from '../../src/nn/lora.js';
import { Rng } from '../../src/util/rng.js';
import { TrainState } from '../../src/train/optim.js';
import { PolicyUpdater } from '../../src/policy/update.js';
import { updateGraph } from '../../src/policy/rollout.js';
import { initialParams } from '../../src/policy/lora.js';
import { sequenceFeeds } from '../../src/policy/graph.js';
import { buildSequenceBatch } from '../../src/policy/sequences.js';

const { values: a } = parseArgs({ options: { batch: { type: 'string', default: '4' }, T: { type: 'string', default: '128' }, steps: { type: 'string', default: '3' }, warmup: { type: 'string', default: '1' }, layers: { type: 'string', default: '30' } } });
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

// steer: sequences of T tokens, the first P = T/2 the prompt; targets are the next tokens, so the
// response targets sit at positions P − 1 … T − 2 (T − P per row)
const tok = (r: number, t: number) => 1 + ((r * 7919 + t * 104729) % (c.vocabSize - 1));
const P = Math.floor(T / 2);
const examples = Array.from({ length: B }, (_, r) => ({ prompt: Array.from({ length: P }, (_, t) => tok(r, t)), response: Array.from({ length: T - P }, (_, t) => tok(r, P + t)) }));
const batch = buildSequenceBatch(examples, { padId: 0, T });
const advantages = Float32Array.from({ length: B }, (_, r) => (r % 2 === 0 ? 1 : -1));
const base = initLlamaWeights(c, new Rng(0), { std: 0.02 });
const updater = new PolicyUpdater(c, updateGraph, { maxGradNorm: 1, weightDecay: 0 }, { threads: 2 }, { config: lora, base });
const state = TrainState.init(initialParams(c, { config: lora, base }, base, 1));
const steerMs: number[] = [];
let compileS = 0;
for (let i = 0; i < warmup + steps; i++) {
  const t0 = performance.now();
  await updater.step(state, B, T, { ...sequenceFeeds(batch), advantages }, 1e-4);
  if (i === 0) compileS = (performance.now() - t0) / 1000;
  if (i >= warmup) steerMs.push(performance.now() - t0);
}
await updater.release();
const steerRss = process.resourceUsage().maxRSS / 1024;
const maskedTokens = Array.from(batch.lossMask).reduce((x, y) => x + y, 0);

// PyTorch + peft
const dir = mkdtempSync(join(tmpdir(), 'steer-lora-policy-bench-'));
const spec = join(dir, 'spec.json');
writeFileSync(spec, JSON.stringify({ threads: 2, rank: lora.rank, alpha: lora.alpha, targets: lora.targets, batch: B, T, prompt: P, steps, warmup, config: { vocab: c.vocabSize, hidden: c.hiddenSize, intermediate: c.intermediateSize, layers: c.numLayers, heads: c.numHeads, kv_heads: c.numKvHeads } }));
const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '2', OMP_WAIT_POLICY: 'PASSIVE' };
delete env.OPENBLAS_CORETYPE;
delete env.OPENBLAS_L2_SIZE;
const repo = fileURLToPath(new URL('../..', import.meta.url));
const r = spawnSync(join(repo, '.venv/bin/python'), [fileURLToPath(new URL('./lora_policy_peer.py', import.meta.url)), spec], { encoding: 'utf8', env });
rmSync(dir, { recursive: true, force: true });
if (r.status !== 0) throw new Error(`peer failed:\n${r.stderr}`);
const peer = JSON.parse(r.stdout.trim().split('\n').pop()!) as { step_ms: number[]; max_rss_mb: number; masked_tokens: number };

console.log(`REINFORCE update step, LoRA r${lora.rank} on q,k,v,o, ${c.numLayers} layers (SmolLM2-135M shape), ${B} rows × ${T} tokens (${maskedTokens} response tokens; peer ${peer.masked_tokens}), 2 threads, ${steps} timed steps after ${warmup} warm-up`);
console.log(`steer: median ${median(steerMs).toFixed(0)} ms/step (${steerMs.map((x) => x.toFixed(0)).join(', ')}), first step incl. compile ${compileS.toFixed(1)} s, peak RSS ${steerRss.toFixed(0)} MB`);
console.log(`torch+peft: median ${median(peer.step_ms).toFixed(0)} ms/step (${peer.step_ms.map((x) => x.toFixed(0)).join(', ')}), peak RSS ${peer.max_rss_mb.toFixed(0)} MB`);
console.log(`ratio steer / torch: step time ${(median(steerMs) / median(peer.step_ms)).toFixed(2)}, peak RSS ${(steerRss / peer.max_rss_mb).toFixed(2)}`);
