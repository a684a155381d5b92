// ExPO, model extrapolation (Zheng et al. 2024, "Weak-to-Strong Extrapolation Expedites Alignment";
// HelpSteer2-Preference §3.3 uses α = 1.52 on reward models):
//   θ = θ₁ + α (θ₂ − θ₁)      over every tensor (trunk, head, untied LM head); θ₁ weak, θ₂ strong.
// Evaluated as (1 − α)·θ₁ + α·θ₂ in float64, then rounded to float32: the same value, but α = 0
// gives θ₁ and α = 1 gives θ₂ bit for bit (θ₁ + (θ₂ − θ₁) can round away from θ₂).
// expo() streams: it never loads a model. Both directories are opened (every shard header
// validated, configs, slots and every tensor's shape compared) before anything is written; then
// each tensor is read, extrapolated and written in chunks of CHUNK_ELEMENTS values, in the strong
// model's on-disk dtype and shard size. Peak memory is a few chunks (~100 MB), whatever the model
// size — a 70B checkpoint does not need 2 × 140 GB of RAM.
import { UserError } from '../util/errors.js';
import type { LlamaConfig } from '../nn/config.js';
import type { LlamaWeights } from '../nn/weights.js';
import { toHfLlamaConfig } from '../io/hfconfig.js';
import { saveModelDirWith } from '../io/checkpoint.js';
import { writeModelWeights } from '../io/sharded.js';
import { openRewardModel, sequenceClassificationConfig, type OpenRewardModel, type RewardModel } from './model.js';

export const EXPO_ALPHA = 1.52;

/** Elementwise (1 − α)·weak + α·strong, float64 arithmetic, float32 result. */
export function extrapolate(weak: Float32Array, strong: Float32Array, alpha: number): Float32Array {
  if (weak.length !== strong.length) throw new RangeError(`extrapolate: lengths differ (${weak.length} vs ${strong.length})`);
  const out = new Float32Array(weak.length);
  const a = alpha;
  const b = 1 - alpha;
  for (let i = 0; i < out.length; i++) out[i] = b * weak[i] + a * strong[i];
  return out;
}

/** The checks both forms of ExPO make before any work: α finite, one architecture, the same slots. */
function checkExpoPair(weak: { config: LlamaConfig; attributes: readonly string[] }, strong: { config: LlamaConfig; attributes: readonly string[] }, alpha: number, names: { weak: string; strong: string }): void {
  if (!Number.isFinite(alpha)) throw new UserError({ what: 'alpha must be a finite number', where: '--alpha', received: String(alpha), fix: `use e.g. --alpha ${EXPO_ALPHA} (the paper's value)` });
  const cw = JSON.stringify(toHfLlamaConfig(weak.config));
  const cs = JSON.stringify(toHfLlamaConfig(strong.config));
  if (cw !== cs) {
    throw new UserError({ what: 'the two models have different architectures', where: `${names.weak} vs ${names.strong}`, expected: 'the same config.json (ExPO extrapolates between checkpoints of one model)', received: `${cw.slice(0, 120)}… vs ${cs.slice(0, 120)}…`, fix: 'pass two reward models trained from the same starting model' });
  }
  if (weak.attributes.join() !== strong.attributes.join()) {
    throw new UserError({ what: 'the two reward heads have different slots', where: `${names.weak} vs ${names.strong}`, expected: strong.attributes.join(', '), received: weak.attributes.join(', '), fix: 'initialise the strong model from the weak one (e.g. Scaled BT with --init of the regression model) so the heads match' });
  }
}

/** The extrapolated model in memory (the strong model's tokenizer, slots and merge weights). */
export function expoModel(weak: RewardModel, strong: RewardModel, alpha: number, names = { weak: 'weak', strong: 'strong' }): RewardModel {
  checkExpoPair({ config: weak.config, attributes: weak.info.attributes }, { config: strong.config, attributes: strong.info.attributes }, alpha, names);
  const weights: LlamaWeights = new Map();
  for (const [name, s] of strong.weights) {
    const w = weak.weights.get(name);
    if (!w) throw new UserError({ what: `the weak model has no tensor ${name}`, where: names.weak, fix: 'pass two checkpoints of the same model' });
    weights.set(name, { shape: [...s.shape], data: extrapolate(w.data, s.data, alpha) });
  }
  return {
    config: strong.config,
    weights,
    head: { weight: extrapolate(weak.head.weight, strong.head.weight, alpha), bias: extrapolate(weak.head.bias, strong.head.bias, alpha) },
    info: { ...strong.info, loss: null, initFrom: names.weak, expo: { weak: names.weak, strong: names.strong, alpha } },
    encoder: strong.encoder,
  };
}

/** Values per chunk when streaming (16 MB of float32). */
export const CHUNK_ELEMENTS = 4 << 20;

export interface ExpoOptions {
  /** values per read/extrapolate/write chunk (default CHUNK_ELEMENTS) */
  chunkElements?: number;
  /** called after each tensor with the values done so far and the total */
  onProgress?: (done: number, total: number) => void;
}

/**
 * ExPO on two reward model directories, streamed tensor by tensor (see the file header); writes
 * outDir atomically (the strong model's dtypes and shard size) and returns it.
 */
export function expo(weakDir: string, strongDir: string, alpha: number = EXPO_ALPHA, outDir: string, opts: ExpoOptions = {}): string {
  const names = { weak: weakDir, strong: strongDir };
  let weak: OpenRewardModel | null = null;
  let strong: OpenRewardModel | null = null;
  try {
    weak = openRewardModel(weakDir);
    strong = openRewardModel(strongDir);
    const w = weak;
    const s = strong;
    checkExpoPair({ config: w.config, attributes: w.info.attributes }, { config: s.config, attributes: s.info.attributes }, alpha, names);
    // every tensor of either side, with equal shapes (a bias stored on one side only reads as zeros on the other)
    const optional = new Set(['score.bias']);
    for (const n of new Set([...s.names, ...w.names])) {
      const inW = w.names.includes(n);
      const inS = s.names.includes(n);
      if (!(inW && inS) && !optional.has(n)) {
        throw new UserError({ what: `the ${inW ? 'strong' : 'weak'} model has no tensor ${n}`, where: inW ? strongDir : weakDir, fix: 'pass two checkpoints of the same model' });
      }
      if (inW && inS && w.entry(n).shape.join() !== s.entry(n).shape.join()) {
        throw new UserError({ what: `tensor ${n} has different shapes`, where: `${weakDir} vs ${strongDir}`, expected: `[${s.entry(n).shape.join(', ')}]`, received: `[${w.entry(n).shape.join(', ')}]`, fix: 'pass two checkpoints of the same model' });
      }
    }
    const order = [...s.names, ...w.names.filter((n) => !s.names.includes(n))];
    const shapeOf = (n: string) => (s.names.includes(n) ? s.entry(n) : w.entry(n)).shape;
    const count = (n: string) => shapeOf(n).reduce((a, b) => a * b, 1);
    const total = order.reduce((a, n) => a + count(n), 0);
    const step = opts.chunkElements ?? CHUNK_ELEMENTS;
    let done = 0;
    function* chunks(n: string): Generator<Float32Array> {
      const size = count(n);
      for (let start = 0; start < size; start += step) {
        const k = Math.min(step, size - start);
        const a = w.names.includes(n) ? w.readSlice(n, start, k) : new Float32Array(k);
        const b = s.names.includes(n) ? s.readSlice(n, start, k) : new Float32Array(k);
        yield extrapolate(a, b, alpha);
      }
      done += size;
      opts.onProgress?.(done, total);
    }
    const info = { ...s.info, loss: null, initFrom: weakDir, expo: { weak: weakDir, strong: strongDir, alpha } };
    const files = s.encoder.files();
    return saveModelDirWith(
      outDir,
      {
        config: s.config,
        withoutLmHead: true,
        hfConfig: sequenceClassificationConfig(info.attributes, s.padTokenId),
        tokenizerFrom: files.tokenizerFrom ?? null,
        extraFiles: files.extraFiles ?? {},
        meta: { source: `expo(${weakDir}, ${strongDir}, alpha ${alpha})`, reward: info },
      },
      (tmp) => {
        writeModelWeights(tmp, order.map((n) => ({ name: n, shape: shapeOf(n) })), chunks, {
          dtype: (n) => (s.names.includes(n) ? s.entry(n).dtype : w.entry(n).dtype),
          maxShardBytes: Math.max(1, s.largestFileBytes),
        });
      },
    );
  } finally {
    weak?.close();
    strong?.close();
  }
}
