// The panel rates a policy's own samples: the rated and SFT prompts of a world, k answers each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateToyWorld } from '../../src/data/toy/world.js';
import { promptsToRate, ratePolicySamples } from '../../src/policy/rate.js';
import { samplePolicy } from '../../src/policy/sample.js';
import { tinyCharPolicy } from './tiny.js';

test('ratePolicySamples: k sampled answers per rated and SFT prompt, every one rated, no RL or evaluation prompt but the probes', async () => {
  const world = generateToyWorld({ seed: 4, size: 12 });
  const policy = tinyCharPolicy(2, 0.2, 4);
  const prompts = promptsToRate(world);
  // size 12: 12 rated prompts (the 7 probes among them) and 3 × 12 SFT prompts, all distinct
  assert.equal(prompts.length, 12 + 36);
  const heldOut = new Set([...world.rlPrompts, ...world.evalPrompts].map((p) => p.prompt).filter((p) => !world.ratingsTrain.concat(world.ratingsValidation).some((r) => r.prompt === p)));
  for (const p of prompts) assert.ok(!heldOut.has(p), p);
  const r = await ratePolicySamples(policy, world, { samplesPerPrompt: 2, seed: 9, maxNewTokens: 12, threads: 1 });
  assert.deepEqual([r.prompts, r.responses], [48, 96]);
  const repeated = prompts.flatMap((p) => [p, p]);
  const samples = await samplePolicy(policy, repeated, { maxNewTokens: 12, temperature: 1, seed: 9, threads: 1 });
  assert.deepEqual(r.disagreements.map((d) => [d.prompt, d.response]), repeated.map((p, i) => [p, samples[i].response]));
  assert.equal(r.ratingsTrain.length + r.ratingsValidation.length, 96);
  // a rated prompt's answers are in the split the world put that prompt in
  const worldValidation = new Set(world.ratingsValidation.map((x) => x.prompt));
  const worldTrain = new Set(world.ratingsTrain.map((x) => x.prompt));
  for (const x of r.ratingsValidation) assert.ok(!worldTrain.has(x.prompt), x.prompt);
  for (const x of r.ratingsTrain) assert.ok(!worldValidation.has(x.prompt), x.prompt);
});
