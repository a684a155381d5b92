// Benchmark: one training step (forward, backward, Adam) of the reference GPT, steer against
// PyTorch 2.13 (the CPU wheel in the checkout's .venv: oneDNN) and Debian's PyTorch 1.13
// (/usr/bin/python3, OpenBLAS; bench/setup-peers.sh), same init, same data, same thread count.
//
// Usage: npm run bench:gpt -- --init DIR/init.safetensors --data DIR/data.bin [--steps 12]
//        [--threads 2] [--repeats 3] [--steps-per-run 1] [--steer-variants 4,4/noarena]
//        [--peers torch2,torch1 | --no-peer] [--deterministic] [--spin] [--no-arena]
// Make the inputs with: /usr/bin/python3 ../shared/bench/make_gpt_init.py DIR
//
// Every engine runs in its own fresh process, one after the other, repeated --repeats times
// (steer, torch 2.13, torch 1.13, steer, …): each repeat's figures share the machine's load of
// the moment, and each process's peak RSS (VmHWM) is its own. A run's figure is the median step
// time over steps 3..N; the summary gives the median over repeats and the paired ratios
// (steer / peer within one repeat) with their median. The peers run with OMP_WAIT_POLICY=PASSIVE
// and without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (the machine sets them for steer's tests; they
// mislead OpenBLAS's kernel choice); which BLAS each peer ran is printed from torch.__config__.show().
// Each figure comes with its CPU time per step (all threads): with more runnable threads than
// cores, wall time mostly measures the scheduler's share, CPU time the work done.
// ONNX Runtime's idle threads yield between kernels by default here (the analogue of PASSIVE);
// --spin lets them spin. --steps-per-run K runs K updates per ONNX Runtime run (compileTrainSteps,
// an ONNX Scan: params and Adam moments cross the Node binding once per K steps); a step's time
// is then its run's time / K (the first run, a warm-up, left out of the median); --steer-variants
// 4 adds steer with 4 steps per run as a further engine in the same alternation, 4/noarena the
// same with ONNX Runtime's CPU memory arena off (lower peak RSS).
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readSafetensors } from '../src/io/safetensors.js';
import { TrainState, TrainSteps, compileTrainStep, compileTrainSteps } from '../src/train/optim.js';
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
    repeats: { type: 'string', default: '3' },
    peers: { type: 'string', default: 'torch2,torch1' },
    'steps-per-run': { type: 'string', default: '1' },
    'steer-variants': { type: 'string', default: '' },
    'no-peer': { type: 'boolean', default: false },
    deterministic: { type: 'boolean', default: false },
    spin: { type: 'boolean', default: false },
    'no-arena': { type: 'boolean', default: false },
    worker: { type: 'boolean', default: false },
  },
});
const usage = 'usage: npm run bench:gpt -- --init DIR/init.safetensors --data DIR/data.bin [--steps 12] [--threads 2] [--repeats 3] [--steps-per-run 1] [--peers torch2,torch1 | --no-peer]\n' +
  'make the inputs with: /usr/bin/python3 ../shared/bench/make_gpt_init.py DIR';
if (!values.init || !values.data) {
  console.error(usage);
  process.exit(2);
}
const steps = Number(values.steps);
const threads = Number(values.threads);
const repeats = Number(values.repeats);
const perRun = Number(values['steps-per-run']);
if (!(steps >= 3)) {
  console.error('--steps must be at least 3 (the median is over steps 3..N)');
  process.exit(2);
}
if (!(Number.isInteger(perRun) && perRun >= 1 && steps % perRun === 0 && steps / perRun >= 2)) {
  console.error(`--steps-per-run must be a positive integer dividing --steps (${steps}) at least twice`);
  process.exit(2);
}
if (!(Number.isInteger(repeats) && repeats >= 1)) {
  console.error('--repeats must be a positive integer');
  process.exit(2);
}

interface RunResult { engine: string; losses: number[]; ms_median: number; cpu_ms_median?: number; ms_steps?: number[]; peak_rss_mb: number; compile_ms?: number; onnx_nodes?: number }

/** The steer side, in this (fresh) process: compile, run `steps` steps, print one JSON line. */
async function steerWorker(): Promise<void> {
  const c = REFERENCE_GPT;
  const weights = readSafetensors(values.init!).tensors;
  for (const [name, shape] of paramShapes(c)) {
    const w = weights.get(name);
    if (!w || w.shape.join(',') !== shape.join(',')) throw new Error(`${values.init}: ${name} missing or not of shape [${shape}]`);
  }
  const raw = readFileSync(values.data!);
  const all = new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const ids = all.slice(0, c.B * c.T);
  const targets = all.slice(c.B * c.T, 2 * c.B * c.T);
  const t0 = performance.now();
  const model = buildGpt(c);
  const spec = { loss: model.loss, params: model.params, batch: [model.ids, model.targets] };
  const adam = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  const runOpts = { threads, deterministic: values.deterministic, spinning: values.spin, memoryArena: !values['no-arena'] };
  // --steps-per-run K > 1: K updates per ONNX Runtime run (an ONNX Scan; the state stays inside the runtime).
  const step = perRun === 1 ? await compileTrainStep(spec, adam, runOpts) : await compileTrainSteps(spec, perRun, adam, runOpts);
  const compileMs = performance.now() - t0;
  const init: Record<string, Float32Array> = {};
  for (const [name] of paramShapes(c)) init[name] = weights.get(name)!.data;
  const state = TrainState.init(init);
  const losses: number[] = [];
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let s = 0; s < steps; s += perRun) {
    const a = performance.now();
    const u = process.cpuUsage();
    const rs = step instanceof TrainSteps
      ? await step.run(state, Array.from({ length: perRun }, () => ({ ids, targets })), new Array<number>(perRun).fill(1e-3))
      : [await step.run(state, { ids, targets }, 1e-3)];
    const per = (performance.now() - a) / perRun;
    const du = process.cpuUsage(u);
    for (const r of rs) {
      ms.push(per);
      cpu.push((du.user + du.system) / 1000 / perRun);
      losses.push(r.loss);
    }
  }
  const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
  const out: RunResult = { engine: 'steer', losses: losses.slice(0, 5), ms_median: median(ms.slice(Math.max(2, perRun))), cpu_ms_median: median(cpu.slice(Math.max(2, perRun))), ms_steps: ms.map((x) => Number(x.toFixed(1))), peak_rss_mb: Number(peak.toFixed(1)), compile_ms: Math.round(compileMs), onnx_nodes: step.exe.nodeCount };
  console.log(JSON.stringify(out));
}

if (values.worker) {
  await steerWorker();
  process.exit(0);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const peerScript = join(root, '..', 'shared', 'bench', 'gpt_torch_peer.py');

interface Engine { key: string; label: string; cmd: string; args: string[]; env: NodeJS.ProcessEnv }

/** The peers' environment: PASSIVE OpenMP waiting, and the machine's OpenBLAS overrides removed. */
function peerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

const PEERS: Record<string, { label: string; python: string }> = {
  torch2: { label: 'PyTorch 2.13 (.venv, pip wheel)', python: join(root, '.venv', 'bin', 'python') },
  torch1: { label: "PyTorch 1.13 (Debian's /usr/bin/python3)", python: '/usr/bin/python3' },
};

/** torch's version and the BLAS / oneDNN it was built with (one line per engine). */
function peerBuild(python: string): string | null {
  const code = 'import torch, re\n' +
    'torch.ones(64, 64) @ torch.ones(64, 64)\n' +
    'libs = sorted({l.split()[-1].rsplit("/", 1)[-1] for l in open("/proc/self/maps") if "blas" in l.lower() or "mkl" in l.lower() or "dnnl" in l.lower()})\n' +
    'c = torch.__config__.show()\n' +
    'pick = lambda k: (re.search(k + r"=([^,\\n]*)", c) or [None, "?"])[1]\n' +
    'print(f"torch {torch.__version__}; loaded: {\' \'.join(libs) or \'(no BLAS library mapped)\'}; BLAS_INFO={pick(\'BLAS_INFO\')}; LAPACK_INFO={pick(\'LAPACK_INFO\')}; USE_MKLDNN={pick(\'USE_MKLDNN\')}; " + "; ".join(l.strip() for l in c.splitlines() if "oneDNN" in l or "MKL-DNN" in l or "OpenMP" in l or "CPU capability" in l))\n';
  const r = spawnSync(python, ['-c', code], { env: peerEnv(), encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Runs the peer script unchanged and adds its CPU time per step (all threads; on a loaded machine
 * the fairer measure of work): the script times a step as perf_counter() − t0, two calls per
 * step, so process_time() is sampled beside each call and the per-step differences printed last.
 */
const PEER_CPU_TIMES = [
  'import sys, time, runpy, atexit, json, statistics',
  'wall, cpu = time.perf_counter, []',
  'def both():',
  '    cpu.append(time.process_time()); return wall()',
  'time.perf_counter = both',
  'def report():',
  '    d = [(cpu[i + 1] - cpu[i]) * 1e3 for i in range(0, len(cpu) - 1, 2)]',
  '    print(json.dumps({"cpu_ms_median": statistics.median(d[2:])}))',
  'atexit.register(report)',
  'sys.argv = sys.argv[1:]',
  'runpy.run_path(sys.argv[0], run_name="__main__")',
].join('\n');

// steer variants: --steps-per-run K, plus each of --steer-variants (K, or K/noarena: ONNX Runtime's
// memory arena off) as its own engine in the same alternation.
const variants = [String(perRun), ...values['steer-variants']!.split(',').filter(Boolean)].map((v) => {
  const [k, flag] = v.split('/');
  const K = Number(k);
  if (!(Number.isInteger(K) && K >= 1 && steps % K === 0 && steps / K >= 2) || (flag !== undefined && flag !== 'noarena')) {
    console.error(`--steer-variants: "${v}" must be K or K/noarena with K a positive integer dividing --steps (${steps}) at least twice`);
    process.exit(2);
  }
  return { K, noArena: flag === 'noarena' || values['no-arena'] };
});
const engines: Engine[] = variants.map(({ K, noArena }) => ({
  key: `steer${K === 1 ? '' : `-x${K}`}${noArena ? '-noarena' : ''}`,
  label: `steer (onnxruntime-node, ${K === 1 ? 'one run per step' : `${K} steps per run`}${noArena ? ', memory arena off' : ''})`,
  cmd: process.execPath,
  args: ['--import', 'tsx', fileURLToPath(import.meta.url), '--worker', '--init', values.init!, '--data', values.data!, '--steps', String(steps), '--threads', String(threads), '--steps-per-run', String(K),
    ...(values.deterministic ? ['--deterministic'] : []), ...(values.spin ? ['--spin'] : []), ...(noArena ? ['--no-arena'] : [])],
  env: process.env,
})).filter((e, i, all) => all.findIndex((f) => f.key === e.key) === i);
const steerKeys = engines.map((e) => e.key);
if (!values['no-peer']) {
  if (!existsSync(peerScript)) throw new Error(`peer script not found: ${peerScript} (run with --no-peer)`);
  for (const key of values.peers!.split(',').map((s) => s.trim()).filter(Boolean)) {
    const p = PEERS[key];
    if (!p) {
      console.error(`--peers: unknown peer "${key}"; expected a comma-separated list of ${Object.keys(PEERS).join(', ')}`);
      process.exit(2);
    }
    const build = existsSync(p.python) ? peerBuild(p.python) : null;
    if (!build) {
      console.log(`${p.label}: not available (${p.python} cannot import torch; ${key === 'torch1' ? 'run bench/setup-peers.sh' : 'run scripts/setup-python.sh'}), skipped`);
      continue;
    }
    console.log(`${p.label}: ${build}`);
    engines.push({ key, label: p.label, cmd: p.python, args: ['-c', PEER_CPU_TIMES, peerScript, dirname(resolve(values.init)), String(steps), String(threads)], env: peerEnv() });
  }
}

function runEngine(e: Engine): RunResult {
  const r = spawnSync(e.cmd, e.args, { env: e.env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${e.label} failed (exit ${r.status}):\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n').filter((l) => l.startsWith('{'));
  return Object.assign({}, ...lines.map((l) => JSON.parse(l))) as RunResult;
}

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`reference GPT (${JSON.stringify(REFERENCE_GPT)}), ${threads} threads, ${steps} steps per process, ${repeats} alternating repeats of ${engines.map((e) => e.key).join(', ')}; load average before: ${loadavg()}`);
const results = new Map<string, RunResult[]>(engines.map((e) => [e.key, []]));
for (let rep = 0; rep < repeats; rep++) {
  for (const e of engines) {
    const r = runEngine(e);
    results.get(e.key)!.push(r);
    const extra = steerKeys.includes(e.key) ? ` (compile ${r.compile_ms} ms, ${r.onnx_nodes} ONNX nodes; steps ${r.ms_steps!.map((x) => x.toFixed(0)).join(' ')})` : ` (${r.engine})`;
    console.log(`run ${rep + 1}/${repeats} ${e.key}: ${r.ms_median.toFixed(1)} ms/step (CPU ${r.cpu_ms_median!.toFixed(0)} ms/step), peak RSS ${r.peak_rss_mb.toFixed(0)} MB${extra}; load ${loadavg()}`);
  }
}

const tokens = REFERENCE_GPT.B * REFERENCE_GPT.T;
const summary: Record<string, unknown> = { threads, steps, repeats, load_after: loadavg() };
const peers = engines.filter((e) => !steerKeys.includes(e.key));
for (const sk of steerKeys) {
  const steer = results.get(sk)!;
  const steerMs = median(steer.map((r) => r.ms_median));
  const steerRss = median(steer.map((r) => r.peak_rss_mb));
  console.log(`${sk}: ${steerMs.toFixed(1)} ms/step (median of ${repeats} runs × steps ${Math.max(2, Number(/-x(\d+)/.exec(sk)?.[1] ?? 1)) + 1}..${steps}), ${(tokens / (steerMs / 1000)).toFixed(0)} tokens/s, peak RSS ${steerRss.toFixed(0)} MB (median)`);
  const entry: Record<string, unknown> = { ms_median: Number(steerMs.toFixed(2)), cpu_ms_median: Number(median(steer.map((r) => r.cpu_ms_median!)).toFixed(2)), ms_runs: steer.map((r) => Number(r.ms_median.toFixed(2))), peak_rss_mb: steerRss, losses: steer[0].losses };
  for (const e of peers) {
    const rs = results.get(e.key)!;
    const ms = median(rs.map((r) => r.ms_median));
    const rss = median(rs.map((r) => r.peak_rss_mb));
    const paired = rs.map((r, i) => steer[i].ms_median / r.ms_median);
    const cpuRatio = median(steer.map((r) => r.cpu_ms_median!)) / median(rs.map((r) => r.cpu_ms_median!));
    const rel = Math.max(...steer[0].losses.map((l, i) => Math.abs(l - rs[0].losses[i]) / Math.abs(rs[0].losses[i])));
    console.log(`  ratio ${sk}/${e.key}: step time ${(steerMs / ms).toFixed(3)} (paired ${paired.map((x) => x.toFixed(3)).join(', ')}; median ${median(paired).toFixed(3)}), CPU time ${cpuRatio.toFixed(3)}, peak RSS ${(steerRss / rss).toFixed(3)}; first losses max relative difference ${rel.toExponential(2)} (${rel <= 1e-3 ? 'match' : 'MISMATCH'} at 1e-3)`);
    entry[`vs_${e.key}`] = { ratio: Number((steerMs / ms).toFixed(3)), paired_median: Number(median(paired).toFixed(3)), cpu_ratio: Number(cpuRatio.toFixed(3)), rss_ratio: Number((steerRss / rss).toFixed(3)) };
  }
  summary[sk] = entry;
}
for (const e of peers) {
  const rs = results.get(e.key)!;
  const ms = median(rs.map((r) => r.ms_median));
  const rss = median(rs.map((r) => r.peak_rss_mb));
  console.log(`${e.label}: ${ms.toFixed(1)} ms/step, peak RSS ${rss.toFixed(0)} MB (medians)`);
  summary[e.key] = { engine: rs[0].engine, ms_median: Number(ms.toFixed(2)), cpu_ms_median: Number(median(rs.map((r) => r.cpu_ms_median!)).toFixed(2)), ms_runs: rs.map((r) => Number(r.ms_median.toFixed(2))), peak_rss_mb: rss };
}
console.log(JSON.stringify(summary));
