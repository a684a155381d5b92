// Benchmark: the floor of ONNX Runtime for greedy decoding of stories260K at batch 1 (issue #19's
// "≥ 0.5 × run.c's tokens/s"), measured with graphs written by hand, not by steer's graph API:
//   1. per-kernel cost: a chain of N Add nodes on [1, 64] (N = 1, 50, 100, 200) run by
//      onnxruntime-node with steer's session settings (compile.ts createSession), 1 and 2 threads,
//      spinning off/on: µs per run = intercept + N × slope (least squares over the medians);
//   2. the leanest one-token decode graph: per layer one (Skip)SimplifiedLayerNormalization, the
//      q|k|v MatMul, com.microsoft GroupQueryAttention (RoPE inside it, the KV cache appended in
//      place: past and present share the caller's buffer, bound as the run's fetches), the o
//      MatMul, SkipSimplifiedLayerNormalization (residual + RMSNorm), the gate|up MatMul, Split,
//      QuickGelu (α = 1: x·σ(x) = SiLU), Mul, the down MatMul; then the final norm, the LM head and
//      ArgMax. Weights: the real stories260K file in steer's fused layout (fuseLlamaWeights: q
//      pre-scaled by 1/√hd, so GQA's scale is 1; rows in rotate-half order, so rotary_interleaved 0);
//      GQA checks that head_size is a multiple of 16 whenever it gets RoPE tables, and
//      stories260K's is 8: the heads are padded to 16 (padHeads, exact); a second form keeps hd 8
//      with RoPE as two com.microsoft RotaryEmbedding nodes per layer (unpaddedHeads);
//   3. the same step as the body of an ONNX Loop: K tokens per session.run (K = 16, 128), the KV
//      cache and the token loop-carried, the greedy token fed back inside the graph; the cost of a
//      Loop iteration itself from a Loop over the Add chain of part 1;
//   4. steer's LlamaGenerator (greedy, baked weights) and llama2.c's run.c (built as
//      bench/generate.ts does, bench/peers/runc.ts) on the same prompt and token count;
//   5. (--parts profile) ONNX Runtime's profiler on the lean graphs, 1 thread: kernel time by operator.
// Every variant's 128 greedy tokens must equal LlamaGenerator's (and run.c's text up to its BOS);
// the script stops otherwise. Kernels per token = nodes of ONNX Runtime's optimised model (the
// session's optimizedModelFilePath; a Loop's body nodes per iteration plus the outer ones ÷ K).
// µs/token = wall time of the decode phase (the prompt's last token and 127 fed back: 128 forward
// passes; the prompt before it is prefilled untimed) ÷ 128; run.c = 1e6 ÷ its "achieved tok/s"
// (forward passes ÷ time after the first, prompt included), which it times in whole milliseconds
// (≈ 6–7 ms here): a round takes the mean over 10 runs of run.c. CPU µs/token beside (less at
// the mercy of the load): process.cpuUsage over the decode phase (all threads); run.c's from
// `perf stat` task-clock, the whole run less the prompt alone ÷ the forward passes between. Rounds alternate every variant and
// run.c; figures are medians of the rounds' medians; the load average is printed.
// Usage: node --import tsx bench/decode_floor.ts [--repeats 3] [--new-tokens 128] [--parts chain,decode,profile]
//   (about a minute; --new-tokens 16 --repeats 1 --parts decode checks the graphs in seconds)
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../src/io/checkpoint.js';
import type { LlamaConfig } from '../src/nn/config.js';
import { LlamaGenerator } from '../src/nn/generate.js';
import { FUSED_HEAD, fuseLlamaWeights, fusedNames } from '../src/nn/llama.js';
import { ropeTables } from '../src/nn/rope.js';
import { EMBED, FINAL_NORM, layerNames, type LlamaWeights } from '../src/nn/weights.js';
import { Llama2cTokenizer } from '../src/text/llama2c.js';
import { buildRunC, median, pooledTokensPerS, runC, runCCpuMs } from './peers/runc.js';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '3' },
    'new-tokens': { type: 'string', default: '128' },
    prompt: { type: 'string', default: 'Once upon a time' },
    parts: { type: 'string', default: 'chain,decode,profile' },
    'chain-runs': { type: 'string', default: '400' },
  },
});
const repeats = Number(values.repeats);
const newTokens = Number(values['new-tokens']);
const parts = new Set(values.parts!.split(','));
const root = fileURLToPath(new URL('..', import.meta.url));
const shared = join(root, '..', 'shared');
const work = mkdtempSync(join(tmpdir(), 'steer-bench-floor-'));
const load = () => loadavg()[0].toFixed(1);

// ---- ONNX by hand ------------------------------------------------------------------------------

const { onnx } = onnxProto;
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;
type ValueInfoProto = InstanceType<typeof onnx.ValueInfoProto>;
type GraphProto = InstanceType<typeof onnx.GraphProto>;
type AttributeProto = InstanceType<typeof onnx.AttributeProto>;
const AT = onnx.AttributeProto.AttributeType;
const ELEM = { float32: 1, int32: 6, int64: 7, bool: 9 } as const;
type Elem = keyof typeof ELEM;

const int = (name: string, i: number): AttributeProto => onnx.AttributeProto.create({ name, type: AT.INT, i });
const float = (name: string, f: number): AttributeProto => onnx.AttributeProto.create({ name, type: AT.FLOAT, f });
const graphAttr = (name: string, g: GraphProto): AttributeProto => onnx.AttributeProto.create({ name, type: AT.GRAPH, g });
const valueInfo = (name: string, elem: Elem, dims?: readonly (number | string)[]): ValueInfoProto =>
  onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: ELEM[elem], ...(dims ? { shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } : {}) } } });

/** A graph as a node list: names are the edges; `node` returns the outputs' names. */
class OnnxGraph {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  private readonly initNames = new Set<string>();
  private count = 0;

  constructor(private readonly prefix: string) {}

  node(op: string, inputs: readonly string[], outputs: number | readonly string[] = 1, attrs: AttributeProto[] = [], domain = ''): string[] {
    const out = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => `${this.prefix}${op}${this.count}_${i}`) : [...outputs];
    this.nodes.push(onnx.NodeProto.create({ opType: op, domain, input: [...inputs], output: out, attribute: attrs, name: `${this.prefix}${op}${this.count++}` }));
    return out;
  }

  /** A constant tensor (added once per name); returns its name. */
  init(name: string, data: Float32Array | Int32Array | BigInt64Array, dims: readonly number[]): string {
    if (this.initNames.has(name)) return name;
    this.initNames.add(name);
    const elem = data instanceof Float32Array ? ELEM.float32 : data instanceof Int32Array ? ELEM.int32 : ELEM.int64;
    this.inits.push(onnx.TensorProto.create({ name, dataType: elem, dims: [...dims], rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }));
    return name;
  }

  input(name: string, elem: Elem, dims?: readonly (number | string)[]): string {
    this.inputs.push(valueInfo(name, elem, dims));
    return name;
  }

  output(name: string, elem: Elem, dims?: readonly (number | string)[]): string {
    this.outputs.push(valueInfo(name, elem, dims));
    return name;
  }

  proto(name: string): GraphProto {
    return onnx.GraphProto.create({ name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs });
  }
}

/** A model of opset 20 plus the com.microsoft contrib domain. */
function modelBytes(g: GraphProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 9, producerName: 'steer-bench', opsetImport: [{ domain: '', version: 20 }, { domain: 'com.microsoft', version: 1 }], graph: g })).finish();
}

/** steer's session settings (runtime/compile.ts createSession), plus where to write the optimised model. */
function sessionOptions(threads: number, spinning: boolean, optimizedModelFilePath?: string): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...(spinning ? {} : { extra: { session: { 'intra_op.allow_spinning': '0' } } }),
    ...(optimizedModelFilePath ? { optimizedModelFilePath } : {}),
  };
}

let optimisedCount = 0;
/** Nodes ONNX Runtime runs after its optimisations: the outer graph's and each Loop body's. */
async function kernelCounts(model: Uint8Array): Promise<{ outer: number; body: number }> {
  const path = join(work, `optimised-${optimisedCount++}.onnx`);
  const s = await ort.InferenceSession.create(model, sessionOptions(1, false, path));
  await s.release();
  const m = onnx.ModelProto.decode(readFileSync(path));
  const body = m.graph!.node!.filter((n) => n.opType === 'Loop').reduce((a, n) => a + n.attribute!.find((x) => x.name === 'body')!.g!.node!.length, 0);
  return { outer: m.graph!.node!.length, body };
}

/** Which operators this ONNX Runtime's CPU provider runs: a one-node model of each opens a session, or not. */
async function probeOps(): Promise<string[]> {
  const f = (dims: number[]): [string, Elem, number[]] => ['', 'float32', dims];
  const probes: [string, string, [string, Elem, number[]][], AttributeProto[], number][] = [
    ['SimplifiedLayerNormalization', '', [['x', 'float32', [1, 64]], ['s', 'float32', [64]]], [float('epsilon', 1e-5)], 1],
    ['SkipSimplifiedLayerNormalization', 'com.microsoft', [['x', 'float32', [1, 1, 64]], ['k', 'float32', [1, 1, 64]], ['s', 'float32', [64]]], [], 4],
    ['GroupQueryAttention', 'com.microsoft', [['q', 'float32', [1, 1, 128]], f([]), f([]), ['pk', 'float32', [1, 4, 3, 8]], ['pv', 'float32', [1, 4, 3, 8]], ['sl', 'int32', [1]], ['ts', 'int32', []], ['c', 'float32', [512, 4]], ['sn', 'float32', [512, 4]]], [int('num_heads', 8), int('kv_num_heads', 4), int('do_rotary', 1)], 3],
    ['RotaryEmbedding', 'com.microsoft', [['q', 'float32', [1, 1, 64]], ['p', 'int64', [1, 1]], ['c', 'float32', [512, 4]], ['sn', 'float32', [512, 4]]], [], 1],
    ['MultiHeadAttention', 'com.microsoft', [['q', 'float32', [1, 1, 64]], ['k', 'float32', [1, 1, 64]], ['v', 'float32', [1, 1, 64]]], [int('num_heads', 8)], 1],
    ['QuickGelu', 'com.microsoft', [['x', 'float32', [1, 64]]], [float('alpha', 1)], 1],
    ['FusedMatMul', 'com.microsoft', [['x', 'float32', [1, 64]], ['w', 'float32', [64, 64]]], [], 1],
    ['SkipLayerNormalization', 'com.microsoft', [['x', 'float32', [1, 1, 64]], ['k', 'float32', [1, 1, 64]], ['s', 'float32', [64]], ['b', 'float32', [64]]], [], 1],
  ];
  const lines: string[] = [];
  for (const [op, domain, ins, attrs, nOut] of probes) {
    const g = new OnnxGraph('p');
    for (const [name, elem, dims] of ins) if (name) g.input(name, elem, dims);
    const outs = g.node(op, ins.map(([n]) => n), nOut, attrs, domain);
    for (const o of outs) g.output(o, 'float32');
    try {
      const s = await ort.InferenceSession.create(modelBytes(g.proto('probe')), sessionOptions(1, false));
      await s.release();
      lines.push(`${domain || 'ai.onnx'}::${op} yes`);
    } catch (e) {
      lines.push(`${domain || 'ai.onnx'}::${op} NO (${(e as Error).message.split('\n')[0].slice(0, 120)})`);
    }
  }
  return lines;
}

// ---- 1. per-kernel cost --------------------------------------------------------------------------

/** y = x + x + … (N Adds on [1, 64], each reading the previous sum and the input: nothing folds). */
function addChain(N: number): Uint8Array {
  const g = new OnnxGraph('c');
  const x = g.input('x', 'float32', [1, 64]);
  let y = x;
  for (let i = 0; i < N; i++) y = g.node('Add', [y, x], i === N - 1 ? ['y'] : 1)[0];
  g.output('y', 'float32', [1, 64]);
  return modelBytes(g.proto(`chain${N}`));
}

/** K iterations of an ONNX Loop whose body is addChain(N)'s (x loop-carried): the cost of a Loop iteration. */
function loopChain(N: number, K: number): Uint8Array {
  const body = new OnnxGraph('b');
  body.input('iter', 'int64', []);
  body.input('cond_in', 'bool', []);
  const x = body.input('x_in', 'float32', [1, 64]);
  let y = x;
  for (let i = 0; i < N; i++) y = body.node('Add', [y, x], i === N - 1 ? ['x_out'] : 1)[0];
  body.node('Identity', ['cond_in'], ['cond_out']);
  body.output('cond_out', 'bool', []);
  body.output('x_out', 'float32', [1, 64]);
  const g = new OnnxGraph('o');
  g.input('x', 'float32', [1, 64]);
  const trips = g.init('trips', BigInt64Array.of(BigInt(K)), []);
  g.node('Loop', [trips, '', 'x'], ['y'], [graphAttr('body', body.proto('chain-body'))]);
  g.output('y', 'float32', [1, 64]);
  return modelBytes(g.proto(`loop${N}x${K}`));
}

/** Least squares y = a + b·x. */
function fitLine(xs: number[], ys: number[]): { intercept: number; slope: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope };
}

async function chainPart(): Promise<void> {
  const Ns = [1, 50, 100, 200];
  const runs = Number(values['chain-runs']);
  const x = new ort.Tensor('float32', new Float32Array(64).fill(0.5), [1, 64]);
  console.log(`\n## 1. per-kernel cost: a chain of N Add nodes on [1, 64]; µs per session.run, median of ${repeats} × ${runs} runs (load ${load()})`);
  console.log('| threads | spinning | ' + Ns.map((N) => `N = ${N}`).join(' | ') + ' | intercept µs/run | slope µs/kernel |');
  console.log('|---|---|' + Ns.map(() => '---|').join('') + '---|---|');
  for (const [threads, spinning] of [[1, false], [2, false], [2, true], [1, true]] as const) {
    const sessions = await Promise.all(Ns.map((N) => ort.InferenceSession.create(addChain(N), sessionOptions(threads, spinning))));
    const times: number[][] = Ns.map(() => []);
    for (const s of sessions) for (let i = 0; i < 50; i++) await s.run({ x }); // warm-up
    for (let r = 0; r < repeats; r++) {
      for (const [i, s] of sessions.entries()) {
        const t = performance.now();
        for (let k = 0; k < runs; k++) await s.run({ x });
        times[i].push(((performance.now() - t) * 1000) / runs);
      }
    }
    const med = times.map(median);
    const { intercept, slope } = fitLine(Ns, med);
    console.log(`| ${threads} | ${spinning ? 'on' : 'off'} | ${med.map((m) => m.toFixed(1)).join(' | ')} | ${intercept.toFixed(1)} | ${slope.toFixed(2)} |`);
    for (const s of sessions) await s.release();
  }
  // the Loop: K = 128 iterations of a body of N Adds (plus the body's Identity of its condition)
  const K = 128;
  const LNs = [1, 50];
  console.log(`\nAn ONNX Loop of ${K} iterations whose body is N Adds (+ 1 Identity); µs per iteration, median of ${repeats} × ${Math.ceil(runs / 8)} runs (load ${load()})`);
  console.log('| threads | spinning | ' + LNs.map((N) => `N = ${N}`).join(' | ') + ' | µs per iteration beyond its kernels | slope µs/kernel |');
  console.log('|---|---|' + LNs.map(() => '---|').join('') + '---|---|');
  for (const [threads, spinning] of [[1, false], [2, false]] as const) {
    const sessions = await Promise.all(LNs.map((N) => ort.InferenceSession.create(loopChain(N, K), sessionOptions(threads, spinning))));
    const times: number[][] = LNs.map(() => []);
    for (const s of sessions) for (let i = 0; i < 5; i++) await s.run({ x });
    for (let r = 0; r < repeats; r++) {
      for (const [i, s] of sessions.entries()) {
        const n = Math.ceil(runs / 8);
        const t = performance.now();
        for (let k = 0; k < n; k++) await s.run({ x });
        times[i].push(((performance.now() - t) * 1000) / n / K);
      }
    }
    const med = times.map(median);
    const { intercept, slope } = fitLine(LNs.map((N) => N + 1), med);
    console.log(`| ${threads} | ${spinning ? 'on' : 'off'} | ${med.map((m) => m.toFixed(2)).join(' | ')} | ${intercept.toFixed(2)} | ${slope.toFixed(2)} |`);
    for (const s of sessions) await s.release();
  }
}

// ---- 2. the lean decode step ---------------------------------------------------------------------

/**
 * The weights of a decode step: fused layout, heads of P columns, RoPE tables [maxPos, P/2];
 * ropeInGqa: GQA rotates q and k (do_rotary), else two com.microsoft RotaryEmbedding nodes do.
 */
interface StepWeights {
  weights: LlamaWeights;
  P: number;
  cos: Float32Array;
  sin: Float32Array;
  ropeInGqa: boolean;
}

/** The fused weights as they are (P = hd): RoPE as RotaryEmbedding nodes, GQA without its RoPE. */
function unpaddedHeads(c: LlamaConfig, fused: LlamaWeights): StepWeights {
  return { weights: fused, P: c.headDim, ...ropeTables(c, c.maxPositionEmbeddings), ropeInGqa: false };
}

/**
 * GroupQueryAttention takes RoPE tables only with head_size a multiple of 16 (its input check,
 * onnxruntime 1.30); stories260K's heads have hd = 8. So the step runs attention on heads padded to
 * P = 16: head dim i of q, k and v goes to column i (i < hd/2) or P/2 + i − hd/2 (the rest), zeros
 * elsewhere. Rotate-half pairs (j, j + hd/2) become (j, j + P/2) with the same frequency (the RoPE
 * table's columns j < hd/2; the others rotate zeros), q·k sums the same products, and the o
 * projection reads only the real columns (zero rows elsewhere): the same attention, twice the width.
 * Returns the padded weights (the q|k|v and o projections replaced), P, and the RoPE tables [maxPos, P/2].
 */
function padHeads(c: LlamaConfig, fused: LlamaWeights): StepWeights {
  const hd = c.headDim;
  const P = Math.ceil(hd / 16) * 16;
  const half = hd / 2;
  const col = (i: number) => (i < half ? i : P / 2 + i - half); // a real head dim's padded column
  const D = c.hiddenSize;
  const heads = c.numHeads + 2 * c.numKvHeads;
  const weights: LlamaWeights = new Map(fused);
  for (let l = 0; l < c.numLayers; l++) {
    const f = fusedNames(l);
    const qkv = fused.get(f.qkv)!.data; // [D, heads·hd]
    const qkvP = new Float32Array(D * heads * P); // [D, heads·P]
    for (let r = 0; r < D; r++) for (let h = 0; h < heads; h++) for (let i = 0; i < hd; i++) qkvP[r * heads * P + h * P + col(i)] = qkv[r * heads * hd + h * hd + i];
    const o = fused.get(f.o)!.data; // [H·hd, D]
    const oP = new Float32Array(c.numHeads * P * D); // [H·P, D]
    for (let h = 0; h < c.numHeads; h++) for (let i = 0; i < hd; i++) oP.set(o.subarray((h * hd + i) * D, (h * hd + i + 1) * D), (h * P + col(i)) * D);
    weights.set(f.qkv, { shape: [D, heads * P], data: qkvP });
    weights.set(f.o, { shape: [c.numHeads * P, D], data: oP });
  }
  const maxPos = c.maxPositionEmbeddings;
  const rope = ropeTables(c, maxPos); // [maxPos, hd/2]
  const cos = new Float32Array(maxPos * (P / 2)).fill(1);
  const sin = new Float32Array(maxPos * (P / 2));
  for (let p = 0; p < maxPos; p++) {
    cos.set(rope.cos.subarray(p * half, (p + 1) * half), p * (P / 2));
    sin.set(rope.sin.subarray(p * half, (p + 1) * half), p * (P / 2));
  }
  return { weights, P, cos, sin, ropeInGqa: true };
}

/**
 * One decode step into graph `g`: token [1, 1] int64 at position seqlens[0] (int32 [1]; total
 * (int32 scalar) = seqlens + 1 columns after it), reading and writing the cache `past` → `present`
 * per layer ([1, KV, C, hd], C ≥ total: GQA reads the first seqlens columns and writes column
 * seqlens). Returns the next token [1, 1] (first argmax of the logits) and the present names.
 */
function decodeStep(g: OnnxGraph, c: LlamaConfig, padded: StepWeights, token: string, past: { k: string; v: string }[], seqlens: string, total: string, present?: { k: string; v: string }[], nextName?: string): { next: string; present: { k: string; v: string }[] } {
  const W = (name: string) => {
    const t = padded.weights.get(name)!;
    return g.init(name, t.data, t.shape);
  };
  const cos = g.init('rope_cos', padded.cos, [c.maxPositionEmbeddings, padded.P / 2]); // [maxPos, P/2]
  const sin = g.init('rope_sin', padded.sin, [c.maxPositionEmbeddings, padded.P / 2]);
  const eps = float('epsilon', c.rmsNormEps);
  const position = padded.ropeInGqa ? null : g.node('Cast', [seqlens], 1, [int('to', ELEM.int64)])[0]; // [1] int64: RotaryEmbedding's position offset
  let r = g.node('Gather', [W(EMBED), token])[0]; // [1, 1, D]: the residual stream
  let h = g.node('SimplifiedLayerNormalization', [r, W(layerNames(0).attnNorm)], 1, [eps])[0]; // [1, 1, D]
  const out: { k: string; v: string }[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const n = layerNames(l);
    const f = fusedNames(l);
    const qkv = g.node('MatMul', [h, W(f.qkv)])[0]; // [1, 1, (H + 2KV)·P], q pre-scaled by 1/√hd
    const gqaAttrs = [int('num_heads', c.numHeads), int('kv_num_heads', c.numKvHeads), float('scale', 1)];
    const presentNames = [`att${l}`, present?.[l].k ?? `present_k.${l}`, present?.[l].v ?? `present_v.${l}`];
    let att: string, pk: string, pv: string;
    if (padded.ropeInGqa) {
      // packed q|k|v, RoPE on q and k at position seqlens inside GQA
      [att, pk, pv] = g.node('GroupQueryAttention', [qkv, '', '', past[l].k, past[l].v, seqlens, total, cos, sin], presentNames, [...gqaAttrs, int('do_rotary', 1), int('rotary_interleaved', 0)], 'com.microsoft'); // [1, 1, H·P]
    } else {
      const hd = c.headDim;
      const sizes = g.init('qkv_sizes', BigInt64Array.from([c.numHeads * hd, c.numKvHeads * hd, c.numKvHeads * hd], BigInt), [3]);
      const [q, k, v] = g.node('Split', [qkv, sizes], 3, [int('axis', -1)]);
      const rot = (x: string, heads: number) => g.node('RotaryEmbedding', [x, position!, cos, sin], 1, [int('num_heads', heads), int('interleaved', 0)], 'com.microsoft')[0];
      [att, pk, pv] = g.node('GroupQueryAttention', [rot(q, c.numHeads), rot(k, c.numKvHeads), v, past[l].k, past[l].v, seqlens, total], presentNames, gqaAttrs, 'com.microsoft'); // [1, 1, H·hd]
    }
    out.push({ k: pk, v: pv });
    const o = g.node('MatMul', [att, W(f.o)])[0]; // [1, 1, D]
    const [m, , , r1] = g.node('SkipSimplifiedLayerNormalization', [o, r, W(n.mlpNorm)], [`mlp_in${l}`, '', '', `resid_mid${l}`], [eps], 'com.microsoft'); // m = rmsNorm(r + o), r1 = r + o
    const gu = g.node('MatMul', [m, W(f.gateUp)])[0]; // [1, 1, 2F]
    const [gate, up] = g.node('Split', [gu], 2, [int('axis', -1), int('num_outputs', 2)]); // [1, 1, F] each
    const act = g.node('QuickGelu', [gate], 1, [float('alpha', 1)], 'com.microsoft')[0]; // gate·σ(gate) = SiLU(gate)
    const d = g.node('MatMul', [g.node('Mul', [act, up])[0], W(f.down)])[0]; // [1, 1, D]
    const norm = l + 1 < c.numLayers ? layerNames(l + 1).attnNorm : FINAL_NORM;
    [h, , , r] = g.node('SkipSimplifiedLayerNormalization', [d, r1, W(norm)], [`norm${l + 1}`, '', '', `resid${l + 1}`], [eps], 'com.microsoft');
  }
  const logits = g.node('MatMul', [h, W(FUSED_HEAD)])[0]; // [1, 1, V]
  const next = g.node('ArgMax', [logits], nextName ? [nextName] : 1, [int('axis', -1), int('keepdims', 0)])[0]; // [1, 1] int64: the first maximum
  return { next, present: out };
}

const pastNames = (L: number) => Array.from({ length: L }, (_, l) => ({ k: `past_k.${l}`, v: `past_v.${l}` }));

/**
 * The one-token decode graph: inputs token, seqlens, total, past_k/v.l [1, KV, 'cap', hd]; outputs
 * next and, with newColumns false, present_k/v.l (the whole cache: bound to the past buffers, GQA
 * appends in place); with newColumns true only the new column of each, new_k/v.l [1, KV, 1, P] =
 * present[:, :, seqlens] (the present stays inside the run: GQA copies the past into it), for a
 * cache kept on the host as steer's KvCache keeps it (input col_end int32 [1] = seqlens + 1).
 */
function stepModel(c: LlamaConfig, w: StepWeights, newColumns = false): Uint8Array {
  const g = new OnnxGraph('s');
  const token = g.input('token', 'int64', [1, 1]);
  const seqlens = g.input('seqlens', 'int32', [1]);
  const total = g.input('total', 'int32', []);
  const past = pastNames(c.numLayers);
  for (const p of past) for (const name of [p.k, p.v]) g.input(name, 'float32', [1, c.numKvHeads, 'cap', w.P]);
  const { next, present } = decodeStep(g, c, w, token, past, seqlens, total, undefined, 'next');
  g.output(next, 'int64', [1, 1]);
  if (newColumns) {
    const end = g.input('col_end', 'int32', [1]);
    const axis = g.init('axis2', Int32Array.of(2), [1]);
    for (const [l, p] of present.entries()) {
      for (const [from, to] of [[p.k, `new_k.${l}`], [p.v, `new_v.${l}`]]) {
        g.node('Slice', [from, seqlens, end, axis], [to]);
        g.output(to, 'float32', [1, c.numKvHeads, 1, w.P]);
      }
    }
  } else for (const p of present) for (const name of [p.k, p.v]) g.output(name, 'float32', [1, c.numKvHeads, 'cap_out', w.P]);
  return modelBytes(g.proto(newColumns ? 'decode-step-columns' : 'decode-step'));
}

/**
 * K decode steps in one ONNX Loop: inputs token [1, 1], seqlens [1], total [] (as the step's), past
 * [1, KV, 'cols', hd] holding exactly seqlens columns; outputs the K tokens [K, 1, 1], the cache
 * after them (cols + K columns) and the last token. The cache grows by a column per iteration
 * (GQA copies the past into each iteration's present: a Loop's outputs are new buffers, so its
 * shared-buffer mode never applies). The condition passes straight through and the token is both
 * carried and scanned: no Identity nodes in the body.
 */
function loopModel(c: LlamaConfig, w: StepWeights, K: number): Uint8Array {
  const body = new OnnxGraph('b');
  body.input('iter', 'int64', []);
  body.input('cond_in', 'bool', []);
  const token = body.input('token_in', 'int64', [1, 1]);
  const seqlens = body.input('seqlens_in', 'int32', [1]);
  const total = body.input('total_in', 'int32', []);
  const past = Array.from({ length: c.numLayers }, (_, l) => ({ k: `bk_in.${l}`, v: `bv_in.${l}` }));
  for (const p of past) for (const name of [p.k, p.v]) body.input(name, 'float32', [1, c.numKvHeads, 'cols', w.P]);
  const presentNames = Array.from({ length: c.numLayers }, (_, l) => ({ k: `bk_out.${l}`, v: `bv_out.${l}` }));
  decodeStep(body, c, w, token, past, seqlens, total, presentNames, 'token_out');
  const one = body.init('one_i32', Int32Array.of(1), []);
  body.node('Add', [seqlens, one], ['seqlens_out']);
  body.node('Add', [total, one], ['total_out']);
  body.output('cond_in', 'bool', []);
  body.output('token_out', 'int64', [1, 1]);
  body.output('seqlens_out', 'int32', [1]);
  body.output('total_out', 'int32', []);
  for (const p of presentNames) for (const name of [p.k, p.v]) body.output(name, 'float32', [1, c.numKvHeads, 'cols1', w.P]);
  body.output('token_out', 'int64', [1, 1]);

  const g = new OnnxGraph('o');
  g.input('token', 'int64', [1, 1]);
  g.input('seqlens', 'int32', [1]);
  g.input('total', 'int32', []);
  const outer = pastNames(c.numLayers);
  for (const p of outer) for (const name of [p.k, p.v]) g.input(name, 'float32', [1, c.numKvHeads, 'cols', w.P]);
  const trips = g.init('trips', BigInt64Array.of(BigInt(K)), []);
  const carriedOut = ['last', 'seqlens_end', 'total_end', ...outer.flatMap((_, l) => [`present_k.${l}`, `present_v.${l}`])];
  g.node('Loop', [trips, '', 'token', 'seqlens', 'total', ...outer.flatMap((p) => [p.k, p.v])], [...carriedOut, 'tokens'], [graphAttr('body', body.proto('decode-body'))]);
  g.output('tokens', 'int64', [K, 1, 1]);
  for (const l of outer.keys()) for (const name of [`present_k.${l}`, `present_v.${l}`]) g.output(name, 'float32', [1, c.numKvHeads, 'cols_out', w.P]);
  g.output('last', 'int64', [1, 1]);
  return modelBytes(g.proto(`decode-loop-${K}`));
}

// ---- drivers ---------------------------------------------------------------------------------------

type Cache = { k: Float32Array; v: Float32Array }[];
/** A greedy decode: its tokens, wall µs and CPU µs (all threads) per token of the timed phase. */
type Decoded = { tokens: number[]; us: number; cpuUs: number };
/** Wall and CPU µs per token since (t0, c0). */
const perToken = (t0: number, c0: NodeJS.CpuUsage, n: number) => {
  const cpu = process.cpuUsage(c0);
  return { us: ((performance.now() - t0) * 1000) / n, cpuUs: (cpu.user + cpu.system) / n };
};
const i64 = (t: number) => new ort.Tensor('int64', BigInt64Array.of(BigInt(t)), [1, 1]);
const i32 = (n: number, dims: number[]) => new ort.Tensor('int32', Int32Array.of(n), dims);

/**
 * The one-token graph with the cache in place: buffers [1, KV, M, hd] per layer fed as past and
 * bound as present (the same memory: GQA appends the new column, nothing is copied). `feedsAt`
 * returns the feeds and fetches of a step at position t.
 */
function inPlaceCache(c: LlamaConfig, P: number, M: number) {
  const cache: Cache = Array.from({ length: c.numLayers }, () => ({ k: new Float32Array(c.numKvHeads * M * P), v: new Float32Array(c.numKvHeads * M * P) }));
  const dims = [1, c.numKvHeads, M, P];
  const feeds: Record<string, ort.Tensor> = {};
  const fetches: Record<string, ort.Tensor | null> = { next: null };
  for (const [l, { k, v }] of cache.entries()) {
    feeds[`past_k.${l}`] = new ort.Tensor('float32', k, dims);
    feeds[`past_v.${l}`] = new ort.Tensor('float32', v, dims);
    fetches[`present_k.${l}`] = feeds[`past_k.${l}`];
    fetches[`present_v.${l}`] = feeds[`past_v.${l}`];
  }
  return {
    cache,
    step: async (s: ort.InferenceSession, token: number, t: number): Promise<number> => {
      feeds.token = i64(token);
      feeds.seqlens = i32(t, [1]);
      feeds.total = i32(t + 1, []);
      const out = await s.run(feeds, fetches as ort.InferenceSession.FetchesType);
      return Number((out.next.data as BigInt64Array)[0]);
    },
  };
}

/** Greedy decoding with the one-token graph: the prompt (all but its last token untimed; withPrompt false leaves its cache columns zero, so a profile holds the decode steps alone), then `n` timed steps. */
async function decodeSteps(s: ort.InferenceSession, c: LlamaConfig, P: number, prompt: readonly number[], n: number, withPrompt = true): Promise<Decoded> {
  const run = inPlaceCache(c, P, prompt.length + n);
  if (withPrompt) for (let t = 0; t < prompt.length - 1; t++) await run.step(s, prompt[t], t);
  const tokens: number[] = [];
  let token = prompt[prompt.length - 1];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    token = await run.step(s, token, prompt.length - 1 + i);
    tokens.push(token);
  }
  return { tokens, ...perToken(t0, c0, n) };
}

/**
 * Greedy decoding with the one-token graph of stepModel(…, true): the cache on the host ([1, KV, M, P]
 * per layer, fed without a copy), each run returning only the new columns, written in here.
 */
async function decodeStepsHostCache(s: ort.InferenceSession, c: LlamaConfig, P: number, prompt: readonly number[], n: number): Promise<Decoded> {
  const M = prompt.length + n;
  const cache: Cache = Array.from({ length: c.numLayers }, () => ({ k: new Float32Array(c.numKvHeads * M * P), v: new Float32Array(c.numKvHeads * M * P) }));
  const feeds: Record<string, ort.Tensor> = {};
  for (const [l, { k, v }] of cache.entries()) {
    feeds[`past_k.${l}`] = new ort.Tensor('float32', k, [1, c.numKvHeads, M, P]);
    feeds[`past_v.${l}`] = new ort.Tensor('float32', v, [1, c.numKvHeads, M, P]);
  }
  const step = async (token: number, t: number): Promise<number> => {
    feeds.token = i64(token);
    feeds.seqlens = i32(t, [1]);
    feeds.total = i32(t + 1, []);
    feeds.col_end = i32(t + 1, [1]);
    const out = await s.run(feeds);
    for (const [l, kv] of cache.entries()) {
      for (const [name, a] of [[`new_k.${l}`, kv.k], [`new_v.${l}`, kv.v]] as const) {
        const col = out[name].data as Float32Array; // [1, KV, 1, P]
        for (let h = 0; h < c.numKvHeads; h++) a.set(col.subarray(h * P, (h + 1) * P), (h * M + t) * P);
      }
    }
    return Number((out.next.data as BigInt64Array)[0]);
  };
  for (let t = 0; t < prompt.length - 1; t++) await step(prompt[t], t);
  const tokens: number[] = [];
  let token = prompt[prompt.length - 1];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    token = await step(token, prompt.length - 1 + i);
    tokens.push(token);
  }
  return { tokens, ...perToken(t0, c0, n) };
}

/** The cache of `cols` columns out of in-place buffers of width M, as exact [1, KV, cols, hd] tensors. */
function exactCache(c: LlamaConfig, hd: number, cache: Cache, M: number, cols: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [l, kv] of cache.entries()) {
    for (const [name, a] of [[`past_k.${l}`, kv.k], [`past_v.${l}`, kv.v]] as const) {
      const e = new Float32Array(c.numKvHeads * cols * hd);
      for (let h = 0; h < c.numKvHeads; h++) e.set(a.subarray(h * M * hd, (h * M + cols) * hd), h * cols * hd);
      feeds[name] = new ort.Tensor('float32', e, [1, c.numKvHeads, cols, hd]);
    }
  }
  return feeds;
}

/** Greedy decoding with the Loop graph: the prompt through the one-token graph (untimed), then n/K timed runs of K tokens. */
async function decodeLoop(step: ort.InferenceSession, loop: ort.InferenceSession, K: number, c: LlamaConfig, hd: number, prompt: readonly number[], n: number): Promise<Decoded> {
  const P = prompt.length;
  const run = inPlaceCache(c, hd, P);
  for (let t = 0; t < P - 1; t++) await run.step(step, prompt[t], t);
  let feeds: Record<string, ort.Tensor> = { ...exactCache(c, hd, run.cache, P, P - 1), token: i64(prompt[P - 1]), seqlens: i32(P - 1, [1]), total: i32(P, []) };
  const tokens: number[] = [];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let done = 0; done < n; done += K) {
    const out = await loop.run(feeds);
    tokens.push(...Array.from(out.tokens.data as BigInt64Array, Number));
    const next: Record<string, ort.Tensor> = { token: out.last, seqlens: i32(P - 1 + done + K, [1]), total: i32(P + done + K, []) };
    for (let l = 0; l < c.numLayers; l++) {
      next[`past_k.${l}`] = out[`present_k.${l}`];
      next[`past_v.${l}`] = out[`present_v.${l}`];
    }
    feeds = next;
  }
  return { tokens: tokens.slice(0, n), ...perToken(t0, c0, n) };
}

/**
 * Where a variant's time goes, from ONNX Runtime's profiler (1 thread): kernel time per operator
 * type, the session's run time outside its kernels (model_run − kernels), and the host's time
 * outside session.run (binding, JS), each per token over `gens` generations of n tokens.
 */
async function profileVariant(label: string, bytes: Uint8Array, decode: (s: ort.InferenceSession) => Promise<{ us: number }>, n: number, gens = 4): Promise<void> {
  const prefix = join(work, `profile-${optimisedCount++}`);
  const s = await ort.InferenceSession.create(bytes, { ...sessionOptions(1, false), enableProfiling: true, profileFilePrefix: prefix });
  let wallUs = 0;
  for (let i = 0; i < gens; i++) wallUs += (await decode(s)).us * n;
  s.endProfiling();
  await s.release();
  const file = readdirSync(work).find((f) => f.startsWith(prefix.slice(work.length + 1)) && f.endsWith('.json'))!;
  const events = JSON.parse(readFileSync(join(work, file), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, { us: number; count: number }>();
  let kernels = 0;
  let runs = 0;
  let runUs = 0;
  for (const e of events) {
    if (e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.args?.op_name) {
      const op = e.args.op_name;
      if (op === 'Loop') continue; // its body's kernels are listed themselves
      const o = byOp.get(op) ?? { us: 0, count: 0 };
      o.us += e.dur;
      o.count++;
      byOp.set(op, o);
      kernels += e.dur;
    } else if (e.cat === 'Session' && e.name === 'model_run') {
      runs++;
      runUs += e.dur;
    }
  }
  const tokens = gens * n;
  console.log(`\n${label}: ONNX Runtime profile, 1 thread, ${gens} generations of ${n} tokens (${runs} session runs; profiling adds its own cost)`);
  console.log('| operator | kernels per token | µs per token (profiled) | share of kernel time |');
  console.log('|---|---|---|---|');
  const pct = (us: number) => `${((100 * us) / kernels).toFixed(0)} %`;
  for (const [op, o] of [...byOp].sort((a, b) => b[1].us - a[1].us)) console.log(`| ${op} | ${(o.count / tokens).toFixed(2)} | ${(o.us / tokens).toFixed(1)} | ${pct(o.us)} |`);
  console.log(`| all kernels | ${([...byOp.values()].reduce((a, o) => a + o.count, 0) / tokens).toFixed(2)} | ${(kernels / tokens).toFixed(1)} | 100 % |`);
  console.log(`| session.run outside kernels | — | ${((runUs - kernels) / tokens).toFixed(1)} | — |`);
  console.log(`| host outside session.run (binding, feeds, JS) | — | ${((wallUs - runUs) / tokens).toFixed(1)} | — |`);
  console.log(`| wall (profiled) | — | ${(wallUs / tokens).toFixed(1)} | — |`);
}

// ---- 2–4. decode variants against run.c ----------------------------------------------------------

async function decodePart(): Promise<void> {
  const model = join(shared, 'data', 'stories260k', 'stories260K.bin');
  const tokenizer = join(shared, 'data', 'stories260k', 'tok512.bin');
  const { config: c, weights } = loadModel(model);
  const fused = fuseLlamaWeights(c, weights);
  const padded = padHeads(c, fused);
  const tok = Llama2cTokenizer.read(tokenizer, c.vocabSize);
  const prompt = tok.encode(values.prompt!);
  const runc = buildRunC(work, shared);

  // the reference: steer's generator, greedy, every one of newTokens tokens (no stop)
  const gens = new Map([1, 2].map((th) => [th, new LlamaGenerator(c, weights, { threads: th, bakeDecodeWeights: true })]));
  const reference = (await gens.get(2)!.generate([prompt], { maxNewTokens: newTokens, temperature: 0, stopTokens: [] }))[0].tokens;
  const steerStep = await gens.get(2)!.step('greedy', 1, 1, prompt.length + newTokens - 1);
  const steerKernels = (await kernelCounts(steerStep.exe.model)).outer;

  const stepBytes = stepModel(c, padded);
  const stepKernels = (await kernelCounts(stepBytes)).outer;
  const Ks = [16, 128].filter((K) => newTokens % K === 0);
  const loopBytes = new Map(Ks.map((K) => [K, loopModel(c, padded, K)]));
  const loopKernels = new Map(await Promise.all(Ks.map(async (K) => [K, await kernelCounts(loopBytes.get(K)!)] as const)));

  type Variant = { name: string; kernels: string; run: () => Promise<Decoded> };
  const variants: Variant[] = [];
  for (const th of [1, 2]) {
    const gen = gens.get(th)!;
    variants.push({
      name: `steer LlamaGenerator today (${th} thread${th > 1 ? 's' : ''})`,
      kernels: String(steerKernels),
      run: async () => {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const g = await gen.generate([prompt], { maxNewTokens: newTokens, temperature: 0, stopTokens: [] });
        return { tokens: g[0].tokens, ...perToken(t0, c0, newTokens) }; // prefill run included
      },
    });
  }
  const columnsBytes = stepModel(c, padded, true);
  const columnsKernels = (await kernelCounts(columnsBytes)).outer;
  for (const th of [1, 2]) {
    const step = await ort.InferenceSession.create(stepBytes, sessionOptions(th, false));
    const columns = await ort.InferenceSession.create(columnsBytes, sessionOptions(th, false));
    variants.push({ name: `lean one-token graph, cache on the host, new columns out (${th} thread${th > 1 ? 's' : ''})`, kernels: String(columnsKernels), run: () => decodeStepsHostCache(columns, c, padded.P, prompt, newTokens) });
    variants.push({ name: `lean one-token graph, cache in place (${th} thread${th > 1 ? 's' : ''})`, kernels: String(stepKernels), run: () => decodeSteps(step, c, padded.P, prompt, newTokens) });
    for (const K of Ks) {
      const loop = await ort.InferenceSession.create(loopBytes.get(K)!, sessionOptions(th, false));
      const k = loopKernels.get(K)!;
      variants.push({ name: `lean step in an ONNX Loop, K = ${K} tokens per run (${th} thread${th > 1 ? 's' : ''})`, kernels: `${k.body} + ${k.outer}/${K}`, run: () => decodeLoop(step, loop, K, c, padded.P, prompt, newTokens) });
    }
  }

  // the same step without padded heads: RoPE as two RotaryEmbedding nodes per layer (1 thread; plainStep, cache in place, prefills the Loop's prompt)
  const plain = unpaddedHeads(c, fused);
  const plainStepBytes = stepModel(c, plain);
  const plainLoopBytes = loopModel(c, plain, newTokens);
  const plainStep = await ort.InferenceSession.create(plainStepBytes, sessionOptions(1, false));
  const plainLoop = await ort.InferenceSession.create(plainLoopBytes, sessionOptions(1, false));
  const pk = await kernelCounts(plainLoopBytes);
  const plainColumnsBytes = stepModel(c, plain, true);
  const plainColumns = await ort.InferenceSession.create(plainColumnsBytes, sessionOptions(1, false));
  variants.push({ name: 'lean one-token graph, RoPE as RotaryEmbedding nodes, hd 8, cache on the host (1 thread)', kernels: String((await kernelCounts(plainColumnsBytes)).outer), run: () => decodeStepsHostCache(plainColumns, c, plain.P, prompt, newTokens) });
  variants.push({ name: `the same in an ONNX Loop, K = ${newTokens} (1 thread)`, kernels: `${pk.body} + ${pk.outer}/${newTokens}`, run: () => decodeLoop(plainStep, plainLoop, newTokens, c, plain.P, prompt, newTokens) });

  // every variant's tokens against the reference, and run.c's text, before timing
  const rc0 = runC(runc, model, tokenizer, values.prompt!, prompt.length + newTokens - 1);
  const untilBos = (ts: number[]) => (ts.includes(1) ? ts.slice(0, ts.indexOf(1) + 1) : ts);
  const runcSame = rc0.text.trim() === tok.decode([...prompt, ...untilBos(reference)]).trim();
  console.log(`\n## 2–4. greedy decoding of stories260K at batch 1: prompt "${values.prompt}" (${prompt.length} tokens), ${newTokens} new tokens`);
  console.log(`run.c's text equals the reference tokens' (up to its BOS): ${runcSame ? 'yes' : 'NO'}`);
  for (const v of variants) {
    const { tokens } = await v.run(); // also the warm-up
    const same = tokens.length === reference.length && tokens.every((t, i) => t === reference[i]);
    console.log(`${v.name}: ${same ? 'same' : 'DIFFERENT'} tokens as LlamaGenerator's ${newTokens}`);
    if (!same) throw new Error(`${v.name}: tokens differ\n  got ${tokens.join(' ')}\n  ref ${reference.join(' ')}`);
  }
  if (!runcSame) throw new Error(`run.c's text differs:\n${rc0.text}\nvs\n${tok.decode([...prompt, ...untilBos(reference)])}`);

  // rounds: every variant (the median of 3 generations), then run.c
  const perRound = 5;
  const us: number[][] = variants.map(() => []);
  const cpuUs: number[][] = variants.map(() => []);
  const runcUs: number[] = [];
  const runcCpuUs: number[] = [];
  const loads = [load()];
  const steps = prompt.length + newTokens - 1;
  for (let r = 0; r < repeats; r++) {
    for (const [i, v] of variants.entries()) {
      const xs: Decoded[] = [];
      for (let k = 0; k < perRound; k++) xs.push(await v.run());
      us[i].push(median(xs.map((x) => x.us)));
      cpuUs[i].push(median(xs.map((x) => x.cpuUs)));
    }
    // run.c times itself in whole milliseconds (≈ 6–7 ms for 128 tokens here): the mean of 10 runs' µs/token (pooledTokensPerS)
    runcUs.push(1e6 / pooledTokensPerS(Array.from({ length: 10 }, () => runC(runc, model, tokenizer, values.prompt!, steps).tokensPerS)));
    // its CPU per forward pass: task-clock of the whole run less that of the prompt alone, ÷ the passes between (medians of 5)
    const full = Array.from({ length: 5 }, () => runCCpuMs(runc, model, tokenizer, values.prompt!, steps));
    const promptOnly = Array.from({ length: 5 }, () => runCCpuMs(runc, model, tokenizer, values.prompt!, prompt.length));
    if (full.every((x) => x !== null) && promptOnly.every((x) => x !== null)) runcCpuUs.push(((median(full as number[]) - median(promptOnly as number[])) * 1000) / (steps - prompt.length));
    loads.push(load());
  }
  const runcMed = median(runcUs);
  const runcCpu = runcCpuUs.length ? median(runcCpuUs) : NaN;
  console.log(`\nmedians of ${repeats} alternating rounds (each variant: the median of ${perRound} generations; run.c: the mean of 10 runs, CPU from perf stat; load average ${loads.join(' → ')})`);
  // paired: each round's ratio against that round's run.c (both saw the same load)
  console.log('| variant | kernels per token | µs/token | tok/s | ÷ run.c tok/s | paired by round: median [min, max] | CPU µs/token | ÷ run.c by CPU |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [i, v] of variants.entries()) {
    const m = median(us[i]);
    const cm = median(cpuUs[i]);
    const paired = us[i].map((x, r) => runcUs[r] / x);
    console.log(`| ${v.name} | ${v.kernels} | ${m.toFixed(0)} [${us[i].map((x) => x.toFixed(0)).join(', ')}] | ${(1e6 / m).toFixed(0)} | ${(runcMed / m).toFixed(2)}× | ${median(paired).toFixed(2)}× [${Math.min(...paired).toFixed(2)}, ${Math.max(...paired).toFixed(2)}] | ${cm.toFixed(0)} | ${(runcCpu / cm).toFixed(2)}× |`);
  }
  console.log(`| run.c -Ofast -march=native (1 thread) | — | ${runcMed.toFixed(0)} [${runcUs.map((x) => x.toFixed(0)).join(', ')}] | ${(1e6 / runcMed).toFixed(0)} | 1.00× | — | ${runcCpu.toFixed(0)} [${runcCpuUs.map((x) => x.toFixed(0)).join(', ')}] | 1.00× |`);
  for (const g of gens.values()) await g.release();

  if (parts.has('profile')) {
    const step1 = await ort.InferenceSession.create(stepBytes, sessionOptions(1, false));
    await profileVariant('lean one-token graph', stepBytes, (s) => decodeSteps(s, c, padded.P, prompt, newTokens, false), newTokens);
    for (const K of Ks) await profileVariant(`lean step in an ONNX Loop, K = ${K}`, loopBytes.get(K)!, (s) => decodeLoop(step1, s, K, c, padded.P, prompt, newTokens), newTokens);
  }
}

try {
  console.log(`decode_floor: onnxruntime-node ${ort.env.versions.common}, ${new Date().toISOString()}, load ${load()}`);
  if (parts.has('chain') || parts.has('ops')) for (const line of await probeOps()) console.log(`  operator ${line}`);
  if (parts.has('chain')) await chainPart();
  if (parts.has('decode')) await decodePart();
} finally {
  rmSync(work, { recursive: true, force: true });
}
