// On-policy ratings for the toy world: a policy answers the world's rated and SFT prompts several
// times, and the world's annotator panel rates those answers (rateToyResponses) — as HelpSteer2
// rated responses of the models being aligned. A reward model trained on them learns the
// mistakes this policy makes, which is what REINFORCE's leave-one-out baseline has to tell apart.
import { rateToyResponses, type ToyRatedResponses, type ToyWorld } from '../data/toy/world.js';
import type { PolicyModel } from './model.js';
import { samplePolicy } from './sample.js';

/**
 * The prompts whose answers the panel rates: the world's rated and SFT prompts — no RL or
 * evaluation prompt but the 7 strawberry-family probes, which the world rates, trains on and
 * evaluates by design.
 */
export function promptsToRate(world: ToyWorld): string[] {
  return [...new Set([...world.ratingsTrain, ...world.ratingsValidation, ...world.sft].map((r) => r.prompt))];
}

export interface RatePolicyOptions {
  /** Answers per prompt, sampled at temperature 1. */
  samplesPerPrompt: number;
  seed: number;
  threads?: number;
  maxNewTokens?: number;
  /** Progress: answers sampled so far, of the total. */
  onBatch?: (done: number, total: number) => void;
}

/** Sample the policy's answers to the world's rated and SFT prompts and have the panel rate them. */
export async function ratePolicySamples(policy: PolicyModel, world: ToyWorld, o: RatePolicyOptions): Promise<ToyRatedResponses & { prompts: number; responses: number }> {
  const k = o.samplesPerPrompt;
  const prompts = promptsToRate(world);
  const repeated = prompts.flatMap((p) => Array.from({ length: k }, () => p));
  const samples = await samplePolicy(policy, repeated, { maxNewTokens: o.maxNewTokens ?? 48, temperature: 1, seed: o.seed, threads: o.threads, onBatch: o.onBatch });
  // a rated prompt keeps the world's split (its validation rows stay validation rows); SFT prompts draw theirs
  const validation = new Set(world.ratingsValidation.map((r) => r.prompt));
  const train = new Set(world.ratingsTrain.map((r) => r.prompt));
  const split = (p: string) => (validation.has(p) ? true : train.has(p) ? false : undefined);
  const rated = rateToyResponses(world.seed, prompts.map((prompt, i) => ({ prompt, responses: samples.slice(i * k, (i + 1) * k).map((s) => s.response), validation: split(prompt) })));
  return { ...rated, prompts: prompts.length, responses: repeated.length };
}
