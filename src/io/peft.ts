// LoRA adapters in PEFT's layout (PEFT 0.21.2, peft/utils/save_and_load.py, peft/config.py), so
// peft's PeftModel.from_pretrained loads what steer saves and the reverse:
//   adapter_config.json        {"peft_type": "LORA", "r", "lora_alpha", "lora_dropout", "target_modules",
//                               "task_type", "base_model_name_or_path", "modules_to_save", ...}
//   adapter_model.safetensors  base_model.model.<module>.lora_A.weight [r, in] / .lora_B.weight [out, r]
//                              (e.g. base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight),
//                              and fully trained modules (modules_to_save, e.g. a reward model's score)
//                              as base_model.model.<name> (e.g. base_model.model.score.weight)
// steer reads plain LoRA (no DoRA, rsLoRA, per-layer rank/alpha patterns, biases, fan_in_fan_out);
// anything else is refused with the field that asks for it.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError, describeValue } from '../util/errors.js';
import type { LlamaConfig } from '../nn/config.js';
import type { HostTensor, LlamaWeights } from '../nn/weights.js';
import { LORA_TARGETS, checkLoraConfig, checkLoraWeights, type LoraConfig, type LoraTarget } from '../nn/lora.js';
import { readSafetensors, serializeSafetensors } from './safetensors.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
const PREFIX = 'base_model.model.';

export type PeftTaskType = 'CAUSAL_LM' | 'SEQ_CLS';

export interface PeftAdapter {
  lora: LoraConfig;
  /** adapter tensors under steer names (`<module>.lora_A.weight`, …) */
  weights: LlamaWeights;
  /** fully trained modules saved with the adapter (modules_to_save), by their model name, e.g. score.weight */
  modules: Map<string, HostTensor>;
  taskType: PeftTaskType | null;
  baseModel: string | null;
}

export function isPeftAdapterDir(dir: string): boolean {
  return existsSync(join(dir, ADAPTER_CONFIG));
}

/** Save an adapter directory atomically. */
export function savePeftAdapter(dir: string, a: PeftAdapter): string {
  const target = resolve(dir);
  if (existsSync(target) && !statSync(target).isDirectory()) throw new UserError({ what: 'the output path exists and is not a directory', where: target, fix: 'choose another --out' });
  const modulesToSave = [...new Set([...a.modules.keys()].map((n) => n.split('.')[0]))];
  const config = {
    peft_type: 'LORA',
    task_type: a.taskType,
    base_model_name_or_path: a.baseModel,
    r: a.lora.rank,
    lora_alpha: a.lora.alpha,
    lora_dropout: a.lora.dropout,
    target_modules: [...a.lora.targets],
    modules_to_save: modulesToSave.length ? modulesToSave : null,
    bias: 'none',
    fan_in_fan_out: false,
    init_lora_weights: true,
    inference_mode: true,
    use_rslora: false,
    use_dora: false,
    rank_pattern: {},
    alpha_pattern: {},
    layers_to_transform: null,
    layers_pattern: null,
    revision: null,
  };
  const tensors = new Map<string, HostTensor>();
  for (const [n, t] of a.weights) tensors.set(PREFIX + n, t);
  for (const [n, t] of a.modules) tensors.set(PREFIX + n, t);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    mkdirSync(tmp);
    writeFileSync(join(tmp, ADAPTER_CONFIG), JSON.stringify(config, null, 2) + '\n');
    writeFileSync(join(tmp, ADAPTER_WEIGHTS), serializeSafetensors(tensors, { metadata: { format: 'pt' } }));
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return target;
}

/** Load an adapter for the base model of config `base`, validating it against that base before returning. */
export function loadPeftAdapter(dir: string, base: LlamaConfig): PeftAdapter {
  const cfgPath = join(dir, ADAPTER_CONFIG);
  if (!existsSync(cfgPath)) throw new UserError({ what: `not a PEFT adapter: no ${ADAPTER_CONFIG}`, where: dir, expected: `${ADAPTER_CONFIG} + ${ADAPTER_WEIGHTS}`, fix: 'pass a directory saved by peft (save_pretrained) or by steer with --lora-rank' });
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError({ what: `${ADAPTER_CONFIG} is not valid JSON (${(e as Error).message})`, where: cfgPath, fix: 're-save the adapter' });
  }
  const refuse = (field: string, expected: string, fix: string): never => {
    throw new UserError({ what: `unsupported adapter setting ${field}`, where: `${cfgPath}: ${field}`, expected, received: describeValue(raw[field]), fix });
  };
  if (raw.peft_type !== 'LORA') refuse('peft_type', '"LORA"', 'steer reads LoRA adapters only');
  if (raw.use_dora) refuse('use_dora', 'false', 'merge the DoRA adapter with peft first (merge_and_unload)');
  if (raw.use_rslora) refuse('use_rslora', 'false', 'merge the adapter with peft first (merge_and_unload)');
  if (raw.fan_in_fan_out) refuse('fan_in_fan_out', 'false', 'Llama projections are not Conv1D');
  if (raw.bias !== undefined && raw.bias !== 'none') refuse('bias', '"none"', 'train the adapter without biases');
  for (const f of ['rank_pattern', 'alpha_pattern'] as const) if (raw[f] && Object.keys(raw[f] as object).length > 0) refuse(f, '{} (one rank and alpha for every module)', 'merge the adapter with peft first');
  if (raw.layers_to_transform != null) refuse('layers_to_transform', 'null (every layer)', 'merge the adapter with peft first');
  const targets = raw.target_modules;
  if (!Array.isArray(targets)) refuse('target_modules', `a list of ${LORA_TARGETS.join(', ')}`, 'save the adapter with a list of target modules');
  const lora = checkLoraConfig(
    { rank: raw.r as number, alpha: raw.lora_alpha as number, dropout: (raw.lora_dropout as number) ?? 0, targets: [...(targets as string[])].sort((a, b) => LORA_TARGETS.indexOf(a as LoraTarget) - LORA_TARGETS.indexOf(b as LoraTarget)) as LoraTarget[] },
    cfgPath,
  );
  const wPath = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(wPath)) throw new UserError({ what: `no ${ADAPTER_WEIGHTS} beside ${ADAPTER_CONFIG}`, where: dir, fix: 'copy the adapter weights (steer reads safetensors adapters, not adapter_model.bin)' });
  const weights: LlamaWeights = new Map();
  const modules = new Map<string, HostTensor>();
  for (const [name, t] of readSafetensors(wPath).tensors) {
    if (!name.startsWith(PREFIX)) throw new UserError({ what: `adapter tensor ${name} lacks PEFT's prefix`, where: wPath, expected: `${PREFIX}…`, fix: 're-save the adapter with peft' });
    // PEFT ≤ 0.x writes modules_to_save as `<name>.modules_to_save.<adapter>.weight` in memory but `<name>.weight` on disk
    const n = name.slice(PREFIX.length);
    if (n.includes('.lora_')) weights.set(n, t);
    else modules.set(n, t);
  }
  checkLoraWeights(base, lora, weights, wPath);
  const task = raw.task_type;
  return { lora, weights, modules, taskType: task === 'CAUSAL_LM' || task === 'SEQ_CLS' ? task : null, baseModel: typeof raw.base_model_name_or_path === 'string' ? raw.base_model_name_or_path : null };
}
