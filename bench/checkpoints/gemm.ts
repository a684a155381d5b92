// The LoRA step's GEMM shapes, ONNX Runtime (MLAS) vs PyTorch (MKL/oneDNN), 2 threads, one
// matmul per run: is the step-time gap the matmul library? Each shape is timed as the training
// step runs it — B fed as a graph input (the frozen weights are fed), x·Wᵀ through a Transpose that
// ONNX Runtime fuses into the matmul (transB), g·W plain — and with W baked in (prepacked).
// Alternates the two sides shape by shape in separate processes; prints the best of N runs (ms)
// and GFLOP/s.
//   node --import tsx bench/checkpoints/gemm.ts [--shape 135m] [--runs 15] [--rounds 2]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Graph } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import { shapeOf } from './alternate.js';

const { values: a } = parseArgs({ options: { shape: { type: 'string', default: '135m' }, runs: { type: 'string', default: '15' }, rounds: { type: 'string', default: '2' }, tokens: { type: 'string', default: '512' }, side: { type: 'string' }, case: { type: 'string' } } });
const c = shapeOf(a.shape!);
const M = Number(a.tokens);
const D = c.hiddenSize;
const F = c.intermediateSize;
const KV = c.numKvHeads * c.headDim;
// [name, K, N]: x [M, K] times W [N, K] (weights stored [out, in] as HF's): forward x·Wᵀ [M, N]; backward g [M, N] · W [M, K]
const SHAPES: [string, number, number][] = [['q/o', D, D], ['k/v', D, KV], ['gate/up', D, F], ['down', F, D], ['lm_head', D, c.vocabSize]];
const runs = Number(a.runs);

if (a.side === 'ort') {
  const [name, K, N] = SHAPES.find(([n]) => n === a.case)!;
  const W = Float32Array.from({ length: N * K }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const X = Float32Array.from({ length: M * K }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const G = Float32Array.from({ length: M * N }, (_, i) => ((i * 15485863) % 1000) / 1000 - 0.5);
  const res: Record<string, number> = {};
  const time = async (label: string, exe: Awaited<ReturnType<typeof compile>>, feeds: Record<string, Float32Array>) => {
    let best = Infinity;
    for (let i = 0; i < runs + 2; i++) {
      const t0 = performance.now();
      await exe.run(feeds);
      if (i >= 2) best = Math.min(best, performance.now() - t0);
    }
    res[label] = best;
    await exe.release();
  };
  { // forward, W fed: x · Transpose(W) → FusedMatMul(transB)
    const g = new Graph();
    const x = g.input('x', [M, K]);
    const w = g.input('w', [N, K]);
    await time('fwd x·Wᵀ fed', await compile(g, { inputs: [x, w], outputs: { y: x.matmul(w.transpose([1, 0])) }, threads: 2 }), { x: X, w: W });
  }
  { // forward, W baked (an initializer: ONNX Runtime folds the transpose and prepacks)
    const g = new Graph();
    const x = g.input('x', [M, K]);
    const w = g.initializer('w', W, [N, K]);
    await time('fwd x·Wᵀ baked', await compile(g, { inputs: [x], outputs: { y: x.matmul(w.transpose([1, 0])) }, threads: 2 }), { x: X });
  }
  { // forward with Wᵀ stored [K, N], fed: plain MatMul
    const g = new Graph();
    const x = g.input('x', [M, K]);
    const w = g.input('wt', [K, N]);
    await time('fwd x·(Wᵀ) fed', await compile(g, { inputs: [x, w], outputs: { y: x.matmul(w) }, threads: 2 }), { x: X, wt: W });
  }
  { // forward, W fed: an explicit Transpose (not fused into the matmul) then a plain MatMul
    const g = new Graph();
    const x = g.input('x', [M, K]);
    const w = g.input('w', [N, K]);
    await time('fwd x·T(W) fed unfused', await compile(g, { inputs: [x, w], outputs: { y: x.matmul(w.transpose([1, 0])) }, threads: 2, sessionConfig: { 'optimization.disable_specified_optimizers': 'MatmulTransposeFusion' } }), { x: X, w: W });
  }
  { // forward as (W · xᵀ)ᵀ, W fed
    const g = new Graph();
    const x = g.input('x', [M, K]);
    const w = g.input('w', [N, K]);
    await time('fwd (W·xᵀ)ᵀ fed', await compile(g, { inputs: [x, w], outputs: { y: w.matmul(x.transpose([1, 0])).transpose([1, 0]) }, threads: 2 }), { x: X, w: W });
  }
  { // backward dx = g · W, fed
    const g = new Graph();
    const gy = g.input('g', [M, N]);
    const w = g.input('w', [N, K]);
    await time('bwd g·W fed', await compile(g, { inputs: [gy, w], outputs: { y: gy.matmul(w) }, threads: 2 }), { g: G, w: W });
  }
  { // backward, W baked
    const g = new Graph();
    const gy = g.input('g', [M, N]);
    const w = g.initializer('w', W, [N, K]);
    await time('bwd g·W baked', await compile(g, { inputs: [gy], outputs: { y: gy.matmul(w) }, threads: 2 }), { g: G });
  }
  console.log(JSON.stringify(res));
} else if (a.side === 'torch') {
  // handled by the inline Python below
} else {
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const py = `
import sys, time, json, torch
torch.set_num_threads(2)
M, K, N, runs = ${M}, int(sys.argv[1]), int(sys.argv[2]), ${runs}
W = torch.randn(N, K); X = torch.randn(M, K); G = torch.randn(M, N)
res = {}
def t(label, f):
    best = 1e9
    for i in range(runs + 2):
        t0 = time.perf_counter(); f()
        if i >= 2: best = min(best, (time.perf_counter() - t0) * 1000)
    res[label] = best
with torch.no_grad():
    t('fwd x·Wᵀ (F.linear)', lambda: torch.nn.functional.linear(X, W))
    t('bwd g·W', lambda: G @ W)
print(json.dumps(res))`;
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '2', OMP_WAIT_POLICY: 'PASSIVE' };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const best: Record<string, Record<string, number>> = {};
  for (let r = 0; r < Number(a.rounds); r++) {
    for (const [name, K, N] of SHAPES) {
      const o = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--side', 'ort', '--case', name, '--runs', String(runs), '--shape', a.shape!, '--tokens', String(M)], { encoding: 'utf8', cwd: repo });
      if (o.status !== 0) throw new Error(o.stderr);
      const p = spawnSync(join(repo, '.venv/bin/python'), ['-c', py, String(K), String(N)], { encoding: 'utf8', env });
      if (p.status !== 0) throw new Error(p.stderr);
      const row = (best[name] ??= {});
      for (const [k, v] of Object.entries({ ...JSON.parse(o.stdout.trim().split('\n').pop()!), ...Object.fromEntries(Object.entries(JSON.parse(p.stdout.trim().split('\n').pop()!)).map(([k, v]) => [`torch ${k}`, v])) })) row[k] = Math.min(row[k] ?? Infinity, v as number);
    }
  }
  console.log(`GEMMs of the LoRA step, --shape ${a.shape}, M = ${M} tokens, 2 threads, best of ${runs} runs × ${a.rounds} alternating rounds (ms, GFLOP/s)`);
  for (const [name, K, N] of SHAPES) {
    const gf = (2 * M * K * N) / 1e6;
    console.log(`${name} [${M}, ${K}]·[${K}, ${N}]: ` + Object.entries(best[name]).map(([k, v]) => `${k} ${v.toFixed(2)} (${(gf / v).toFixed(0)})`).join('; '));
  }
}
