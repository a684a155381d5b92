import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainCombinedRewardModel } from '../../src/reward/recipe.js';
import { loadRewardModel } from '../../src/reward/model.js';
import { extrapolate } from '../../src/reward/expo.js';
import { TINY, toySplit } from './helpers.js';

test('the combined recipe: helpfulness regression → Scaled BT from it → ExPO α = 1.52 between the two', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-recipe-'));
  try {
    const { train, val, ratings } = toySplit(200);
    const r = await trainCombinedRewardModel({ trainRatings: ratings, trainPairs: train, valPairs: val, out: dir, common: { scratch: TINY, batchSize: 8, quiet: true, steps: 2 } });
    const reg = loadRewardModel(r.regression.dir);
    const sbt = loadRewardModel(r.scaledBt.dir);
    const ex = loadRewardModel(r.expo.dir);
    assert.deepEqual(reg.info.attributes, ['helpfulness']);
    assert.equal(sbt.info.loss, 'scaled-bt');
    assert.equal(sbt.info.initFrom, r.regression.dir);
    assert.equal(r.expo.alpha, 1.52);
    assert.deepEqual(ex.head.weight, extrapolate(reg.head.weight, sbt.head.weight, 1.52));
    assert.equal(r.expo.eval!.n, val.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
