// compile(): a traced graph → an ONNX Runtime session behind a typed run(feeds) → outputs.
// Sessions are cached by (serialised model, threads, device), so re-tracing the same step graph
// (same shapes) costs a serialisation, not a new session. One session.run per call.
// compileScan(): K iterations of a graph in one run (an ONNX Scan), the carried state kept inside
// the runtime between iterations.
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { UserError } from '../util/errors.js';
import { type DType, type TypedArray, ONNX_DTYPE, dtypeOfArray } from '../graph/dtype.js';
import onnxProto from 'onnx-proto';
import { exportOnnx } from '../graph/onnx.js';
import { fmtShape, sizeOf } from '../graph/shape.js';
import type { Graph, Tensor } from '../graph/tensor.js';

const { onnx } = onnxProto;

export type Device = 'cpu' | 'cuda';

export interface CompileOptions {
  /** Graph inputs, in any order; each is fed by its name on every run. */
  inputs: readonly Tensor[];
  /** Output name → tensor. Names must differ from input names. */
  outputs: Readonly<Record<string, Tensor>>;
  /** Intra-op threads (default: the machine's available parallelism; use physical cores). */
  threads?: number;
  /** Execution provider: 'cpu' (default) or 'cuda' (needs onnxruntime-node installed with CUDA binaries). */
  device?: Device;
  /** ONNX Runtime graph optimisation level (default 'all'). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Model name in the proto and in errors. */
  name?: string;
  /** Write an ONNX Runtime profile (JSON, per-node times) with this file prefix; see Executable.endProfiling. */
  profile?: string;
  /**
   * Let idle intra-op threads spin (ONNX Runtime's default, true): lowest latency on a quiet
   * machine; false yields the cores between kernels (like OMP_WAIT_POLICY=PASSIVE), which is
   * faster when other processes compete for the cores.
   */
  spinning?: boolean;
  /**
   * ONNX Runtime's CPU memory arena (default true). false returns activation memory to the
   * system allocator after each run: lower peak RSS for big graphs, at some speed cost.
   */
  memoryArena?: boolean;
  /**
   * ONNX Runtime's memory pattern (default true): from the second run, activations come from one
   * block of the planned peak, allocated beside the first run's arena blocks (the arena never
   * shrinks), so peak RSS holds about twice the activations. false: per-tensor arena allocations.
   */
  memoryPattern?: boolean;
  /** ONNX Runtime session config entries, e.g. { 'session.intra_op.allow_spinning': '0' }. */
  sessionConfig?: Readonly<Record<string, string>>;
  /** Frozen weights (graph initializers) as overridable defaults: one copy in the session, not folded or prepacked (see exportOnnx). */
  overridableInitializers?: boolean;
  /**
   * Frozen weights (graph initializers) fed from their host arrays on every run instead of stored
   * in the session: the session holds no copy of them (inputs are passed to ONNX Runtime without
   * copying, a few µs per tensor), so the one host copy serves every session that reads it, and
   * sessions of the same graph with different weights are shared. Like overridableInitializers,
   * nothing is folded or prepacked. Takes precedence over overridableInitializers and externalData.
   */
  feedInitializers?: boolean;
  /** Initializers as ONNX external data in a temporary weights file (default: when they pass EXTERNAL_DATA_BYTES). */
  externalData?: boolean;
  /** Save the model as optimised by ONNX Runtime to this path (for inspection). */
  optimizedModelPath?: string;
  /**
   * Input name → axis → a symbolic size: that input's size along the axis is given at each run
   * (run(feeds, dims)), e.g. { 'cache_v.0': { 2: 'columns' } }. The graph is traced at one size and
   * must not depend on it otherwise (see exportOnnx's dynamicAxes).
   */
  dynamicAxes?: Readonly<Record<string, Readonly<Record<number, string>>>>;
}

export interface IOSpec {
  name: string;
  /** the traced shape; along a dynamic axis, the size of each run comes from run()'s dims */
  shape: readonly number[];
  dtype: DType;
  /** axis → symbolic size (compile's dynamicAxes) */
  dynamic?: Readonly<Record<number, string>>;
}

const sessionCache = new Map<string, Promise<ort.InferenceSession>>();
/** Executables holding each cached session: compiling the same graph twice shares one session, freed when the last holder releases it. */
const holders = new Map<ort.InferenceSession, number>();

/** Number of distinct sessions created so far (for tests of the cache). */
export function compiledSessionCount(): number {
  return sessionCache.size;
}

/** Drop every cached session (frees native memory held by ONNX Runtime). */
export async function clearCompileCache(): Promise<void> {
  const all = [...sessionCache.values()];
  sessionCache.clear();
  holders.clear();
  for (const p of all) {
    try {
      await (await p).release();
    } catch {
      // a session that failed to build has nothing to release
    }
  }
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

export class Executable {
  readonly inputs: readonly IOSpec[];
  readonly outputs: readonly IOSpec[];
  private readonly byName: Map<string, IOSpec>;

  constructor(
    private readonly session: ort.InferenceSession,
    inputs: IOSpec[],
    outputs: IOSpec[],
    /** Serialises the model again on demand (the session does not need the bytes once built). */
    private readonly serialise: () => Uint8Array,
    readonly nodeCount: number,
    readonly name: string,
    /** Frozen weights fed on every run from these host arrays (compile's feedInitializers), by input name. */
    private readonly fixedFeeds: ReadonlyMap<string, { data: TypedArray; shape: readonly number[] }> = new Map(),
  ) {
    this.inputs = inputs;
    this.outputs = outputs;
    this.byName = new Map(inputs.map((s) => [s.name, s]));
  }

  /**
   * The serialised ONNX model (write it out with writeFileAtomic to inspect or deploy). Re-exported
   * from the traced graph on each access rather than held: for a graph with frozen weights the bytes
   * are a full copy of them. With feedInitializers the frozen weights are inputs of this model, not in it.
   */
  get model(): Uint8Array {
    return this.serialise();
  }

  /**
   * One session.run. Feeds are passed to ONNX Runtime without copying (except int32 → int64
   * widening for int64 inputs given as Int32Array); every output comes back as a new typed array.
   * dims: the size of each symbolic axis (compile's dynamicAxes) for this run.
   */
  async run(feeds: Readonly<Record<string, TypedArray>>, dims: Readonly<Record<string, number>> = {}): Promise<Record<string, TypedArray>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of this.fixedFeeds) ortFeeds[name] = new ort.Tensor(dtypeOfArray(t.data), t.data, t.shape as number[]);
    for (const spec of this.inputs) {
      const shape = spec.dynamic ? this.runShape(spec, dims) : spec.shape;
      ortFeeds[spec.name] = new ort.Tensor(spec.dtype, this.check(spec, feeds[spec.name], shape), shape as number[]);
    }
    for (const k of Object.keys(feeds)) {
      if (!this.byName.has(k)) {
        throw new UserError({ what: `unknown feed "${k}"`, where: `${this.name}.run(feeds.${k})`, expected: `one of ${this.inputs.map((s) => s.name).join(', ')}`, received: k, fix: 'feed exactly the inputs listed at compile time' });
      }
    }
    const res = await this.session.run(ortFeeds);
    const out: Record<string, TypedArray> = {};
    for (const spec of this.outputs) out[spec.name] = res[spec.name].data as TypedArray;
    return out;
  }

  /** spec's shape for this run: each dynamic axis at its size in dims */
  private runShape(spec: IOSpec, dims: Readonly<Record<string, number>>): number[] {
    return spec.shape.map((d, axis) => {
      const sym = spec.dynamic![axis];
      if (sym === undefined) return d;
      const n = dims[sym];
      if (!Number.isInteger(n) || n < 1) {
        throw new UserError({ what: `no size for the dynamic axis "${sym}"`, where: `${this.name}.run(dims.${sym})`, expected: `a positive integer (axis ${axis} of feed "${spec.name}")`, received: String(n), fix: `pass run(feeds, { ${sym}: size })` });
      }
      return n;
    });
  }

  private check(spec: IOSpec, v: TypedArray | undefined, shape: readonly number[] = spec.shape): TypedArray {
    const where = `${this.name}.run(feeds.${spec.name})`;
    if (v === undefined) {
      throw new UserError({ what: `missing feed "${spec.name}"`, where, expected: `${spec.dtype}${fmtShape(spec.shape)}`, received: 'nothing', fix: 'feed every input listed at compile time' });
    }
    if (!ArrayBuffer.isView(v)) {
      throw new UserError({ what: `feed "${spec.name}" is not a typed array`, where, expected: `a typed array for ${spec.dtype}`, received: typeof v });
    }
    let arr = v;
    const got = dtypeOfArray(v);
    if (got !== spec.dtype) {
      if (spec.dtype === 'int64' && v instanceof Int32Array) arr = BigInt64Array.from(v, (x) => BigInt(x));
      else {
        const want = { float32: 'Float32Array', float64: 'Float64Array', int64: 'BigInt64Array (or Int32Array)', int32: 'Int32Array', bool: 'Uint8Array' }[spec.dtype];
        throw new UserError({ what: `feed "${spec.name}" has the wrong element type`, where, expected: `${want} (${spec.dtype})`, received: v.constructor.name, fix: `convert it, e.g. ${want.split(' ')[0]}.from(values)` });
      }
    }
    const n = sizeOf(shape);
    if (arr.length !== n) {
      throw new UserError({ what: `feed "${spec.name}" has the wrong length`, where, expected: `${n} elements (shape ${fmtShape(shape)})`, received: `${arr.length} elements`, fix: spec.dynamic ? 'size the feed by its dynamic axes\' sizes in dims' : 'static shapes: trace a new graph for a new shape' });
    }
    return arr;
  }

  /** Stop profiling (compile with `profile`) and flush the profile file. */
  endProfiling(): void {
    (this.session as unknown as { endProfiling(): void }).endProfiling();
  }

  private released = false;

  /** Free the native session (also removes it from the compile cache) once no other executable shares it. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const n = (holders.get(this.session) ?? 1) - 1;
    if (n > 0) {
      holders.set(this.session, n);
      return;
    }
    holders.delete(this.session);
    for (const [k, p] of sessionCache) {
      if ((await p) === this.session) sessionCache.delete(k);
    }
    await this.session.release();
  }
}

/** cachedSession, counted as one more holder (Executable.release frees the session when the last holder lets go). */
async function holdSession(model: Uint8Array | string, digest: string, opts: Omit<CompileOptions, 'inputs' | 'outputs'>): Promise<ort.InferenceSession> {
  const session = await cachedSession(model, digest, opts);
  holders.set(session, (holders.get(session) ?? 0) + 1);
  return session;
}

/**
 * The session for a model (its bytes, or the path of a model whose weights lie beside it) with
 * these options: opened once, then shared (sessionCache), keyed by `digest` (the model's and its
 * weights' SHA-256) and the options.
 */
function cachedSession(model: Uint8Array | string, digest: string, opts: Omit<CompileOptions, 'inputs' | 'outputs'>): Promise<ort.InferenceSession> {
  const threads = opts.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new UserError({ what: 'invalid thread count', where: 'compile(threads)', expected: 'a positive integer (physical cores is fastest)', received: String(threads) });
  }
  const device = opts.device ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') {
    throw new UserError({ what: 'unknown device', where: 'compile(device)', expected: "'cpu' or 'cuda'", received: String(device) });
  }
  const optimization = opts.optimization ?? 'all';
  const sessionConfig = { ...(opts.spinning === false ? { 'session.intra_op.allow_spinning': '0' } : {}), ...opts.sessionConfig };
  const extra = { profile: opts.profile, sessionConfig: Object.keys(sessionConfig).length ? sessionConfig : undefined, optimizedModelPath: opts.optimizedModelPath, memoryArena: opts.memoryArena, memoryPattern: opts.memoryPattern };
  const key = digest + `|${threads}|${device}|${optimization}|${JSON.stringify(extra)}`;
  let p = sessionCache.get(key);
  if (!p) {
    p = createSession(model, threads, device, optimization, extra);
    sessionCache.set(key, p);
    p.catch(() => sessionCache.delete(key));
  }
  return p;
}

/** Serialise the subgraph computing `outputs` from `inputs` and open (or reuse) an ONNX Runtime session for it. */
export async function compile(graph: Graph, opts: CompileOptions): Promise<Executable> {
  const name = opts.name ?? 'graph';
  const spec = { inputs: opts.inputs, outputs: opts.outputs, name, overridableInitializers: opts.overridableInitializers, feedInitializers: opts.feedInitializers, dynamicAxes: opts.dynamicAxes };
  for (const [input, axes] of Object.entries(opts.dynamicAxes ?? {})) {
    const t = opts.inputs.find((x) => x.attrs.name === input);
    for (const axis of Object.keys(axes).map(Number)) {
      if (!t || !Number.isInteger(axis) || axis < 0 || axis >= t.rank) {
        throw new UserError({ what: `dynamic axis ${axis} of "${input}" is not an axis of a listed input`, where: `compile(dynamicAxes.${input})`, expected: t ? `an axis in [0, ${t.rank})` : `one of the inputs ${opts.inputs.map((x) => x.attrs.name).join(', ')}`, received: String(axis) });
      }
    }
  }
  const hash = createHash('sha256');
  // Frozen weights past EXTERNAL_DATA_BYTES go to a weights file beside the model (protobuf caps a
  // model at 2 GB); ONNX Runtime loads it by path, and the folder is removed once the session holds them.
  const external = !opts.feedInitializers && (opts.externalData ?? initializerBytes(graph) >= EXTERNAL_DATA_BYTES);
  const dir = external ? mkdtempSync(join(tmpdir(), 'steer-onnx-')) : null;
  let exported: ReturnType<typeof exportOnnx>;
  if (dir) {
    const fd = openSync(join(dir, 'weights.bin'), 'w');
    let pos = 0;
    const write = (b: Uint8Array): number => {
      const pad = (4096 - (pos % 4096)) % 4096; // page-aligned offsets: ONNX Runtime can map them
      if (pad) pos += writeSync(fd, new Uint8Array(pad));
      const offset = pos;
      for (let done = 0; done < b.byteLength;) {
        const chunk = b.subarray(done, done + Math.min(b.byteLength - done, 1 << 30));
        hash.update(chunk);
        done += writeSync(fd, chunk);
      }
      pos += b.byteLength;
      return offset;
    };
    try {
      exported = exportOnnx(graph, { ...spec, externalData: { location: 'weights.bin', minBytes: 1024, write } });
    } finally {
      closeSync(fd);
    }
    writeFileSync(join(dir, 'model.onnx'), exported.bytes);
  } else exported = exportOnnx(graph, spec);
  let session: ort.InferenceSession;
  try {
    session = await holdSession(dir ? join(dir, 'model.onnx') : exported.bytes, hash.update(exported.bytes).digest('hex'), opts);
  } finally {
    if (dir) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // a platform that cannot remove a mapped file leaves the temporary folder behind
      }
    }
  }
  const inputs = opts.inputs.map((t) => ({ name: t.attrs.name as string, shape: t.shape, dtype: t.dtype, dynamic: opts.dynamicAxes?.[t.attrs.name as string] }));
  const outputs = Object.entries(opts.outputs).map(([k, t]) => ({ name: k, shape: t.shape, dtype: t.dtype }));
  const fixed = new Map(exported.fedInitializers.map((t) => [t.attrs.name as string, { data: t.attrs.data as TypedArray, shape: t.shape }]));
  return new Executable(session, inputs, outputs, () => exportOnnx(graph, spec).bytes, exported.nodeCount, name, fixed);
}

export interface ScanCompileOptions extends Omit<CompileOptions, 'inputs' | 'outputs'> {
  /** Iterations per run (≥ 1). */
  steps: number;
  /**
   * State carried from one iteration to the next: [input, next value, output name]. The input is
   * fed once per run (its name, its shape); after the last iteration the final value comes back
   * under the output name. Inside the run the state never crosses the Node binding.
   */
  carried: readonly (readonly [Tensor, Tensor, string])[];
  /** Per-iteration inputs: fed stacked, shape [steps, ...input shape], under the input's name. */
  perStep: readonly Tensor[];
  /** Per-iteration outputs: returned stacked, shape [steps, ...shape], under their names. */
  perStepOutputs: Readonly<Record<string, Tensor>>;
}

/**
 * Compile `steps` iterations of a graph as one ONNX Scan: one session.run does all of them, the
 * carried state moving from one iteration to the next inside ONNX Runtime (no copy through the
 * Node binding, ~0.55 ms per MB, which for a training step's parameters and Adam moments is a
 * large share of the step). The body is the graph exported exactly as compile() would export
 * it; the outer model is one Scan node over it.
 */
export async function compileScan(graph: Graph, opts: ScanCompileOptions): Promise<Executable> {
  const name = opts.name ?? 'scan';
  const K = opts.steps;
  if (!Number.isInteger(K) || K < 1) {
    throw new UserError({ what: 'invalid number of steps per run', where: 'compileScan(steps)', expected: 'a positive integer', received: String(K) });
  }
  if (opts.perStep.length === 0) {
    throw new UserError({ what: 'a scan needs at least one per-step input', where: 'compileScan(perStep)', expected: 'one or more inputs fed stacked as [steps, …]', received: '[]', fix: 'feed e.g. the step count or the learning rate per step' });
  }
  const carriedIn = opts.carried.map(([x]) => x);
  const bodyOutputs: Record<string, Tensor> = {};
  for (const [, next, outName] of opts.carried) bodyOutputs[outName] = next;
  for (const [k, t] of Object.entries(opts.perStepOutputs)) {
    if (k in bodyOutputs) throw new UserError({ what: `output name "${k}" is used twice`, where: `compileScan(perStepOutputs.${k})`, expected: 'names distinct from the carried outputs', received: k });
    bodyOutputs[k] = t;
  }
  const body = exportOnnx(graph, { inputs: [...carriedIn, ...opts.perStep], outputs: bodyOutputs, name: `${name}_body` });
  const bodyModel = onnx.ModelProto.decode(body.bytes);
  const bodyGraph = bodyModel.graph!;
  // Body inputs and outputs get a prefix so that no body name shadows an outer one.
  const rename = new Map<string, string>();
  for (const n of [...body.inputNames, ...body.outputNames]) rename.set(n, `scan/${n}`);
  const re = (n: string): string => rename.get(n) ?? n;
  for (const node of bodyGraph.node ?? []) {
    node.input = (node.input ?? []).map(re);
    node.output = (node.output ?? []).map(re);
  }
  for (const v of [...(bodyGraph.input ?? []), ...(bodyGraph.output ?? [])]) v.name = re(v.name!);
  const info = (n: string, t: Tensor, lead: number[]) => onnx.ValueInfoProto.create({
    name: n,
    type: { tensorType: { elemType: ONNX_DTYPE[t.dtype], shape: { dim: [...lead, ...t.shape].map((d) => ({ dimValue: d })) } } },
  });
  const inName = (t: Tensor): string => t.attrs.name as string;
  const T = onnx.AttributeProto.AttributeType;
  const scanNode = onnx.NodeProto.create({
    opType: 'Scan',
    name: 'scan',
    input: [...carriedIn.map(inName), ...opts.perStep.map(inName)],
    output: Object.keys(bodyOutputs),
    attribute: [
      onnx.AttributeProto.create({ name: 'body', type: T.GRAPH, g: bodyGraph }),
      onnx.AttributeProto.create({ name: 'num_scan_inputs', type: T.INT, i: opts.perStep.length }),
    ],
  });
  const outer = onnx.ModelProto.create({
    irVersion: bodyModel.irVersion,
    producerName: 'steer',
    opsetImport: bodyModel.opsetImport,
    graph: {
      name,
      node: [scanNode],
      input: [...carriedIn.map((t) => info(inName(t), t, [])), ...opts.perStep.map((t) => info(inName(t), t, [K]))],
      output: [...opts.carried.map(([, t, n]) => info(n, t, [])), ...Object.entries(opts.perStepOutputs).map(([n, t]) => info(n, t, [K]))],
    },
  });
  const bytes = onnx.ModelProto.encode(outer).finish();
  const session = await holdSession(bytes, createHash('sha256').update(bytes).digest('hex'), opts);
  const inputs = [...carriedIn.map((t) => ({ name: inName(t), shape: t.shape, dtype: t.dtype })), ...opts.perStep.map((t) => ({ name: inName(t), shape: [K, ...t.shape], dtype: t.dtype }))];
  const outputs = [...opts.carried.map(([, t, n]) => ({ name: n, shape: t.shape, dtype: t.dtype })), ...Object.entries(opts.perStepOutputs).map(([n, t]) => ({ name: n, shape: [K, ...t.shape], dtype: t.dtype }))];
  return new Executable(session, inputs, outputs, () => bytes, body.nodeCount + 1, name);
}

interface ExtraOptions {
  profile?: string;
  sessionConfig?: Readonly<Record<string, string>>;
  optimizedModelPath?: string;
  memoryArena?: boolean;
  memoryPattern?: boolean;
}

/** Bytes of every initializer in the graph (live or not): the frozen weights a compiled model would carry. */
function initializerBytes(graph: Graph): number {
  let n = 0;
  for (const t of graph.nodes) if (t.op === 'Initializer') n += (t.attrs.data as TypedArray).byteLength;
  return n;
}

/** Above this many bytes of initializers, compile stores them as ONNX external data (protobuf's limit is 2 GB). */
export const EXTERNAL_DATA_BYTES = 1 << 30;

async function createSession(model: Uint8Array | string, threads: number, device: Device, optimization: CompileOptions['optimization'], extra: ExtraOptions): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: optimization,
    logSeverityLevel: 3,
  };
  if (extra.profile) {
    options.enableProfiling = true;
    options.profileFilePrefix = extra.profile;
  }
  if (extra.optimizedModelPath) options.optimizedModelFilePath = extra.optimizedModelPath;
  if (extra.memoryArena === false) options.enableCpuMemArena = false;
  if (extra.memoryPattern === false) options.enableMemPattern = false;
  if (extra.sessionConfig) {
    // The Node binding takes nested objects and joins keys with '.': { session: { 'intra_op.allow_spinning': '0' } }.
    const nested: Record<string, Record<string, string>> = {};
    for (const [k, v] of Object.entries(extra.sessionConfig)) {
      const dot = k.indexOf('.');
      (nested[k.slice(0, dot)] ??= {})[k.slice(dot + 1)] = v;
    }
    options.extra = nested;
  }
  if (device === 'cuda') {
    const backends = ort.listSupportedBackends().map((b) => b.name);
    if (!backends.includes('cuda')) {
      throw new UserError({
        what: 'the CUDA execution provider is not installed',
        where: "compile(device: 'cuda')",
        expected: 'onnxruntime-node with its CUDA binaries',
        received: `execution providers: ${backends.join(', ')}`,
        fix: 'reinstall with CUDA: `npm install onnxruntime-node --onnxruntime-node-install=cuda12` (needs CUDA 12 and cuDNN 9), or use the default device cpu',
      });
    }
  }
  try {
    return typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (e) {
    throw new Error(`ONNX Runtime rejected the model: ${(e as Error).message}`, { cause: e });
  }
}
