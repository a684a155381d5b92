// steer: the library. The CLI (src/cli), server and UI are thin shells over these exports.
export * from './util/errors.js';
export * from './util/config.js';
export * from './util/metrics.js';
export * from './util/progress.js';
export * from './io/atomic.js';
export * from './io/output.js';
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
// Serving: an OpenAI-compatible policy server with continuous batching, reward endpoints, the chat page.
export { startServer, SteerServer, modelNameOf, type ServeOptions, type PolicySpec, type PolicyInfo } from './serve/server.js';
export { DecodeEngine, topLogprobs, type CompletionJob, type EngineEvent, type EngineOptions, type TokenLogprob as ServedTokenLogprob } from './serve/engine.js';
export { ApiError } from './serve/openai.js';
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
export * from './train/run.js';
export * from './train/options.js';
export * from './train/batches.js';
export * from './train/steps.js';
// Evaluation: RewardBench, MT-Bench, AlpacaEval 2 (length-controlled), Arena-Hard, judges, response length.
export * from './evaluate/rewardbench.js';
export * from './evaluate/mtbench.js';
export * from './evaluate/alpacaeval.js';
export * from './evaluate/arenahard.js';
// MMLU-Pro (official prompt, extraction, seeded fallback) and multiple choice by likelihood.
export { extractAnswer as extractMmluProAnswer, extractAgain as extractMmluProAgain, extractFinal as extractMmluProFinal, formatExample as formatMmluProExample, mmluProPrompt, scoreOutputs as scoreMmluProOutputs, tallyPredictions, FallbackChooser, parseQuestion as parseMultipleChoiceQuestion, readMultipleChoice, readQuestionRecords, exemplarsByCategory, CHOICE_LETTERS, MMLU_PRO_SEED, MMLU_PRO_MAX_TOKENS, type MultipleChoiceQuestion, type MultipleChoiceScore, type ScoredItem, type FallbackMode } from './evaluate/mmlupro.js';
export { runMmluPro, readOutputLines as readMmluProOutputs, writeMmluProResults, mmluProTable, type MmluProRunOptions, type MmluProRun } from './evaluate/mmlupro-run.js';
export { responseLogLikelihoods, scoreByLikelihood } from './evaluate/choice-likelihood.js';
export { toyKnowledgeRows, type ToyKnowledgeRow } from './data/toy/knowledge.js';
export { readZipMembers } from './io/zip.js';
export { type ChatMessage as JudgeMessage } from './evaluate/judge.js';
export { JudgeClient, parseCompletion, type JudgeRequest, type JudgeResponse, type JudgeClientOptions, type JudgeStats, type TokenLogprob } from './evaluate/judge.js';
export * from './util/stats.js';
export * from './evaluate/run.js';
export * from './evaluate/answers.js';
export { MT19937, pythonSeededChoiceIndex } from './evaluate/mt19937.js';
// The demo: the whole recipe on the toy world, with its report.
export { runDemo, DEMO_PLANS, type DemoOptions, type DemoPreset, type DemoPlan, type DemoResult, type DemoSummary } from './demo/demo.js';
// The annotation studio: SQLite store, HelpSteer2 assignment, import/export, its server.
export { AnnotationStore, parseAnswer, taskKey, type Answer, type Ratings, type Task, type NewTask, type StoredAnswer, type SaveResult } from './annotate/store.js';
export { annotationTarget, DEFAULT_ASSIGNMENT, type AssignmentOptions } from './annotate/assign.js';
export { importTasks, readTaskFiles, type ImportReport } from './annotate/import.js';
export { exportStudio, taskRows, splitJustification, EXPORT_FILES, type ExportOptions as StudioExportOptions, type ExportReport } from './annotate/export.js';
export { studioStats, type StudioStats } from './annotate/stats.js';
export { studioApp, startStudio, type StudioOptions, type RunningStudio } from './annotate/server.js';
export { ATTRIBUTE_GUIDELINES, PREFERENCE_OPTIONS, TASK_FLAGS, JUSTIFICATION_WORDS, GUIDELINE_SOURCE } from './annotate/guidelines.js';
// Scale-out: recipe stages as jobs for TRL / OpenRLHF / NeMo-RL / NeMo-Aligner, Ray Jobs, import.
export { exportJob, type ExportOptions, type ExportResult } from './scale/export.js';
export { importJobOutput, type ImportOptions, type ImportResult } from './scale/import.js';
export { readJobDir, JOB_MANIFEST, JOB_OUTPUT_ENV, type JobManifest } from './scale/job.js';
export { ENGINES, STAGES, engineSpec, validateEngineOptions, type Engine, type Stage, type EngineSpec } from './scale/engines.js';
export { RayJobsClient, submitJobDir, watchJob, jobExitCode, type JobDetails, type JobStatus } from './scale/ray.js';
export { readRecipe, runRecipe, checkRecipe, exampleRecipe, recipeSchema, type Recipe, type RecipeStage } from './scale/recipe.js';
