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
// Data: readers, schemas, HelpSteer2 / HelpSteer2-Preference / HH-RLHF / pairs, aggregation and
// agreement, and the toy world (a seeded stand-in for HelpSteer2 / HelpSteer2-Preference with checkable answers).
export * from './data/index.js';
// Training loop pieces shared by every trainer: AdamW step graphs, schedules, clipping, checkpoints.
export * from './train/optim.js';
export * from './train/schedule.js';
export * from './train/clip.js';
export * from './train/loop.js';
export * from './train/checkpoint.js';
// Evaluation: RewardBench, MT-Bench, AlpacaEval 2 (length-controlled), Arena-Hard, judges, response length.
export * from './evaluate/rewardbench.js';
export * from './evaluate/mtbench.js';
export * from './evaluate/alpacaeval.js';
export * from './evaluate/arenahard.js';
export { type ChatMessage as JudgeMessage } from './evaluate/judge.js';
export { JudgeClient, parseCompletion, type JudgeRequest, type JudgeResponse, type JudgeClientOptions, type JudgeStats, type TokenLogprob } from './evaluate/judge.js';
// response lengths in characters and tokens (the data layer's lengthStats summarises a dataset's texts)
export { lengthStats as responseLengthStats, type LengthStats as ResponseLengthStats, type LengthSummary } from './evaluate/length.js';
export * from './evaluate/run.js';
// The demo: the whole recipe on the toy world, with its report.
export { runDemo, DEMO_PLANS, type DemoOptions, type DemoPreset, type DemoPlan, type DemoResult, type DemoSummary } from './demo/demo.js';
// Scale-out: recipe stages as jobs for TRL / OpenRLHF / NeMo-RL / NeMo-Aligner, Ray Jobs, import.
export { exportJob, type ExportOptions, type ExportResult } from './scale/export.js';
export { importJobOutput, type ImportOptions, type ImportResult } from './scale/import.js';
export { readJobDir, JOB_MANIFEST, JOB_OUTPUT_ENV, type JobManifest } from './scale/job.js';
export { ENGINES, STAGES, engineSpec, validateEngineOptions, type Engine, type Stage, type EngineSpec } from './scale/engines.js';
export { RayJobsClient, submitJobDir, watchJob, jobExitCode, type JobDetails, type JobStatus } from './scale/ray.js';
export { readRecipe, runRecipe, checkRecipe, exampleRecipe, recipeSchema, type Recipe, type RecipeStage } from './scale/recipe.js';
