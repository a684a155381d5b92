// Where a LoRA training step's time goes (bench/checkpoints/lora_policy.ts's REINFORCE update or
// lora.ts's RM step, same shapes and batch), in one process:
//   --profile        ONNX Runtime's profile of `--steps` timed steps after a warm-up (per-op-type
//                    totals and the top nodes with shapes: bench/checkpoints/profile_summary.py) and
//                    the optimised model (`.opt.onnx`) beside it, under --out
//   --variants a,b   an interleaved A/B of session settings: every variant is compiled in this
//                    process and the rounds run one step of each in turn (rotating the order), so
//                    load from other processes hits every variant alike; medians, per-round ratios
//                    to the first variant, and CPU time per step
// Variants: fed (the default: frozen weights fed, compile's feedInitializers), baked (frozen weights
// as initializers: ONNX Runtime folds and prepacks them), nospin (fed, idle threads yield), spin
// (fed, idle threads spin), unfused (fed, MatmulTransposeFusion disabled: x·Wᵀ as an explicit
// Transpose then MatMul).
//   node --import tsx bench/checkpoints/step_lab.ts [--shape 135m] [--kind policy|rm] [--profile] [--variants spin,nospin] [--rounds 6]
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { grad, type TypedArray } from '../../src/graph/index.js';
import { Graph } from '../../src/graph/index.js';
import { compile, type CompileOptions } from '../../src/runtime/index.js';
import { initLlamaWeights } from '../../src/nn/init.js';
import { initLora, type LoraConfig } from '../../src/nn/lora.js';
import { llamaInitializers, padBatch } from '../../src/nn/llama.js';
import { Rng } from '../../src/util/rng.js';
import { adamW, trainSessionOptions, TrainState, TrainStep, type TrainStepSpec } from '../../src/train/optim.js';
import { adamWFor } from '../../src/train/steps.js';
import { updateGraph } from '../../src/policy/rollout.js';
import { loraInputs, withLora } from '../../src/policy/lora.js';
import { sequenceFeeds } from '../../src/policy/graph.js';
import { buildSequenceBatch } from '../../src/policy/sequences.js';
import { rewardStepSpec } from '../../src/reward/step.js';
import { HEAD_BIAS, HEAD_WEIGHT } from '../../src/reward/model.js';
import { median, shapeOf } from './alternate.js';

const { values: a } = parseArgs({ options: { shape: { type: 'string', default: '135m' }, kind: { type: 'string', default: 'policy' }, batch: { type: 'string' }, T: { type: 'string', default: '128' }, steps: { type: 'string', default: '2' }, layers: { type: 'string' }, out: { type: 'string', default: '/tmp/steer-step-lab' }, profile: { type: 'boolean', default: false }, variants: { type: 'string', default: 'spin,nospin' }, rounds: { type: 'string', default: '6' } } });
const c = shapeOf(a.shape!, a.layers);
const T = Number(a.T);
const lora: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };
const base = initLlamaWeights(c, new Rng(0), { std: 0.02 });

/** The step's loss graph, its feeds and the initial trainable state, as the benches build them. */
function setup(): { spec: TrainStepSpec; feeds: Record<string, TypedArray>; init: Record<string, Float32Array> } {
  const init: Record<string, Float32Array> = {};
  for (const [n, t] of initLora(c, lora, new Rng(1))) init[n] = t.data;
  if (a.kind === 'policy') {
    const B = Number(a.batch ?? 4);
    const P = Math.floor(T / 2);
    const tok = (r: number, t: number) => 1 + ((r * 7919 + t * 104729) % (c.vocabSize - 1));
    const examples = Array.from({ length: B }, (_, r) => ({ prompt: Array.from({ length: P }, (_, t) => tok(r, t)), response: Array.from({ length: T - P }, (_, t) => tok(r, P + t)) }));
    const g = new Graph();
    const ad = loraInputs(g, c, lora, true);
    const built = updateGraph(g, c, B, T, withLora(llamaInitializers(g, c, base, 'base/'), ad.graph));
    const feeds = { ...sequenceFeeds(buildSequenceBatch(examples, { padId: 0, T })), advantages: Float32Array.from({ length: B }, (_, r) => (r % 2 === 0 ? 1 : -1)) };
    return { spec: { loss: built.loss, params: ad.inputs, batch: built.batch }, feeds, init };
  }
  const B = Number(a.batch ?? 1);
  const rows = Array.from({ length: 2 * B }, (_, r) => Array.from({ length: T }, (_, t) => 1 + ((r * 7919 + t * 104729) % (c.vocabSize - 1))));
  const pb = padBatch(rows, { side: 'right', padId: 0 });
  init[HEAD_WEIGHT] = Float32Array.from({ length: c.hiddenSize }, () => 0.02);
  init[HEAD_BIAS] = new Float32Array(1);
  return { spec: rewardStepSpec(c, { loss: 'bt', slots: 1, rewardWeights: [1], batchSize: B, T, lora: { config: lora, base } }), feeds: { ids: pb.ids, positions: pb.positions, mask: pb.mask, last: pb.lastIndex }, init };
}

const VARIANTS: Record<string, (g: Graph) => Partial<CompileOptions>> = {
  fed: (g) => trainSessionOptions(g),
  spin: (g) => ({ ...trainSessionOptions(g), spinning: true }),
  nospin: (g) => ({ ...trainSessionOptions(g), spinning: false }),
  baked: () => ({ spinning: false }),
  unfused: (g) => ({ ...trainSessionOptions(g), spinning: false, sessionConfig: { 'optimization.disable_specified_optimizers': 'MatmulTransposeFusion' } }),
};

async function compileStep(variant: string, extra: Partial<CompileOptions> = {}) {
  const { spec, feeds, init } = setup();
  const grads = grad(spec.loss, spec.params, {});
  const { inputs, outputs } = adamW(spec.params, grads, adamWFor(spec.params, { maxGradNorm: 1 }));
  const g = spec.loss.graph;
  const opts = VARIANTS[variant];
  if (!opts) throw new Error(`--variants: unknown ${variant}; expected some of ${Object.keys(VARIANTS).join(', ')}`);
  const exe = await compile(g, { inputs: [...spec.params, ...inputs, ...spec.batch], outputs: { loss: spec.loss, ...outputs }, threads: 2, ...opts(g), ...extra, name: `train_step_${variant}` });
  return { exe, step: new TrainStep(exe, spec.params.map((p) => p.attrs.name as string), []), state: TrainState.init(init), feeds };
}

async function timed(s: Awaited<ReturnType<typeof compileStep>>): Promise<{ ms: number; cpu: number; loss: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await s.step.run(s.state, s.feeds, 1e-4);
  const c1 = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpu: (c1.user + c1.system) / 1000, loss: r.loss };
}

const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);
if (a.profile) {
  const out = a.out!;
  mkdirSync(out, { recursive: true });
  const prefix = join(out, `${a.kind}_${a.shape}`);
  const variant = a.variants!.split(',')[0];
  const s = await compileStep(variant, { profile: prefix, optimizedModelPath: `${prefix}.opt.onnx` });
  const ms: number[] = [];
  for (let i = 0; i < 1 + Number(a.steps); i++) ms.push((await timed(s)).ms);
  s.exe.endProfiling();
  console.log(`${variant}: step ms ${ms.map((x) => x.toFixed(0)).join(' ')} (the first is the warm-up), peak RSS ${rss()} MB`);
  console.log('profile:', join(out, readdirSync(out).filter((f) => f.startsWith(`${a.kind}_${a.shape}`) && f.endsWith('.json')).sort().pop()!), '— summarise with python3 bench/checkpoints/profile_summary.py FILE 1');
  await s.exe.release();
} else {
  const names = a.variants!.split(',');
  const steps = [];
  for (const n of names) {
    const s = await compileStep(n);
    await timed(s); // warm-up
    steps.push(s);
  }
  const res = names.map(() => [] as { ms: number; cpu: number; loss: number }[]);
  const R = Number(a.rounds);
  for (let r = 0; r < R; r++) {
    for (let k = 0; k < names.length; k++) {
      const i = (k + r) % names.length;
      res[i].push(await timed(steps[i]));
    }
  }
  console.log(`interleaved A/B, ${a.kind} step, --shape ${a.shape}, ${R} rounds (one step of each variant per round, order rotating), peak RSS of the process ${rss()} MB`);
  names.forEach((n, i) => {
    const ratios = res[i].map((x, r) => x.ms / res[0][r].ms);
    console.log(`${n.padEnd(8)} median ${median(res[i].map((x) => x.ms)).toFixed(0)} ms (${res[i].map((x) => x.ms.toFixed(0)).join(' ')}), cpu median ${median(res[i].map((x) => x.cpu)).toFixed(0)} ms, ratio to ${names[0]} per round median ${median(ratios).toFixed(3)}, last loss ${res[i][R - 1].loss.toFixed(6)}`);
  });
  for (const s of steps) await s.exe.release();
}
