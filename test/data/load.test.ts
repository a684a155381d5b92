import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedFile } from '../helpers/shared.js';
import { keptPreferencePair, readPairRecords, readPairs, readRatedRecords, readRatings, readPrompts, readSft, type PairReadOptions } from '../../src/data/load.js';
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

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
async function pairsOf(path: string, opts: PairReadOptions = {}): Promise<[string, string | null][]> {
  const out: [string, string | null][] = [];
  for await (const r of readPairRecords(path, opts)) out.push([r.kind, r.pair ? `${r.pair.chosen}>${r.pair.rejected}` : null]);
  return out;
}

test('one pair reader for every caller: split, identical responses, per-record formats, wrong kinds', async () => {
  // HelpSteer2-Preference, by hand: strengths −2, −3, −2 → mean −2.33 → −2: response 1 better, margin 2;
  // −1, 0, 1 → mean 0: a tie, dropped; 3, 3, 3 with two identical responses: dropped.
  const pref = { prompt: 'q', response_1: 'one', response_2: 'two', three_most_similar_preferences: [{ strength: -2 }, { strength: -3 }, { strength: -2 }] };
  assert.deepEqual(keptPreferencePair(pref, {}, 'f:1'), { prompt: 'q', chosen: 'one', rejected: 'two', margin: 2, source: 'f:1' });
  assert.equal(keptPreferencePair({ ...pref, three_most_similar_preferences: [{ strength: -1 }, { strength: 0 }, { strength: 1 }] }), null);
  assert.equal(keptPreferencePair({ ...pref, response_2: 'one', three_most_similar_preferences: [{ strength: 3 }, { strength: 3 }, { strength: 3 }] }), null);

  const generic = join(dir, 'generic.jsonl');
  writeFileSync(generic, jsonl([{ prompt: 'p', chosen: 'a', rejected: 'b' }, { prompt: 'p', chosen: 'c', rejected: 'd', split: 'validation' }, { prompt: 'p', chosen: 'e', rejected: 'e' }]));
  // split 'all' keeps all three; 'train' drops the validation row; 'validation' keeps only it (rows without a split are training rows).
  assert.deepEqual(await pairsOf(generic), [['pairs', 'a>b'], ['pairs', 'c>d'], ['pairs', 'e>e']]);
  assert.deepEqual(await pairsOf(generic, { split: 'train', dropIdentical: true }), [['pairs', 'a>b'], ['pairs', null], ['pairs', null]]);
  assert.deepEqual(await pairsOf(generic, { split: 'validation' }), [['pairs', null], ['pairs', 'c>d'], ['pairs', null]]);

  // A pair row, then an HH-RLHF row: 'record' reads each in its own format; 'file' (the default) takes the
  // first row's format and fails on the second row's missing prompt.
  const mixed = join(dir, 'mixed.jsonl');
  writeFileSync(mixed, jsonl([{ prompt: 'p', chosen: 'a', rejected: 'b' }, { chosen: '\n\nHuman: hi\n\nAssistant: hello', rejected: '\n\nHuman: hi\n\nAssistant: go away' }]));
  assert.deepEqual(await pairsOf(mixed, { detect: 'record' }), [['pairs', 'a>b'], ['hh-rlhf', 'hello>go away']]);
  await assert.rejects(pairsOf(mixed), /mixed\.jsonl:2 field prompt: pair row: missing field "prompt"/);

  // A file of another kind: the caller's first line and fix, the formats taken and the fields found.
  const sft = join(dir, 'sft-rows.jsonl');
  writeFileSync(sft, jsonl([{ prompt: 'p', response: 'r' }]));
  await assert.rejects(readPairs(sft), /sft-rows\.jsonl:1: expected preference pairs, but this file is sft\n  expected: pairs \{prompt, chosen, rejected[^\n]*LLMBar[^\n]*\n  received: fields prompt, response\n  fix: read rating files with readRatings/);
  await assert.rejects(pairsOf(sft, { notPairs: { what: (k) => `no pairs in a ${k} file`, fix: 'pass pairs' } }), /sft-rows\.jsonl:1: no pairs in a sft file[\s\S]*fix: pass pairs/);
});

test('one rating reader: labels by name, a SteerLM row\'s system prompt apart from its prompt', async () => {
  const path = join(dir, 'rated.jsonl');
  // SteerLM label slots: helpfulness is the 5th (index 4); the others are −100 = unlabelled.
  const steerLm = { text: '<extra_id_0>System\nsys\n<extra_id_1>User\np\n<extra_id_1>Assistant\nr\n<extra_id_2>', label: [-100, -100, -100, -100, 3, -100, -100, -100, -100] };
  writeFileSync(path, jsonl([steerLm]));
  const rows = [];
  for await (const r of readRatedRecords(path)) rows.push({ kind: r.kind, prompt: r.prompt, system: r.system, response: r.response, labels: r.labels });
  assert.deepEqual(rows, [{ kind: 'steerlm', prompt: 'p', system: 'sys', response: 'r', labels: { helpfulness: 3 } }]);
  await assert.rejects(readRatings(join(dir, 'generic.jsonl')), /generic\.jsonl:1: expected ratings .* but this file is pairs\n  expected: HelpSteer2 \{prompt[^\n]*\n  received: fields prompt, chosen, rejected\n  fix: read pair files/);
});
