// A REINFORCE update step with LoRA on a random Llama (--shape 135m: SmolLM2-135M, hidden 576, 30
// layers, 9/3 heads, intermediate 1536, vocab 49152, tied; --shape 1b: Llama-3.2-1B's shape with a
// 32k vocabulary, hidden 2048, 16 layers, 32/8 heads, intermediate 8192, tied), steer vs PyTorch +
// peft on the same batch, 2 threads: token-mean policy-gradient loss
// L = −Σ_b A_b Σ_t m_bt log π(y_bt) / Σ m over B rows of T tokens (the first T/2 are the prompt,
// masked), advantages ±1, adapter on q,k,v,o (rank 8, alpha 16), AdamW with global-norm clipping 1.
// Alternating repeats (bench/checkpoints/alternate.ts): each side in its own process; medians of
// step time and peak RSS, their ratios and the load average.
//   node --import tsx bench/checkpoints/lora_policy.ts [--shape 135m] [--batch 4] [--T 128] [--steps 2] [--warmup 1] [--repeats 3]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initLlamaWeights } from '../../src/nn/init.js';
import type { LoraConfig } from '../../src/nn/lora.js';
import { Rng } from '../../src/util/rng.js';
import { TrainState } from '../../src/train/optim.js';
import { PolicyUpdater } from '../../src/policy/update.js';
import { updateGraph } from '../../src/policy/rollout.js';
import { initialParams } from '../../src/policy/lora.js';
import { sequenceFeeds } from '../../src/policy/graph.js';
import { buildSequenceBatch } from '../../src/policy/sequences.js';
import { alternate, peerConfig, shapeOf, summary } from './alternate.js';

const { values: a } = parseArgs({ options: { shape: { type: 'string', default: '135m' }, batch: { type: 'string', default: '4' }, T: { type: 'string', default: '128' }, steps: { type: 'string', default: '2' }, warmup: { type: 'string', default: '1' }, repeats: { type: 'string', default: '3' }, layers: { type: 'string' }, side: { type: 'string' } } });
const B = Number(a.batch);
const T = Number(a.T);
const steps = Number(a.steps);
const warmup = Number(a.warmup);
const c = shapeOf(a.shape!, a.layers);
const lora: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };
const P = Math.floor(T / 2);

if (a.side === 'steer') {
  // sequences of T tokens, the first P = T/2 the prompt; targets are the next tokens, so the
  // response targets sit at positions P − 1 … T − 2 (T − P per row)
  const tok = (r: number, t: number) => 1 + ((r * 7919 + t * 104729) % (c.vocabSize - 1));
  const examples = Array.from({ length: B }, (_, r) => ({ prompt: Array.from({ length: P }, (_, t) => tok(r, t)), response: Array.from({ length: T - P }, (_, t) => tok(r, P + t)) }));
  const batch = buildSequenceBatch(examples, { padId: 0, T });
  const advantages = Float32Array.from({ length: B }, (_, r) => (r % 2 === 0 ? 1 : -1));
  const base = initLlamaWeights(c, new Rng(0), { std: 0.02 });
  const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
  const stages: Record<string, number> = { base_mb: rssMb() }; // RSS after building the base, after each step
  // idle threads yield (spinning false), as the peer's OMP_WAIT_POLICY=PASSIVE and lora.ts's RM step
  const updater = new PolicyUpdater(c, updateGraph, { maxGradNorm: 1, weightDecay: 0 }, { threads: 2, spinning: false }, { config: lora, base });
  const state = TrainState.init(initialParams(c, { config: lora, base }, base, 1));
  const stepMs: number[] = [];
  let compileS = 0;
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    await updater.step(state, B, T, { ...sequenceFeeds(batch), advantages }, 1e-4);
    if (i === 0) compileS = (performance.now() - t0) / 1000;
    stages[`step${i + 1}_mb`] = rssMb();
    if (i >= warmup) stepMs.push(performance.now() - t0);
  }
  await updater.release();
  console.log(JSON.stringify({ step_ms: stepMs, max_rss_mb: process.resourceUsage().maxRSS / 1024, compile_s: compileS, stages }));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'steer-lora-policy-bench-'));
  try {
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ threads: 2, rank: lora.rank, alpha: lora.alpha, targets: lora.targets, batch: B, T, prompt: P, steps, warmup, config: peerConfig(c) }));
    const args = ['--shape', a.shape!, '--batch', String(B), '--T', String(T), '--steps', String(steps), '--warmup', String(warmup), ...(a.layers ? ['--layers', a.layers] : [])];
    const res = alternate(fileURLToPath(import.meta.url), args, fileURLToPath(new URL('./lora_policy_peer.py', import.meta.url)), spec, Number(a.repeats));
    const title = `REINFORCE update step, LoRA r${lora.rank} on q,k,v,o, --shape ${a.shape} (${c.numLayers} layers, hidden ${c.hiddenSize}), ${B} rows × ${T} tokens (${B * (T - P)} response tokens), 2 threads, ${a.repeats} alternating repeats of ${warmup} warm-up + ${steps} timed steps`;
    for (const line of summary(title, res)) console.log(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
