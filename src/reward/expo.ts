// ExPO, model extrapolation (Zheng et al. 2024, "Weak-to-Strong Extrapolation Expedites Alignment";
// HelpSteer2-Preference §3.3 uses α = 1.52 on reward models):
//   θ = θ₁ + α (θ₂ − θ₁)      over every tensor (trunk, head, untied LM head); θ₁ weak, θ₂ strong.
// Evaluated as (1 − α)·θ₁ + α·θ₂ in float64, then rounded to float32: the same value, but α = 0
// gives θ₁ and α = 1 gives θ₂ bit for bit (θ₁ + (θ₂ − θ₁) can round away from θ₂).
import { UserError } from '../util/errors.js';
import type { LlamaWeights } from '../nn/weights.js';
import { toHfLlamaConfig } from '../io/hfconfig.js';
import { loadRewardModel, saveRewardModel, type RewardModel } from './model.js';

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

/** The extrapolated model (the strong model's tokenizer, slots and merge weights). */
export function expoModel(weak: RewardModel, strong: RewardModel, alpha: number, names = { weak: 'weak', strong: 'strong' }): RewardModel {
  if (!Number.isFinite(alpha)) throw new UserError({ what: 'alpha must be a finite number', where: '--alpha', received: String(alpha), fix: `use e.g. --alpha ${EXPO_ALPHA} (the paper's value)` });
  const cw = JSON.stringify(toHfLlamaConfig(weak.config));
  const cs = JSON.stringify(toHfLlamaConfig(strong.config));
  if (cw !== cs) {
    throw new UserError({ what: 'the two models have different architectures', where: `${names.weak} vs ${names.strong}`, expected: 'the same config.json (ExPO extrapolates between checkpoints of one model)', received: `${cw.slice(0, 120)}… vs ${cs.slice(0, 120)}…`, fix: 'pass two reward models trained from the same starting model' });
  }
  if (weak.info.attributes.join() !== strong.info.attributes.join()) {
    throw new UserError({ what: 'the two reward heads have different slots', where: `${names.weak} vs ${names.strong}`, expected: strong.info.attributes.join(', '), received: weak.info.attributes.join(', '), fix: 'initialise the strong model from the weak one (e.g. Scaled BT with --init of the regression model) so the heads match' });
  }
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

/** ExPO on two reward model directories; writes the result to outDir (atomically) and returns it. */
export function expo(weakDir: string, strongDir: string, alpha: number = EXPO_ALPHA, outDir: string): string {
  const m = expoModel(loadRewardModel(weakDir), loadRewardModel(strongDir), alpha, { weak: weakDir, strong: strongDir });
  return saveRewardModel(outDir, m, { source: `expo(${weakDir}, ${strongDir}, alpha ${alpha})` });
}
