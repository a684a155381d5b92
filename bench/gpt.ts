// Benchmark: one training step (forward, backward, Adam) of the reference GPT, steer vs PyTorch.
// Usage: npm run bench:gpt -- --init DIR/init.safetensors --data DIR/data.bin [--steps 12]
//        [--threads 2] [--repeats 1] [--no-peer] [--deterministic] [--spin]
// ONNX Runtime's idle threads yield between kernels by default here, the analogue of the peer's
// OMP_WAIT_POLICY=PASSIVE (faster when other processes share the cores); --spin lets them spin.
// Make the inputs with: /usr/bin/python3 ../shared/bench/make_gpt_init.py DIR
// Prints one summary line per figure; steer's JSON (losses, ms_median over steps 3.., peak_rss_mb)
// is the last line of its side, then the PyTorch peer runs (2 threads, OMP_WAIT_POLICY=PASSIVE)
// and the ratio steer/PyTorch is printed. With --repeats N the two sides alternate N times and
// the medians are compared (other processes share the cores: look at the spread).
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readSafetensors } from '../src/io/safetensors.js';
import { TrainState, compileTrainStep } from '../src/train/optim.js';
import { REFERENCE_GPT, buildGpt, paramShapes } from './gpt/model.js';

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const { values } = parseArgs({
  options: {
    init: { type: 'string' },
    data: { type: 'string' },
    steps: { type: 'string', default: '12' },
    threads: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '1' },
    'no-peer': { type: 'boolean', default: false },
    deterministic: { type: 'boolean', default: false },
    spin: { type: 'boolean', default: false },
  },
});
if (!values.init || !values.data) {
  console.error('usage: npm run bench:gpt -- --init DIR/init.safetensors --data DIR/data.bin [--steps 12] [--threads 2] [--repeats 1] [--no-peer]\n' +
    'make the inputs with: /usr/bin/python3 ../shared/bench/make_gpt_init.py DIR');
  process.exit(2);
}
const steps = Number(values.steps);
const threads = Number(values.threads);
const repeats = Number(values.repeats);
if (!(steps >= 3)) {
  console.error('--steps must be at least 3 (the median is over steps 3..N)');
  process.exit(2);
}
const c = REFERENCE_GPT;

const weights = readSafetensors(values.init).tensors;
for (const [name, shape] of paramShapes(c)) {
  const w = weights.get(name);
  if (!w || w.shape.join(',') !== shape.join(',')) throw new Error(`${values.init}: ${name} missing or not of shape [${shape}]`);
}
const raw = readFileSync(values.data);
const all = new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const ids = all.slice(0, c.B * c.T);
const targets = all.slice(c.B * c.T, 2 * c.B * c.T);

const t0 = performance.now();
const model = buildGpt(c);
const step = await compileTrainStep(
  { loss: model.loss, params: model.params, batch: [model.ids, model.targets] },
  { beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  { threads, deterministic: values.deterministic, spinning: values.spin },
);
const compileMs = performance.now() - t0;
console.log(`steer compile: ${compileMs.toFixed(0)} ms, ${step.exe.nodeCount} ONNX nodes, ${model.graph.nodes.length} traced nodes`);

async function runSteer(): Promise<{ losses: number[]; ms: number[] }> {
  const init: Record<string, Float32Array> = {};
  for (const [name] of paramShapes(c)) init[name] = weights.get(name)!.data;
  const state = TrainState.init(init);
  const losses: number[] = [];
  const ms: number[] = [];
  for (let s = 0; s < steps; s++) {
    const a = performance.now();
    const r = await step.run(state, { ids, targets }, 1e-3);
    ms.push(performance.now() - a);
    losses.push(r.loss);
  }
  return { losses, ms };
}

interface PeerResult { engine: string; losses: number[]; ms_median: number; peak_rss_mb: number }
function runPeer(): PeerResult {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const script = join(root, '..', 'shared', 'bench', 'gpt_torch_peer.py');
  if (!existsSync(script)) throw new Error(`peer script not found: ${script} (run with --no-peer)`);
  const r = spawnSync('/usr/bin/python3', [script, dirname(resolve(values.init!)), String(steps), String(threads)], {
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`peer failed (exit ${r.status}):\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as PeerResult;
}

const steerMedians: number[] = [];
const peerMedians: number[] = [];
let losses: number[] = [];
let peer: PeerResult | null = null;
for (let rep = 0; rep < repeats; rep++) {
  const r = await runSteer();
  losses = r.losses;
  const m = median(r.ms.slice(2));
  steerMedians.push(m);
  console.log(`steer run ${rep + 1}/${repeats}: ms_median ${m.toFixed(1)} (steps: ${r.ms.map((x) => x.toFixed(0)).join(' ')})`);
  if (!values['no-peer']) {
    peer = runPeer();
    peerMedians.push(peer.ms_median);
    console.log(`pytorch run ${rep + 1}/${repeats}: ms_median ${peer.ms_median.toFixed(1)}`);
  }
}
const peakRssMb = process.resourceUsage().maxRSS / 1024;
const tokens = c.B * c.T;
const steerMs = median(steerMedians);
console.log(`steer: ${steerMs.toFixed(1)} ms/step (median of ${repeats} × steps 3..${steps}; per-run medians ${steerMedians.map((x) => x.toFixed(1)).join(', ')}), ${(tokens / (steerMs / 1000)).toFixed(0)} tokens/s, peak RSS ${peakRssMb.toFixed(0)} MB`);
console.log(JSON.stringify({ engine: 'steer', threads, spinning: values.spin, losses: losses.slice(0, 5), ms_median: Number(steerMs.toFixed(2)), ms_runs: steerMedians.map((x) => Number(x.toFixed(2))), tokens_per_s: Math.round(tokens / (steerMs / 1000)), peak_rss_mb: Number(peakRssMb.toFixed(1)), compile_ms: Math.round(compileMs) }));
if (peer) {
  const peerMs = median(peerMedians);
  console.log(JSON.stringify({ ...peer, ms_median: peerMs, ms_runs: peerMedians }));
  const rel = losses.slice(0, 5).map((l, i) => Math.abs(l - peer!.losses[i]) / Math.abs(peer!.losses[i]));
  const maxRel = Math.max(...rel);
  console.log(`losses: max relative difference ${maxRel.toExponential(2)} (${maxRel <= 1e-3 ? 'match' : 'MISMATCH'} at 1e-3)`);
  console.log(`ratio steer/pytorch: ${(steerMs / peerMs).toFixed(3)} (steer ${steerMs.toFixed(1)} ms, pytorch ${peerMs.toFixed(1)} ms, ${threads} threads; peer peak RSS ${peer.peak_rss_mb} MB)`);
  if (repeats > 1) {
    // Each repeat runs the two sides back to back, so a pair shares the machine's load of the moment.
    const pairs = steerMedians.map((s, i) => s / peerMedians[i]);
    console.log(`paired ratios: ${pairs.map((r) => r.toFixed(3)).join(', ')} (median ${median(pairs).toFixed(3)})`);
  }
}
