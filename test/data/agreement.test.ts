import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cohenKappa, pairwiseKappa, summarizeAgreement } from '../../src/data/agreement.js';
import { assertClose } from '../helpers/close.js';

test("Cohen's kappa on hand-worked tables", () => {
  // a=[0,0,1,1], b=[0,1,1,1]: po = 3/4; marginals a (1/2,1/2), b (1/4,3/4); pe = 1/8 + 3/8 = 1/2
  // kappa = (3/4 - 1/2) / (1 - 1/2) = 0.5; with two categories every weighting agrees
  for (const w of ['none', 'linear', 'quadratic'] as const) assertClose(cohenKappa([0, 0, 1, 1], [0, 1, 1, 1], [0, 1], w), 0.5);
  // a=[0,1,2], b=[0,2,2]: marginals a (1/3,1/3,1/3), b (1/3,0,2/3)
  // unweighted: disagreement 1/3 observed vs 1 - (1/9 + 0 + 2/9) = 2/3 expected -> 1 - 1/2 = 0.5
  assertClose(cohenKappa([0, 1, 2], [0, 2, 2], [0, 1, 2], 'none'), 0.5);
  // quadratic: observed sum w*O = 1*(1/3); expected sum w_ij a_i b_j = (1/3)[(4*2/3) + (1/3 + 2/3) + (4/3)] = 5/3
  // kappa = 1 - (1/3)/(5/3) = 0.8
  assertClose(cohenKappa([0, 1, 2], [0, 2, 2], [0, 1, 2], 'quadratic'), 0.8);
  // linear: observed 1/3; expected (1/3)[(2*2/3) + (1/3 + 2/3) + (2/3)] = (1/3)(3) = 1 -> 1 - 1/3 = 2/3
  assertClose(cohenKappa([0, 1, 2], [0, 2, 2], [0, 1, 2], 'linear'), 2 / 3);
  // perfect agreement -> 1; one shared constant category -> undefined (NaN), as sklearn
  assertClose(cohenKappa([0, 1, 2], [0, 1, 2], [0, 1, 2], 'quadratic'), 1);
  assert.ok(Number.isNaN(cohenKappa([1, 1], [1, 1], [0, 1])));
  assert.throws(() => cohenKappa([5], [0], [0, 1]), /rating 5 is not one of the categories/);
});

test('pairwise kappa pools within-task pairs in both orders', () => {
  // one task [0,0,1]: pairs (0,0),(0,1),(0,1) both ways -> counts 00:2 01:2 10:2 11:0, n=6
  // po = 2/6; marginals (4/6, 2/6) both; pe = 16/36 + 4/36 = 5/9; kappa = (1/3 - 5/9)/(4/9) = -0.5
  assertClose(pairwiseKappa([[0, 0, 1]], [0, 1], 'none'), -0.5);
  // order inside a task does not matter
  assertClose(pairwiseKappa([[1, 0, 0]], [0, 1], 'none'), -0.5);
  // tasks with one annotation contribute nothing
  assertClose(pairwiseKappa([[0, 0, 1], [1]], [0, 1], 'none'), -0.5);
  const s = summarizeAgreement([[0, 0, 1], [1, 1, 1, 0]], [0, 1]);
  assert.equal(s.pairs, 3 + 6);
  assert.equal(s.tasks, 2);
});
