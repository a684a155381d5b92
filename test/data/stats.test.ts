import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedFile } from '../helpers/shared.js';
import { computeFileStats, formatFileStats, lengthStats } from '../../src/data/stats.js';
import { generateToyWorld, writeToyWorld, TOY_WORLD_FILES } from '../../src/data/toy/world.js';
import { assertClose } from '../helpers/close.js';

test('lengthStats on a hand-worked list (code points)', () => {
  // lengths 1, 2, 3, 4 ("é" is one code point, "😀" one code point but two UTF-16 units):
  // median at h = 0.5·3 = 1.5 → 2.5; p90 at h = 2.7 → 3 + 0.7 = 3.7 (numpy's linear quantile)
  const { chars: s } = lengthStats(['a', 'éb', '😀cd', 'abcd']);
  assert.deepEqual([s.n, s.median, s.max], [4, 2.5, 4]);
  assertClose(s.p90, 3.7);
  assertClose(s.mean, 2.5);
  assert.ok(Number.isNaN(lengthStats([]).chars.mean));
});

test('toy world files: stats agree with the generator', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-stats-'));
  const w = generateToyWorld({ seed: 3, size: 120 });
  writeToyWorld(w, dir);
  const pref = await computeFileStats(join(dir, TOY_WORLD_FILES.preferences));
  assert.equal(pref.kind, 'helpsteer2-preference');
  assert.equal(pref.records, 120);
  assert.equal(pref.strengths!.reduce((a, b) => a + b, 0), 120);
  assert.equal(pref.aggregation!.kept, w.agreement.preferences.kept);
  assert.deepEqual(pref.agreement!.preference, w.agreement.preferences);
  const dis = await computeFileStats(join(dir, TOY_WORLD_FILES.disagreements));
  assert.deepEqual(dis.agreement!.helpfulness, w.agreement.helpfulness);
  // every rating lands in a histogram bin
  const ratings = w.disagreements.reduce((n, d) => n + d.helpfulness.length, 0);
  assert.equal(dis.attributes!.helpfulness.reduce((a, b) => a + b, 0), ratings);
  const sft = await computeFileStats(join(dir, TOY_WORLD_FILES.sft));
  assertClose(sft.correctShare!, w.sft.filter((r) => r.correct).length / w.sft.length);
  const prompts = await computeFileStats(join(dir, TOY_WORLD_FILES.evalPrompts));
  assert.equal(prompts.kind, 'prompts');
  assert.match(formatFileStats(pref), /aggregation +kept \d+, spread > 2 \d+, ties \d+/);
});

test('HH-RLHF stats match an independent Python count', async (t) => {
  const path = sharedFile(t, 'data/hh-rlhf/harmless-base-test.jsonl.gz');
  if (!path) return;
  const s = await computeFileStats(path);
  // Python (common-prefix rule, len() in code points): 1650 multi-turn prompts, chosen longer in 1025 of 2312
  assert.equal(s.kind, 'hh-rlhf');
  assert.equal(s.records, 2312);
  assert.equal(s.multiTurnPrompts, 1650);
  assertClose(s.chosenLongerShare!, 1025 / 2312);
});
