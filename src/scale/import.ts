// `steer import JOB_DIR --from OUTPUT`: what an engine wrote, back as a steer model directory, so
// `steer rm eval | expo | score`, `steer generate` and `steer eval …` work on it.
//   reward model: a Hugging Face *ForSequenceClassification checkpoint (single file or sharded,
//     F32/F16/BF16, read by reward/model.ts readRewardWeights): score.weight [N, D] is the head;
//     score.bias when present, else the bias the export recorded (HF's Llama head has none); the
//     slots, merge weights, text format and max length the export recorded; steer's tokenizer from
//     the job dir.
//   policy: a *ForCausalLM checkpoint with steer's tokenizer from the job dir.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { loadModel } from '../io/checkpoint.js';
import { HEAD_WEIGHT, readRewardWeights, saveRewardModel } from '../reward/model.js';
import { loadRewardEncoder } from '../reward/encode.js';
import { loadCodec } from '../policy/codec.js';
import { savePolicy } from '../policy/model.js';
import { readJobDir, type JobManifest } from './job.js';

export interface ImportOptions {
  /** The job directory `steer export` wrote. */
  job: string;
  /** What the job wrote ($STEER_JOB_OUTPUT): a directory holding model/, or the model directory itself. */
  from: string;
  out: string;
}

export interface ImportResult {
  dir: string;
  kind: JobManifest['output'];
  tensors: number;
}

/** The engine's model directory inside a job output. */
export function engineModelDir(from: string): string {
  if (existsSync(join(from, 'model', 'config.json'))) return join(from, 'model');
  if (existsSync(join(from, 'config.json'))) return from;
  throw new UserError({ what: 'no model in the job output', where: from, expected: 'OUTPUT/model/config.json (what the job writes under $STEER_JOB_OUTPUT) or a model directory', fix: 'pass --from the --output given to `steer launch` (check the job finished: `steer jobs logs ID`)' });
}

export function importJobOutput(o: ImportOptions): ImportResult {
  const m = readJobDir(o.job);
  const modelDir = engineModelDir(o.from);
  const tokDir = join(o.job, 'steer-tokenizer');
  const meta = { source: resolve(modelDir), importedFrom: { engine: m.engine, engineVersion: m.engineVersion, stage: m.stage, variant: m.variant, job: resolve(o.job) } };
  if (m.output === 'reward-model') {
    const info = m.rewardModel;
    if (!info) throw new UserError({ what: 'the job manifest has no rewardModel entry', where: join(o.job, 'steer-job.json'), fix: 'export the job again with this steer' });
    // src/reward/model.ts reads transformers' / TRL's sequence classifiers (sharded, F16/BF16)
    const rw = readRewardWeights(modelDir);
    const N = info.attributes.length;
    const D = rw.config.hiddenSize;
    if (rw.head.weight.length !== N * D) {
      throw new UserError({ what: `the engine's reward head has ${rw.head.weight.length / D} output(s), the job trains ${N}`, where: modelDir, expected: `${HEAD_WEIGHT} [${N}, ${D}]`, fix: 'import the output of the reward-model job this job directory describes' });
    }
    // HF's Llama head has no bias: restore the one the export recorded (a pairwise loss never changes it)
    const bias = rw.head.bias.some((b) => b !== 0) ? rw.head.bias : Float32Array.from(info.bias);
    const encoder = loadRewardEncoder(tokDir, rw.config.vocabSize);
    const dir = saveRewardModel(
      o.out,
      {
        config: rw.config,
        weights: rw.weights,
        head: { weight: rw.head.weight, bias },
        info: { format: 'steer-reward-model', version: 1, attributes: info.attributes, rewardWeights: info.rewardWeights, textFormat: info.textFormat, maxLength: info.maxLength, loss: info.loss, initFrom: info.initFrom },
        encoder,
      },
      meta,
    );
    return { dir, kind: 'reward-model', tensors: rw.weights.size + 1 };
  }
  const lm = loadModel(modelDir);
  const config = lm.config;
  const codec = loadCodec(tokDir, { vocabSize: config.vocabSize, eosIds: config.eosTokenIds });
  const dir = savePolicy(o.out, { config, weights: lm.weights, codec, source: resolve(modelDir) }, meta);
  return { dir, kind: 'policy', tensors: lm.weights.size };
}
