import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedFile } from '../helpers/shared.js';
import { readPairs, readRatings, readPrompts, readSft } from '../../src/data/load.js';
import { generateToyWorld, writeToyWorld, TOY_WORLD_FILES } from '../../src/data/toy/world.js';
import { formatExample } from '../../src/text/char.js';

const dir = mkdtempSync(join(tmpdir(), 'steer-load-'));

test('the toy world reads back as trainer inputs', async () => {
  const w = generateToyWorld({ seed: 2, size: 80 });
  writeToyWorld(w, dir);
  const pairs = await readPairs(join(dir, TOY_WORLD_FILES.preferences));
  assert.equal(pairs.length, w.agreement.preferences.kept);
  assert.ok(pairs.every((p) => p.margin! >= 1 && p.margin! <= 3 && p.chosen !== p.rejected));
  const ratings = await readRatings(join(dir, TOY_WORLD_FILES.ratingsTrain));
  assert.equal(ratings.length, w.ratingsTrain.length);
  assert.deepEqual(ratings[0].labels, [w.ratingsTrain[0].helpfulness, w.ratingsTrain[0].correctness, w.ratingsTrain[0].coherence, w.ratingsTrain[0].complexity, w.ratingsTrain[0].verbosity]);
  // per-annotator rows aggregate to the same labels
  const agg = await readRatings(join(dir, TOY_WORLD_FILES.disagreements));
  const rated = [...w.ratingsTrain, ...w.ratingsValidation];
  const byKey = new Map(rated.map((r) => [`${r.prompt}|${r.response}`, r]));
  for (const r of agg) assert.equal(r.labels[0], byKey.get(`${r.prompt}|${r.response}`)!.helpfulness);
  const prompts = await readPrompts(join(dir, TOY_WORLD_FILES.evalPrompts));
  assert.equal(prompts.length, w.evalPrompts.length);
  const sft = await readSft(join(dir, TOY_WORLD_FILES.sft));
  assert.equal(formatExample(sft[0].prompt, sft[0].response), `<bos><user>${w.sft[0].prompt}<assistant>${w.sft[0].response}<eos>`);
  await assert.rejects(readPairs(join(dir, TOY_WORLD_FILES.ratingsTrain)), /expected preference pairs, but this file is helpsteer2[\s\S]*fix: /);
  await assert.rejects(readRatings(join(dir, TOY_WORLD_FILES.preferences)), /expected ratings .* but this file is helpsteer2-preference/);
});

test('SteerLM rows read as ratings with -100 where unlabelled', async (t) => {
  const path = sharedFile(t, 'data/helpsteer2/steerlm-format-8rows.jsonl');
  if (!path) return;
  const r = await readRatings(path);
  assert.equal(r.length, 8);
  assert.equal(r[0].prompt, 'explain master slave replication nsql');
  assert.deepEqual(r[0].labels, [4, 4, 4, 3, 2]);
  const partial = join(dir, 'partial.jsonl');
  writeFileSync(partial, JSON.stringify({ text: '<extra_id_0>System\ns\n<extra_id_1>User\np\n<extra_id_1>Assistant\nr\n<extra_id_2>', label: [-100, -100, -100, -100, 3, -100, -100, -100, -100] }) + '\n');
  assert.deepEqual((await readRatings(partial))[0].labels, [3, -100, -100, -100, -100]);
});
