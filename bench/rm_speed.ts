// Reward-model training speed: steer's step (the graph trainRewardModel compiles: forward, BT loss,
// backward, clipping, AdamW — one ONNX Runtime run) against a PyTorch peer doing the same
// (bench/rm/torch_peer.py: same weights, same batch, same optimizer), 2 threads each.
//   node --import tsx bench/rm_speed.ts [--preset toy|stories] [--steps 12] [--repeats 3] [--threads 2] [--no-spin] [--no-peer]
// (--no-spin: idle ONNX Runtime threads sleep, as OMP_WAIT_POLICY=PASSIVE does for the peer)
// Presets:
//   toy      the toy world's char-level RM (D 64, 2 layers, 4 heads / 2 KV, F 176, V 92): 16 real toy
//            pairs (32 rows), padded to their length bucket
//   stories  stories260K's shape (D 64, 5 layers, 8 heads / 4 KV, F 172, V 512): 8 pairs (16 rows) of
//            256 tokens, random ids with lengths in [128, 256] (HH-RLHF-like lengths under tok512)
// The two runs alternate `repeats` times (the machine is shared); the summary reports medians of
// the per-run medians (steps 3..N), losses of the first steps on both sides, tokens/s (padded
// tokens: what both engines compute) and the ratio steer ms / PyTorch ms.
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateToyWorld } from '../src/data/toy/world.js';
import { pairsFromPreferenceRows } from '../src/reward/data.js';
import { CharRewardEncoder } from '../src/reward/encode.js';
import { initRewardHead, rewardParamArrays, saveRewardModel, type RewardModel } from '../src/reward/model.js';
import { compileRewardTrainStep } from '../src/reward/step.js';
import { lengthBucket } from '../src/train/batches.js';
import { initLlamaWeights } from '../src/nn/init.js';
import { padBatch } from '../src/nn/llama.js';
import type { LlamaConfig } from '../src/nn/config.js';
import { TrainState, type TrainStep } from '../src/train/optim.js';
import { Rng } from '../src/util/rng.js';

const { values: a } = parseArgs({ options: { preset: { type: 'string', default: 'toy' }, steps: { type: 'string', default: '12' }, repeats: { type: 'string', default: '3' }, threads: { type: 'string', default: '2' }, 'no-peer': { type: 'boolean', default: false }, 'no-spin': { type: 'boolean', default: false } } });
const steps = Number(a.steps);
const threads = Number(a.threads);
const LR = 1e-3;
const MAX_NORM = 1;

const enc = new CharRewardEncoder();
const base = { rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, tieWordEmbeddings: true, bosTokenId: 1, eosTokenIds: [2] };
let c: LlamaConfig;
let seqs: number[][];
let B: number;
if (a.preset === 'toy') {
  c = { ...base, vocabSize: enc.vocabSize, hiddenSize: 64, intermediateSize: 176, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, maxPositionEmbeddings: 128 };
  B = 16;
  const pairs = pairsFromPreferenceRows(generateToyWorld({ seed: 0, size: 200 }).preferences).slice(0, B);
  seqs = [...pairs.map((p) => enc.encode(p.prompt, p.chosen)), ...pairs.map((p) => enc.encode(p.prompt, p.rejected))];
} else {
  c = { ...base, vocabSize: 512, hiddenSize: 64, intermediateSize: 172, numLayers: 5, numHeads: 8, numKvHeads: 4, headDim: 8, maxPositionEmbeddings: 512 };
  B = 8;
  const rng = new Rng(5);
  seqs = Array.from({ length: 2 * B }, () => Array.from({ length: rng.int(128, 257) }, () => rng.int(3, 512)));
}
const T = lengthBucket(Math.max(...seqs.map((s) => s.length)), 32, c.maxPositionEmbeddings);
const R = 2 * B;
const pb = padBatch(seqs, { side: 'right', padId: 0, length: T });
const rng = new Rng(1);
const rm: RewardModel = {
  config: c,
  weights: initLlamaWeights(c, rng),
  head: initRewardHead(c.hiddenSize, 1, rng, [0], 0.02),
  info: { format: 'steer-reward-model', version: 1, attributes: ['reward'], rewardWeights: [1], textFormat: 'char-chat', maxLength: T, loss: 'bt', initFrom: 'scratch' },
  encoder: enc,
};
const dir = mkdtempSync(join(tmpdir(), 'steer-rm-speed-'));
saveRewardModel(join(dir, 'model'), rm);
writeFileSync(join(dir, 'ids.i32'), new Uint8Array(Int32Array.from(pb.ids, (x) => Number(x)).buffer));
writeFileSync(join(dir, 'mask.f32'), new Uint8Array(pb.mask.buffer));
writeFileSync(join(dir, 'last.i32'), new Uint8Array(Int32Array.from(pb.lastIndex, (x) => Number(x)).buffer));
writeFileSync(join(dir, 'batch.json'), JSON.stringify({ rows: R, T, pairs: B, lr: LR, maxGradNorm: MAX_NORM, rewardWeights: [1] }));
const realTokens = seqs.reduce((s, x) => s + x.length, 0);
console.log(`preset ${a.preset}: ${R} rows × T ${T} (${realTokens} real tokens, ${R * T} padded), ${steps} steps, ${threads} threads`);

const step = (await compileRewardTrainStep(c, { loss: 'bt', slots: 1, rewardWeights: [1], batchSize: B, T, gradAccum: 1, maxGradNorm: MAX_NORM, threads, spinning: !a['no-spin'] })) as TrainStep;
const feeds = { ids: pb.ids, positions: pb.positions, mask: pb.mask, last: pb.lastIndex };

async function steerRun() {
  const p = rewardParamArrays(rm);
  const init: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(p)) init[k] = v.slice();
  const state = TrainState.init(init);
  const losses: number[] = [];
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const r = await step.run(state, feeds, LR);
    times.push(performance.now() - t0);
    losses.push(r.loss);
  }
  const steady = times.slice(2).sort((x, y) => x - y);
  return { losses: losses.slice(0, 5), ms: steady[steady.length >> 1] };
}

function peerRun(): { losses: number[]; ms_median: number; peak_rss_mb: number } | null {
  const r = spawnSync('/usr/bin/python3', [join(import.meta.dirname, 'rm', 'torch_peer.py'), dir, '--steps', String(steps), '--threads', String(threads)], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } });
  if (r.status !== 0) {
    console.log(`peer failed: ${r.stderr.slice(-400)}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const steerMs: number[] = [];
const peerMs: number[] = [];
let steerLosses: number[] = [];
let peerLosses: number[] = [];
for (let i = 0; i < Number(a.repeats); i++) {
  const s = await steerRun();
  steerMs.push(s.ms);
  steerLosses = s.losses;
  let line = `  run ${i + 1}: steer ${s.ms.toFixed(1)} ms/step`;
  if (!a['no-peer']) {
    const p = peerRun();
    if (p) {
      peerMs.push(p.ms_median);
      peerLosses = p.losses;
      line += `, PyTorch ${p.ms_median.toFixed(1)} ms/step (ratio ${(s.ms / p.ms_median).toFixed(2)})`;
    }
  }
  console.log(line);
}
rmSync(dir, { recursive: true, force: true });
const sm = median(steerMs);
const summary: Record<string, unknown> = {
  bench: 'rm_speed', preset: a.preset, spinning: !a['no-spin'], rows: R, T, threads, steer_ms: sm, steer_tokens_per_s: (R * T) / (sm / 1000), steer_real_tokens_per_s: realTokens / (sm / 1000), steer_losses: steerLosses,
  peak_rss_mb: process.memoryUsage().rss / 2 ** 20,
};
if (peerMs.length) {
  const pm = median(peerMs);
  const maxRel = Math.max(...steerLosses.map((l, i) => Math.abs(l - peerLosses[i]) / Math.abs(peerLosses[i])));
  Object.assign(summary, { torch_ms: pm, torch_tokens_per_s: (R * T) / (pm / 1000), torch_losses: peerLosses, loss_max_rel_diff: maxRel, ratio_steer_over_torch: sm / pm, runs: { steer: steerMs, torch: peerMs } });
}
console.log(JSON.stringify(summary));
