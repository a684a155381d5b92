import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roundHalfEven, threeMostSimilar, aggregatePreference, aggregateRating } from '../../src/data/aggregate.js';
import { aggregateDisagreement } from '../../src/data/helpsteer2.js';
import { assertClose } from '../helpers/close.js';

test('roundHalfEven is Python round(): halves go to the even neighbour, never -0', () => {
  // Python: [round(x) for x in (0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 1/3, 2/3, -2/3)]
  //       = [0, 2, 2, 0, -2, -2, 2, 0, 1, -1]
  const xs = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 1 / 3, 2 / 3, -2 / 3];
  assert.deepEqual(xs.map(roundHalfEven), [0, 2, 2, 0, -2, -2, 2, 0, 1, -1]);
  assert.ok(Object.is(roundHalfEven(-0.5), 0));
  assert.ok(Object.is(roundHalfEven(-0.2), 0));
  assert.ok(Number.isNaN(roundHalfEven(NaN)));
});

test('three most similar: smallest range, then smallest variance, then earliest', () => {
  // 3 or fewer: all of them
  assert.deepEqual(threeMostSimilar([3, 0, 1]).indices, [0, 1, 2]);
  // [-3, -2, 1, -3, -2]: range-1 subsets (0,1,3) (0,1,4) (0,3,4) (1,3,4) all have squared-deviation
  // sum 2/3, so the earliest, (0,1,3) = [-3, -2, -3], wins; its mean is -8/3
  const m = threeMostSimilar([-3, -2, 1, -3, -2]);
  assert.deepEqual(m.indices, [0, 1, 3]);
  assert.equal(m.spread, 1);
  assertClose(m.mean, -8 / 3);
  // variance breaks a range tie: in [-3, -3, -1, 1, 2, 3] no three lie within 1; the range-2
  // triples are (0,1,2) = [-3,-3,-1] (squared deviations 8/3) and (3,4,5) = [1,2,3] (2) -> the latter
  assert.deepEqual(threeMostSimilar([-3, -3, -1, 1, 2, 3]).indices, [3, 4, 5]);
  assert.throws(() => threeMostSimilar([]), /no annotations/);
});

test('preference aggregation on hand-worked tasks: mean, rounding, spread and tie filters', () => {
  // [1, 1, 2]: mean 4/3 -> 1, spread 1 -> kept, response 2 slightly better
  assert.deepEqual(aggregatePreference([1, 1, 2]), { outcome: 'kept', strength: 1, mean: 4 / 3, spread: 1, used: [1, 1, 2] });
  // five annotators, see above: [-3, -2, -3] -> -8/3 -> -3
  const five = aggregatePreference([-3, -2, 1, -3, -2]);
  assert.equal(five.outcome, 'kept');
  assert.equal(five.strength, -3);
  // span exactly 2 is kept: [1, 3, 2] -> mean 2
  assert.equal(aggregatePreference([1, 3, 2]).outcome, 'kept');
  assert.equal(aggregatePreference([1, 3, 2]).strength, 2);
  // span > 2 is dropped: [-3, 0, 3] spans 6
  assert.equal(aggregatePreference([-3, 0, 3]).outcome, 'spread');
  // four annotators [-3, 0, 3, 1]: best subset (1,2,3)=[0,3,1] still spans 3 -> dropped
  const four = aggregatePreference([-3, 0, 3, 1]);
  assert.equal(four.outcome, 'spread');
  assert.deepEqual(four.used, [0, 3, 1]);
  // ties: [-1, 0, 1] -> 0; [1, -1, 0, 0] -> (0,2,3)=[1,0,0] -> 1/3 -> 0
  assert.equal(aggregatePreference([-1, 0, 1]).outcome, 'tie');
  assert.equal(aggregatePreference([1, -1, 0, 0]).outcome, 'tie');
  assert.equal(aggregatePreference([1, -1, 0, 0], { dropTies: false }).outcome, 'kept');
  // .5 only arises with two annotations; half to even:
  // [1,2] 1.5->2, [2,3] 2.5->2, [-2,-1] -1.5->-2, [-1,0] -0.5->0 (tie), [0,1] 0.5->0 (tie)
  assert.equal(aggregatePreference([1, 2]).strength, 2);
  assert.equal(aggregatePreference([2, 3]).strength, 2);
  assert.equal(aggregatePreference([-2, -1]).strength, -2);
  assert.equal(aggregatePreference([-1, 0]).outcome, 'tie');
  assert.equal(aggregatePreference([0, 1]).outcome, 'tie');
  // -100 (an invalid annotation) is ignored: [2, 3, 3] -> 8/3 -> 3
  assert.equal(aggregatePreference([2, -100, 3, 3]).strength, 3);
  assert.equal(aggregatePreference([-100]).outcome, 'no-annotations');
  // a looser spread limit keeps [-3, 0, 3]
  assert.equal(aggregatePreference([-3, 0, 3], { maxSpread: 6, dropTies: false }).outcome, 'kept');
});

test('HelpSteer2 disagreements aggregate to the values on the HF card', () => {
  // The HF card's "c#" example: per-annotator lists and the released HelpSteer2 row
  // (helpfulness 3, correctness 4, coherence 4, complexity 2, verbosity 1):
  // [3,3,4] 10/3 -> 3; [3,4,4] 11/3 -> 4; [4,3,4] 11/3 -> 4; [2,2,2] -> 2; [2,1,1] 4/3 -> 1
  const { row } = aggregateDisagreement({
    prompt: 'c#',
    response: 'C# is a high-level, object-oriented programming language …',
    helpfulness: [3, 3, 4],
    correctness: [3, 4, 4],
    coherence: [4, 3, 4],
    complexity: [2, 2, 2],
    verbosity: [2, 1, 1],
  });
  assert.deepEqual([row.helpfulness, row.correctness, row.coherence, row.complexity, row.verbosity], [3, 4, 4, 2, 1]);
  // five raters with an outlier: [4, 0, 3, 4, 4] -> (0,3,4) = [4,4,4] -> 4
  assert.equal(aggregateRating([4, 0, 3, 4, 4]).value, 4);
});
