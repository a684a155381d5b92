// Where does a reference-GPT training step spend its time? Runs a few steps with ONNX Runtime's
// profiler and prints time per op type and the slowest nodes (the bench's tool for finding
// the next optimisation). Usage: node --import tsx bench/gpt/profile.ts DIR [steps] [threads]
import { readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readSafetensors } from '../../src/io/safetensors.js';
import { grad } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import { TrainState, adamW } from '../../src/train/optim.js';
import { REFERENCE_GPT, buildGpt, paramShapes } from './model.js';

const dir = process.argv[2] ?? '/tmp/gptinit';
const steps = Number(process.argv[3] ?? 6);
const threads = Number(process.argv[4] ?? 2);
const c = REFERENCE_GPT;
const weights = readSafetensors(join(dir, 'init.safetensors')).tensors;
const raw = readFileSync(join(dir, 'data.bin'));
const all = new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const ids = all.slice(0, c.B * c.T);
const targets = all.slice(c.B * c.T);
const m = buildGpt(c);
const grads = grad(m.loss, m.params);
const upd = adamW(m.params, grads);
const out = mkdtempSync(join(tmpdir(), 'steer-prof-'));
const exe = await compile(m.graph, { inputs: [...m.params, ...upd.inputs, m.ids, m.targets], outputs: { loss: m.loss, ...upd.outputs }, threads, profile: join(out, 'gpt') });
const init: Record<string, Float32Array> = {};
for (const [name] of paramShapes(c)) init[name] = weights.get(name)!.data;
const state = TrainState.init(init);
const names = paramShapes(c).map(([n]) => n);
const wall: number[] = [];
for (let s = 0; s < steps; s++) {
  const t = performance.now();
  const o = await exe.run({ ids, targets, ...state.feeds(names, 'profile'), 'optim.step': Float32Array.of(s + 1), 'optim.lr': Float32Array.of(1e-3) });
  state.absorb(names, o);
  wall.push(performance.now() - t);
}
exe.endProfiling();
const file = readdirSync(out).find((f) => f.endsWith('.json'))!;
interface Ev { cat: string; name: string; dur: number; args?: { op_name?: string; output_type_shape?: unknown; input_type_shape?: unknown } }
const events = JSON.parse(readFileSync(join(out, file), 'utf8')) as Ev[];
rmSync(out, { recursive: true });
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
const skip = 2; // warm-up runs
const runDur = runs.slice(skip).map((e) => e.dur / 1000);
const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
const perRun = nodes.length / runs.length;
const steady = nodes.slice(skip * perRun);
const nRuns = runs.length - skip;
// Per node: the minimum over the steady runs (interference from other processes only adds time).
const minNode = new Map<string, { op: string; us: number; shape: string }>();
for (const e of steady) {
  const op = e.args?.op_name ?? '?';
  const k = e.name.replace(/_kernel_time$/, '');
  const prev = minNode.get(k);
  if (!prev || e.dur < prev.us) minNode.set(k, { op, us: e.dur, shape: JSON.stringify(e.args?.input_type_shape ?? '') });
}
// And the mean over the steady runs, comparable with torch.profiler's averages (torch_profile.py).
const sumNode = new Map<string, number>();
for (const e of steady) {
  const k = e.name.replace(/_kernel_time$/, '');
  sumNode.set(k, (sumNode.get(k) ?? 0) + e.dur);
}
const meanOf = (pred: (op: string) => boolean): number => [...minNode].filter(([, v]) => pred(v.op)).reduce((a, [k]) => a + sumNode.get(k)!, 0) / nRuns / 1000;
const byOp = new Map<string, number>();
for (const v of minNode.values()) byOp.set(v.op, (byOp.get(v.op) ?? 0) + v.us * nRuns);
const byNode = new Map([...minNode].map(([k, v]) => [k, { ...v, us: v.us * nRuns }]));
const total = [...byOp.values()].reduce((a, b) => a + b, 0) / nRuns / 1000;
console.log(`wall per step (ms): ${wall.map((x) => x.toFixed(0)).join(' ')}`);
console.log(`model_run (ms): ${runDur.map((x) => x.toFixed(0)).join(' ')}; sum of per-node minima ${total.toFixed(1)} ms/step, ${perRun} kernels/step`);
const mmMs = ['MatMul', 'FusedMatMul', 'Gemm'].reduce((a, op) => a + (byOp.get(op) ?? 0), 0) / nRuns / 1000;
const isMm = (op: string): boolean => ['MatMul', 'FusedMatMul', 'Gemm'].includes(op);
console.log(`per-node minima: matrix products (MatMul, FusedMatMul, Gemm) ${mmMs.toFixed(1)} ms/step; everything else ${(total - mmMs).toFixed(1)} ms/step`);
console.log(`per-node means:  matrix products ${meanOf(isMm).toFixed(1)} ms/step; everything else ${meanOf((op) => !isMm(op)).toFixed(1)} ms/step (bench/gpt/torch_profile.py gives PyTorch's split)`);
for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`${op.padEnd(22)} ${(us / nRuns / 1000).toFixed(2).padStart(8)} ms`);
console.log('slowest nodes:');
const only = process.env.OPS?.split(",");
for (const [k, v] of [...byNode].filter(([, v]) => !only || only.includes(v.op)).sort((a, b) => b[1].us - a[1].us).slice(0, Number(process.env.TOP ?? 30))) console.log(`${(v.us / nRuns / 1000).toFixed(2).padStart(7)} ms ${v.op.padEnd(16)} ${k} ${v.shape.slice(0, 150)}`);
