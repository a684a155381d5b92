// steer: the library. The CLI (src/cli), server and UI are thin shells over these exports.
export * from './util/errors.js';
export * from './util/config.js';
export * from './util/metrics.js';
export * from './util/progress.js';
export * from './io/atomic.js';
// Llama-family models: configs, weights, checkpoints, tokenizers, the graph model, generation.
export * from './nn/config.js';
export * from './nn/weights.js';
export * from './nn/rope.js';
export { ReferenceLlama, referenceLogits, referenceHidden, referenceGreedy } from './nn/reference.js';
export * from './nn/llama.js';
export * from './nn/generate.js';
export * from './io/safetensors.js';
export * from './io/hfconfig.js';
export * from './io/llama2c.js';
export * from './io/checkpoint.js';
export * from './text/tokenizer.js';
export * from './text/llama2c.js';
export * from './text/hf.js';
export * from './text/chat-template.js';
export * from './policy/generate.js';
// Policy optimisation: SFT, REINFORCE (RLOO), the DPO family; the toy world's policies and sampling.
export * from './policy/model.js';
export * from './policy/sft.js';
export * from './policy/reinforce.js';
export * from './policy/dpo.js';
export * from './policy/reward.js';
export * from './policy/sample.js';
export * from './policy/rate.js';
// Reward models: losses, training, ExPO, scoring, pairwise evaluation.
export * from './reward/index.js';
// The toy world (a seeded stand-in for HelpSteer2 / HelpSteer2-Preference with checkable answers) and the demo.
export * from './data/toy/world.js';
export * from './data/toy/tasks.js';
export { assessResponse, makeResponse, TOY_STYLES, type ToyStyle, type ToyResponse } from './data/toy/styles.js';
export { runDemo, DEMO_PLANS, type DemoOptions, type DemoPreset, type DemoPlan, type DemoResult, type DemoSummary } from './demo/demo.js';
