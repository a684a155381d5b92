// Activation memory against sequence length: peak RSS of one REINFORCE update step (B = 1 row of
// T tokens, the second half the response) on a random SmolLM2-135M-shaped Llama, with a LoRA
// adapter (r 8 on q,k,v,o; the base frozen in the graph) or full fine-tuning (every weight and its
// Adam moments fed), each length in its own process, 2 threads. Prints one line per length and a
// least-squares fit RSS(T) = a + b·T + c·T² (attention keeps [B, H, T, T] probabilities for the
// backward pass: the T² term), then the longest T whose fitted peak stays under --budget-gb.
//   node --import tsx bench/checkpoints/long_sequences.ts --mode lora --T 256,512,1024 [--budget-gb 24]
import { spawnSync } from 'node:child_process';
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
import { shapeOf } from './alternate.js';

const { values: a } = parseArgs({ options: { mode: { type: 'string', default: 'lora' }, T: { type: 'string', default: '256,512,1024' }, 'budget-gb': { type: 'string', default: '24' }, side: { type: 'string' } } });
const c = shapeOf('135m');
const lora: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };
if (a.mode !== 'lora' && a.mode !== 'full') throw new Error('--mode lora|full');

if (a.side === 'steer') {
  const T = Number(a.T);
  const P = Math.floor(T / 2);
  const tok = (t: number) => 1 + ((t * 104729) % (c.vocabSize - 1));
  const batch = buildSequenceBatch([{ prompt: Array.from({ length: P }, (_, t) => tok(t)), response: Array.from({ length: T - P }, (_, t) => tok(P + t)) }], { padId: 0, T });
  const base = initLlamaWeights(c, new Rng(0), { std: 0.02 });
  const pl = a.mode === 'lora' ? { config: lora, base } : null;
  const updater = new PolicyUpdater(c, updateGraph, { maxGradNorm: 1 }, { threads: 2 }, pl);
  const state = TrainState.init(initialParams(c, pl, base, 1));
  const t0 = performance.now();
  await updater.step(state, 1, T, { ...sequenceFeeds(batch), advantages: Float32Array.of(1) }, 1e-4);
  const first = performance.now() - t0;
  const t1 = performance.now();
  await updater.step(state, 1, T, { ...sequenceFeeds(batch), advantages: Float32Array.of(1) }, 1e-4);
  console.log(JSON.stringify({ T, max_rss_mb: process.resourceUsage().maxRSS / 1024, first_s: first / 1000, step_s: (performance.now() - t1) / 1000 }));
} else {
  const Ts = a.T!.split(',').map(Number);
  const pts: { T: number; rss: number }[] = [];
  for (const T of Ts) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--mode', a.mode, '--T', String(T), '--side', 'steer'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`T = ${T} failed:\n${r.stderr}`);
    const x = JSON.parse(r.stdout.trim().split('\n').pop()!) as { T: number; max_rss_mb: number; first_s: number; step_s: number };
    pts.push({ T, rss: x.max_rss_mb });
    console.log(`${a.mode} T ${T}: peak RSS ${x.max_rss_mb.toFixed(0)} MB (compile + first step ${x.first_s.toFixed(0)} s, second step ${x.step_s.toFixed(1)} s)`);
  }
  if (pts.length >= 3) {
    // least squares on [1, T, T²] (normal equations, 3×3, Cramer's rule)
    const S = (f: (p: { T: number; rss: number }) => number) => pts.reduce((s, p) => s + f(p), 0);
    const m = [[pts.length, S((p) => p.T), S((p) => p.T ** 2)], [S((p) => p.T), S((p) => p.T ** 2), S((p) => p.T ** 3)], [S((p) => p.T ** 2), S((p) => p.T ** 3), S((p) => p.T ** 4)]];
    const y = [S((p) => p.rss), S((p) => p.T * p.rss), S((p) => p.T ** 2 * p.rss)];
    const det = (q: number[][]) => q[0][0] * (q[1][1] * q[2][2] - q[1][2] * q[2][1]) - q[0][1] * (q[1][0] * q[2][2] - q[1][2] * q[2][0]) + q[0][2] * (q[1][0] * q[2][1] - q[1][1] * q[2][0]);
    const d = det(m);
    const coef = [0, 1, 2].map((k) => det(m.map((row, i) => row.map((v, j) => (j === k ? y[i] : v)))) / d);
    const budget = Number(a['budget-gb']) * 1024;
    let T = pts[pts.length - 1].T;
    while (coef[0] + coef[1] * (T + 1) + coef[2] * (T + 1) ** 2 <= budget) T++;
    console.log(`fit: peak RSS ≈ ${coef[0].toFixed(0)} + ${coef[1].toFixed(3)}·T + ${(coef[2] * 1e3).toFixed(4)}e-3·T² MB; longest T under ${a['budget-gb']} GB: ${T}`);
  }
}
