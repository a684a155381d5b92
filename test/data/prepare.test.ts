import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareData, isHeldOut } from '../../src/data/prepare.js';
import { UserError } from '../../src/util/errors.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'steer-prepare-'));
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const lines = (p: string) => readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

const pref = (prompt: string, strengths: number[], split = 'train') => ({
  split,
  prompt,
  response_1: `${prompt}: one`,
  response_2: `${prompt}: two`,
  preference_strength: 0,
  all_preferences_unprocessed: strengths.map((strength) => ({ strength, justification: 'because' })),
});

test('HelpSteer2-Preference -> pairs: hand-worked keep/drop decisions and the sign convention', async () => {
  const dir = tmp();
  const input = join(dir, 'pref.jsonl');
  writeFileSync(input, jsonl([
    pref('a', [-3, -2, -3]), // -8/3 -> -3: response 1 better, strength 3
    pref('b', [1, 1, 2]), // 4/3 -> 1: response 2 better, strength 1
    pref('c', [-3, 0, 3]), // spread 6 -> dropped
    pref('d', [-1, 0, 1]), // 0 -> tie, dropped
    pref('e', [2, 2, 3], 'validation'), // 7/3 -> 2, validation split
    { ...pref('f', [2, 2, 2]), response_2: 'f: one' }, // identical responses -> dropped
  ]));
  const out = join(dir, 'out');
  const report = await prepareData({ preferences: [input], out });
  assert.deepEqual(lines(join(out, 'pairs-train.jsonl')), [
    { prompt: 'a', chosen: 'a: one', rejected: 'a: two', strength: 3 },
    { prompt: 'b', chosen: 'b: two', rejected: 'b: one', strength: 1 },
  ]);
  assert.deepEqual(lines(join(out, 'pairs-val.jsonl')), [{ prompt: 'e', chosen: 'e: two', rejected: 'e: one', strength: 2 }]);
  const p = report.preferences!;
  assert.deepEqual([p.rows, p.kept, p.droppedSpread, p.droppedTies, p.droppedIdentical], [6, 3, 1, 1, 1]);
  // the released preference_strength (0 here) disagrees with the recomputed one for a, b, e, f
  // (c's mean is 0 too, d is a tie)
  assert.equal(p.releasedStrengthDiffers, 4);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'prepare-report.json'), 'utf8')).outputs, { 'pairs-train.jsonl': 2, 'pairs-val.jsonl': 1 });
});

test('ratings: per-annotator rows are aggregated, split by prompt, optional SteerLM output', async () => {
  const dir = tmp();
  const input = join(dir, 'dis.jsonl');
  const row = (prompt: string, h: number[]) => ({ prompt, response: 'r', helpfulness: h, correctness: [4, 4, 4], coherence: [4, 4, 3], complexity: [1, 1, 1], verbosity: [2, 2, 1] });
  writeFileSync(input, jsonl([row('p1', [3, 3, 4]), row('p2', [0, 4, 2]), row('p3', [4, 0, 3, 4, 4])]));
  const out = join(dir, 'out');
  const report = await prepareData({ ratings: [input], out, valFraction: 0, steerlm: true });
  // p1: [3,3,4] -> 3; p2 spans 4 -> dropped; p3: [4,4,4] -> 4. coherence [4,4,3] -> 11/3 -> 4; verbosity 5/3 -> 2
  assert.deepEqual(lines(join(out, 'ratings-train.jsonl')).map((r) => [r.prompt, r.helpfulness, r.coherence, r.verbosity]), [['p1', 3, 4, 2], ['p3', 4, 4, 2]]);
  assert.deepEqual([report.ratings!.rows, report.ratings!.kept, report.ratings!.droppedSpread], [3, 2, 1]);
  const s = readFileSync(join(out, 'ratings-train.steerlm.jsonl'), 'utf8').split('\n')[0];
  assert.ok(s.endsWith('"label": [-100.0, -100.0, -100.0, -100.0, 3.0, 4.0, 4.0, 1.0, 2.0]}'), s);
  assert.equal(readFileSync(join(out, 'ratings-val.jsonl'), 'utf8'), '');
});

test('the held-out choice depends only on seed and prompt', () => {
  let held = 0;
  for (let i = 0; i < 2000; i++) if (isHeldOut(`prompt ${i}`, 0.1, 0)) held++;
  // Binomial(2000, 0.1): mean 200, sd 13.4
  assert.ok(Math.abs(held - 200) < 60, `${held}`);
  assert.equal(isHeldOut('x', 0.5, 3), isHeldOut('x', 0.5, 3));
});

test('malformed inputs give a clear error and leave no output file', async () => {
  const dir = tmp();
  const cases: [string, string, RegExp][] = [
    ['badjson.jsonl', jsonl([pref('a', [1, 1, 1])]) + '{"split": "train", "prompt": \n', /badjson\.jsonl:2: invalid JSON[\s\S]*fix: correct or remove line 2/],
    ['missing.jsonl', jsonl([pref('a', [1, 1, 1]), { split: 'train', prompt: 'q', response_1: 'x' }]), /missing\.jsonl:2 field response_2: HelpSteer2-Preference row: missing field "response_2"/],
    ['range.jsonl', jsonl([pref('a', [1, 1, 1]), pref('b', [1, 7, 1])]), /range\.jsonl:2 field all_preferences_unprocessed\[1\]\.strength[\s\S]*expected: an integer in \[-3, 3\] \(or -100[\s\S]*received: 7/],
    ['type.jsonl', jsonl([{ ...pref('a', [1, 1, 1]), preference_strength: '2' }]), /type\.jsonl:1 field preference_strength[\s\S]*expected: an integer in \[-3, 3\][\s\S]*received: "2"/],
  ];
  for (const [name, content, re] of cases) {
    const input = join(dir, name);
    writeFileSync(input, content);
    const out = join(dir, `out-${name}`);
    await assert.rejects(prepareData({ preferences: [input], out }), (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, re);
      assert.match(e.message, /fix: /);
      return true;
    });
    assert.equal(existsSync(out), false, `${name}: output directory was created`);
  }
  // a pair file passed as preferences-less pairs but holding ratings: told where it belongs
  const ratings = join(dir, 'ratings.jsonl');
  writeFileSync(ratings, jsonl([{ prompt: 'p', response: 'r', helpfulness: 1, correctness: 1, coherence: 1, complexity: 1, verbosity: 1 }]));
  await assert.rejects(prepareData({ pairs: [ratings], out: join(dir, 'o2') }), /--pairs takes pair files, but this is helpsteer2[\s\S]*--ratings/);
  await assert.rejects(prepareData({ out: join(dir, 'o3') }), /nothing to prepare/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('o')), []);
});
