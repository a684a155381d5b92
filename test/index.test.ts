// The library's public surface: the entry points the README and docs name are exported from one place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as steer from '../src/index.js';

test('the package index exports the recipe end to end', () => {
  const names = ['generateToyWorld', 'trainSft', 'trainRewardModel', 'runRewardModelTable', 'expo', 'trainReinforce', 'trainDpo', 'rewardModelSource', 'toyAccuracy', 'rateToyResponses', 'ratePolicySamples', 'assessResponse', 'runDemo', 'loadPolicy', 'loadTextPolicy', 'generateText'];
  for (const n of names) assert.equal(typeof (steer as Record<string, unknown>)[n], 'function', n);
  assert.deepEqual(Object.keys(steer.DEMO_PLANS).sort(), ['default', 'full', 'quick']);
});

test('the package index exports the data layer, the training loop and the evaluations', () => {
  const names = ['readRecords', 'readPairs', 'aggregatePreference', 'runTrainLoop', 'scoreRewardBench', 'lengthControlledWinRate', 'battlesFromJudgment', 'summarizeLengths', 'lengthStats', 'JudgeClient'];
  for (const n of names) assert.equal(typeof (steer as Record<string, unknown>)[n], 'function', n);
  // one length summary serves datasets and responses (chars and, with a tokenizer, tokens)
  assert.equal(steer.lengthStats(['ab', 'abcd']).chars.mean, 3);
  // one UNLABELLED for data and losses
  assert.equal(steer.UNLABELLED, -100);
});
