import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSteer } from '../helpers/cli.js';
import { generateToyWorld, toyWorldFiles } from '../../src/data/toy/world.js';

const tmp = mkdtempSync(join(tmpdir(), 'steer-data-cli-'));
const listFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name])).sort();

test('steer data toy writes exactly the library\'s bytes for the seed', () => {
  const dir = join(tmp, 'a');
  const r = runSteer(['data', 'toy', '--out', dir, '--size', '60', '--seed', '4', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Cohen's kappa \(quadratic\), preferences: \d\.\d{3} before filtering, \d\.\d{3} after/);
  assert.equal(r.stderr, '');
  // the same seed in-process gives the same bytes (determinism across seeds: test/data/toy/world.test.ts)
  const expected = toyWorldFiles(generateToyWorld({ seed: 4, size: 60 }));
  assert.deepEqual(listFiles(dir), Object.keys(expected).sort());
  for (const [f, content] of Object.entries(expected)) assert.equal(readFileSync(join(dir, f), 'utf8'), content, f);
});

test('steer data stats and prepare on the toy world; a bad flag and a bad file exit 2 with the fix', () => {
  const world = join(tmp, 'a');
  const stats = runSteer(['data', 'stats', join(world, 'helpsteer2/preference.jsonl'), join(world, 'helpsteer2/disagreements.jsonl')]);
  assert.equal(stats.status, 0, stats.stderr);
  assert.match(stats.stdout, /format +helpsteer2-preference/);
  assert.match(stats.stdout, /preference +before \d\.\d{3} \/ \d\.\d{3}/);
  assert.match(stats.stdout, /helpfulness +\d+ +\d+ +\d+ +\d+ +\d+/);

  const out = join(tmp, 'prepared');
  const prep = runSteer(['data', 'prepare', '--preferences', join(world, 'helpsteer2/preference.jsonl'), '--ratings', join(world, 'helpsteer2/train.jsonl'), '--ratings-val', join(world, 'helpsteer2/validation.jsonl'), '--out', out, '--quiet']);
  assert.equal(prep.status, 0, prep.stderr);
  assert.deepEqual(listFiles(out), ['pairs-train.jsonl', 'pairs-val.jsonl', 'prepare-report.json', 'ratings-train.jsonl', 'ratings-val.jsonl']);
  const report = JSON.parse(readFileSync(join(out, 'prepare-report.json'), 'utf8'));
  assert.equal(report.outputs['pairs-train.jsonl'] + report.outputs['pairs-val.jsonl'], report.preferences.kept);

  const bad = join(tmp, 'bad.jsonl');
  writeFileSync(bad, '{"prompt": "q", "chosen": "a", "rejected": "b"}\n{"prompt": "q", "chosen": "a"}\n');
  const fail = runSteer(['data', 'prepare', '--pairs', bad, '--out', join(tmp, 'never'), '--quiet']);
  assert.equal(fail.status, 2);
  assert.match(fail.stderr, /bad\.jsonl:2 field rejected: pair row: missing field "rejected"/);
  assert.match(fail.stderr, /fix: /);
  assert.doesNotMatch(fail.stderr, /at .*\.[jt]s:\d+/);
  assert.equal(existsSync(join(tmp, 'never')), false);

  const flag = runSteer(['data', 'toy', '--out', join(tmp, 'x'), '--size', '3']);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /size: .*>=10 \(received "3"\) \(option --size\)/);
});
