import { test } from 'node:test';
import { learningRate } from '../../src/train/schedule.js';
import { assertClose } from '../helpers/close.js';

test('warm-up is linear from peak/warmup to peak, then constant', () => {
  const o = { kind: 'constant' as const, peakLr: 1e-3, warmupSteps: 4, totalSteps: 10 };
  assertClose([0, 1, 2, 3, 4, 9].map((s) => learningRate(s, o)), [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3]);
});

test('cosine decays from peak to the floor: half-way is the mean of the two', () => {
  const o = { kind: 'cosine' as const, peakLr: 1e-3, warmupSteps: 2, totalSteps: 12, minLr: 1e-4 };
  // s=2: p=0 → peak; s=7: p=0.5 → (1e-3+1e-4)/2 = 5.5e-4; s=12: p=1 → 1e-4; beyond stays at the floor.
  assertClose([2, 7, 12, 20].map((s) => learningRate(s, o)), [1e-3, 5.5e-4, 1e-4, 1e-4], { rtol: 1e-9 });
});
