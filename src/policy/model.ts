// A policy: Llama weights + config + the codec that formats prompts and responses. Saved and
// loaded as a steer/HF model directory (config.json, model.safetensors, tokenizer files, steer.json)
// so every stage (SFT → RM → REINFORCE/DPO → evaluation) hands the next one a directory.
// Random initialisation (for the toy world's from-scratch base policy) is src/nn/init.ts (HF's
// LlamaPreTrainedModel._init_weights: every projection and the embedding ~ N(0, 0.02²), norms 1).
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { loadModel, saveModelDir } from '../io/checkpoint.js';
import type { TypedArray } from '../graph/index.js';
import { CharTokenizer } from '../text/char.js';
import { checkLlamaConfig, type LlamaConfig } from '../nn/config.js';
import { expectedWeightShapes, type LlamaWeights } from '../nn/weights.js';
import { initLlamaWeights } from '../nn/init.js';
import { CharCodec, loadCodec, type PolicyCodec } from './codec.js';

export interface PolicyModel {
  config: LlamaConfig;
  weights: LlamaWeights;
  codec: PolicyCodec;
  /** Where it was loaded from (a directory), or a description. */
  source: string;
}

/** Load a policy from a model directory; the tokenizer is the one saved beside it unless `tokenizer` is given. */
export function loadPolicy(dir: string, opts: { tokenizer?: string } = {}): PolicyModel {
  const m = loadModel(dir);
  const tokPath = opts.tokenizer ?? m.tokenizerPath;
  if (tokPath === null) {
    throw new UserError({ what: 'no tokenizer beside the model', where: dir, expected: 'tokenizer.json or tokenizer.bin in the model directory', fix: 'pass --tokenizer <file>' });
  }
  const codec = loadCodec(tokPath, { vocabSize: m.config.vocabSize, eosIds: m.config.eosTokenIds });
  if (codec.vocabSize > m.config.vocabSize) {
    throw new UserError({ what: 'the tokenizer has more tokens than the model', where: tokPath, expected: `at most ${m.config.vocabSize} tokens (config.json vocab_size)`, received: `${codec.vocabSize}`, fix: 'use the tokenizer saved with this model' });
  }
  return { config: m.config, weights: m.weights, codec, source: dir };
}

/** Save a policy as a model directory (atomically); `meta` goes into steer.json. */
export function savePolicy(dir: string, p: PolicyModel, meta: Record<string, unknown> = {}): string {
  const save = p.codec.save;
  return saveModelDir(dir, {
    config: p.config,
    weights: p.weights,
    tokenizerFrom: 'copyFrom' in save ? save.copyFrom : null,
    extraFiles: 'files' in save ? save.files : {},
    meta: { source: p.source, ...meta },
  });
}

/** Either a loaded policy or a directory to load it from. */
export function resolvePolicy(p: PolicyModel | string, opts: { tokenizer?: string } = {}): PolicyModel {
  return typeof p === 'string' ? loadPolicy(p, opts) : p;
}

export interface ToyPolicySize {
  hiddenSize?: number;
  intermediateSize?: number;
  numLayers?: number;
  numHeads?: number;
  numKvHeads?: number;
  maxPositionEmbeddings?: number;
}

/**
 * The toy world's policy architecture: a char-level Llama (≈ 0.1 M parameters by default; GQA,
 * tied embeddings), sized so SFT + REINFORCE + DPO fit the demo's minutes on two cores.
 */
export function toyPolicyConfig(size: ToyPolicySize = {}, tok = new CharTokenizer()): LlamaConfig {
  const hidden = size.hiddenSize ?? 64;
  const heads = size.numHeads ?? 4;
  return checkLlamaConfig(
    {
      vocabSize: tok.vocabSize,
      hiddenSize: hidden,
      intermediateSize: size.intermediateSize ?? 176,
      numLayers: size.numLayers ?? 2,
      numHeads: heads,
      numKvHeads: size.numKvHeads ?? 2,
      headDim: hidden / heads,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      ropeScaling: null,
      maxPositionEmbeddings: size.maxPositionEmbeddings ?? 128,
      tieWordEmbeddings: true,
      bosTokenId: tok.bosId,
      eosTokenIds: [tok.eosId],
    },
    'toyPolicyConfig',
  );
}

/** Random weights for `config` (HF Llama init, src/nn/init.ts), seeded from (seed, "policy/init"). */
export function randomLlamaWeights(config: LlamaConfig, seed: number, std = 0.02): LlamaWeights {
  return initLlamaWeights(config, Rng.derive(seed, 'policy/init'), { std });
}

/** A fresh toy-world policy: char codec, toyPolicyConfig, random weights. */
export function initToyPolicy(seed: number, size: ToyPolicySize = {}): PolicyModel {
  const codec = new CharCodec();
  const config = toyPolicyConfig(size, codec.tokenizer);
  return { config, weights: randomLlamaWeights(config, seed), codec, source: `random init (seed ${seed})` };
}

/** Flat parameter arrays by HF name (what a TrainState holds); not copied. */
export function weightArrays(w: LlamaWeights): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of w) out[k] = t.data;
  return out;
}

/** LlamaWeights from a TrainState's params (shapes from the config); not copied. */
export function weightsFromArrays(config: LlamaConfig, params: Readonly<Record<string, TypedArray>>): LlamaWeights {
  const w: LlamaWeights = new Map();
  for (const [name, shape] of expectedWeightShapes(config)) {
    const a = params[name];
    if (!(a instanceof Float32Array)) throw new UserError({ what: `parameter ${name} is missing or not float32`, where: 'weightsFromArrays', fix: 'train states must hold every weight of the config' });
    w.set(name, { shape: [...shape], data: a });
  }
  return w;
}

/** The model directory a trainer writes at the end of a run. */
export function finalModelDir(runDir: string): string {
  return join(runDir, 'model');
}
