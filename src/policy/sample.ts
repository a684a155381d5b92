// Sampling responses from a policy in fixed-shape batches (the last batch is filled with repeats
// that are dropped, and prompts are left-padded to one length), so a whole evaluation or a whole
// REINFORCE run compiles its generation graphs once. Also the toy world's true task accuracy.
import { UserError } from '../util/errors.js';
import { LlamaGenerator, type Generation } from '../nn/generate.js';
import { scorePromptAnswer } from '../data/toy/tasks.js';
import type { Prompt } from '../data/helpsteer2.js';
import type { PolicyModel } from './model.js';

export interface SampleOptions {
  maxNewTokens: number;
  /** 0 = greedy (default 1). */
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  threads?: number;
  /** Prompts per generation batch (default 32). */
  batchSize?: number;
  /** Called after each batch with the responses done so far and the total (progress). */
  onBatch?: (done: number, total: number) => void;
  /** Generate with this generator of the policy (the caller builds it once and releases it) instead of a new one per call. */
  generator?: LlamaGenerator;
}

export interface Sample {
  response: string;
  /** Generated tokens (a final stop token included). */
  tokens: number[];
  /** log π of each generated token (from the decode graph). */
  logprobs: number[];
  /** Ended with a stop token (not cut at maxNewTokens). */
  ended: boolean;
}

/** The longest prompt the policy can take with `maxNewTokens` more tokens. */
export function promptBudget(policy: PolicyModel, maxNewTokens: number): number {
  return policy.config.maxPositionEmbeddings - maxNewTokens;
}

/** Encode prompts, checking that each leaves room for maxNewTokens. */
export function encodePrompts(policy: PolicyModel, prompts: readonly Prompt[], maxNewTokens: number): number[][] {
  const budget = promptBudget(policy, maxNewTokens);
  return prompts.map((p, i) => {
    const ids = policy.codec.encodePrompt(p);
    if (ids.length > budget) {
      throw new UserError({
        what: `prompt ${i} is ${ids.length} tokens; with ${maxNewTokens} new tokens it exceeds the model context (${policy.config.maxPositionEmbeddings})`,
        where: `prompts[${i}]`,
        expected: `prompts of at most ${budget} tokens`,
        fix: 'lower maxNewTokens (--max-new-tokens) or drop long prompts',
      });
    }
    return ids;
  });
}

/** Generate for token prompts in fixed-shape batches with `gen`. */
export async function generateFixed(gen: LlamaGenerator, promptIds: readonly (readonly number[])[], o: SampleOptions & { stopTokens: readonly number[]; promptLength: number }): Promise<Generation[]> {
  const bs = o.batchSize ?? 32;
  const out: Generation[] = [];
  for (let i = 0; i < promptIds.length; i += bs) {
    const chunk = promptIds.slice(i, i + bs);
    const real = chunk.length;
    while (chunk.length < bs) chunk.push(chunk[0]);
    const gens = await gen.generate(chunk, {
      maxNewTokens: o.maxNewTokens,
      temperature: o.temperature ?? 1,
      topP: o.topP,
      topK: o.topK,
      stopTokens: o.stopTokens,
      seed: (o.seed ?? 0) + i,
      minPromptLength: o.promptLength,
    });
    out.push(...gens.slice(0, real));
    o.onBatch?.(out.length, promptIds.length);
  }
  return out;
}

/** Sample one response per prompt. */
export async function samplePolicy(policy: PolicyModel, prompts: readonly Prompt[], o: SampleOptions): Promise<Sample[]> {
  const ids = encodePrompts(policy, prompts, o.maxNewTokens);
  const gen = o.generator ?? new LlamaGenerator(policy.config, policy.weights, { threads: o.threads ?? 2 });
  try {
    const gens = await generateFixed(gen, ids, { ...o, stopTokens: policy.codec.stopTokens, promptLength: Math.max(...ids.map((p) => p.length)) });
    return gens.map((g) => ({ response: policy.codec.decodeResponse(g.tokens), tokens: g.tokens, logprobs: g.logprobs, ended: g.finishReason === 'stop' }));
  } finally {
    if (!o.generator) await gen.release();
  }
}

export interface ToyAccuracy {
  /** Share of prompts whose response's final answer is right (toy-world ground truth). */
  accuracy: number;
  /** Mean response length in characters. */
  lengthChars: number;
  /** Share of responses that ended with the stop token. */
  ended: number;
  responses: { prompt: string; response: string; correct: boolean }[];
}

/** True task accuracy on toy-world prompts (greedy by default). */
export async function toyAccuracy(policy: PolicyModel, prompts: readonly string[], o: Partial<SampleOptions> = {}): Promise<ToyAccuracy> {
  const samples = await samplePolicy(policy, prompts, { maxNewTokens: 48, temperature: 0, ...o });
  const responses = samples.map((s, i) => ({ prompt: prompts[i], response: s.response, correct: scorePromptAnswer(prompts[i], s.response).correct }));
  const n = Math.max(1, samples.length);
  return {
    accuracy: responses.filter((r) => r.correct).length / n,
    lengthChars: samples.reduce((a, s) => a + s.response.length, 0) / n,
    ended: samples.filter((s) => s.ended).length / n,
    responses,
  };
}
