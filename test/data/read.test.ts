import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readAllRecords, detectFormat } from '../../src/data/read.js';
import { parseRecord, helpSteer2RowSchema, helpSteer2PreferenceRowSchema, pairRowSchema } from '../../src/data/schema.js';
import { UserError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'steer-read-'));
const file = (name: string, content: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const userError = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof UserError, `not a UserError: ${e}`);
  assert.match(e.message, re);
  assert.match(e.message, /fix: /);
  return true;
};

test('jsonl and jsonl.gz stream records with file:line, skipping blank lines', async () => {
  const text = '{"a":1}\n\n{"a":2}\n';
  for (const p of [file('ok.jsonl', text), file('ok.jsonl.gz', gzipSync(text))]) {
    const recs = await readAllRecords(p);
    assert.deepEqual(recs.map((r) => [r.value.a, r.index, r.where]), [[1, 1, `${p}:1`], [2, 3, `${p}:3`]]);
  }
  // a .json file holding a JSON array (LLMBar) or JSON lines
  const arr = await readAllRecords(file('arr.json', '[{"x": 1}, {"x": 2}]'));
  assert.deepEqual(arr.map((r) => r.where.endsWith('item 2') || r.where.endsWith('item 1')), [true, true]);
  assert.equal((await readAllRecords(file('lines.json', '{"x":1}\n{"x":2}\n'))).length, 2);
});

test('bad JSON on line N names the file and line', async () => {
  const p = file('bad.jsonl', '{"a":1}\n{"a":2}\n{"a":\n');
  await assert.rejects(readAllRecords(p), userError(new RegExp(`^${p.replace(/[/.]/g, '\\$&')}:3: invalid JSON`)));
  await assert.rejects(readAllRecords(file('arrline.jsonl', '{"a":1}\n[1,2]\n')), userError(/arrline\.jsonl:2: a line is not a JSON object/));
  await assert.rejects(readAllRecords(file('trunc.jsonl.gz', gzipSync('{"a":1}\n{"a":2}\n').subarray(0, 15))), userError(/trunc\.jsonl\.gz:\d+: cannot decompress/));
  await assert.rejects(readAllRecords(join(dir, 'absent.jsonl')), userError(/absent\.jsonl: file not found/));
  assert.throws(() => detectFormat('data.csv'), userError(/data\.csv: cannot tell the file format/));
  // V8 reports a position for this error, so the line is known
  await assert.rejects(readAllRecords(file('broken.json', '[{"x": 1},\n {"x": 1]')), userError(/broken\.json:2: invalid JSON/));
});

test('schema errors name file, line, field, expected and received', async () => {
  const p = file('hs2.jsonl', [
    JSON.stringify({ prompt: 'p', response: 'r', helpfulness: 3, correctness: 4, coherence: 4, complexity: 1, verbosity: 2 }),
    JSON.stringify({ prompt: 'p', response: 'r', helpfulness: 3, correctness: 4, coherence: 4, complexity: 1 }),
    JSON.stringify({ prompt: 'p', response: 'r', helpfulness: '3', correctness: 4, coherence: 4, complexity: 1, verbosity: 2 }),
  ].join('\n'));
  const recs = await readAllRecords(p);
  assert.equal(parseRecord(helpSteer2RowSchema, recs[0], 'HelpSteer2 row').helpfulness, 3);
  assert.throws(() => parseRecord(helpSteer2RowSchema, recs[1], 'HelpSteer2 row'), userError(/hs2\.jsonl:2 field verbosity: HelpSteer2 row: missing field "verbosity"/));
  assert.throws(() => parseRecord(helpSteer2RowSchema, recs[2], 'HelpSteer2 row'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /hs2\.jsonl:3 field helpfulness: HelpSteer2 row: field "helpfulness" is invalid/);
    assert.match(e.message, /expected: an integer in \[0, 4\]/);
    assert.match(e.message, /received: "3"/);
    return true;
  });
  // strength out of range, deep in an array
  const pref = { value: { prompt: 'q', response_1: 'a', response_2: 'b', preference_strength: 1, three_most_similar_preferences: [{ strength: 1 }, { strength: 5 }] }, index: 7, where: 'pref.jsonl:7' };
  assert.throws(() => parseRecord(helpSteer2PreferenceRowSchema, pref, 'HelpSteer2-Preference row'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /pref\.jsonl:7 field three_most_similar_preferences\[1\]\.strength/);
    assert.match(e.message, /expected: an integer in \[-3, 3\]/);
    assert.match(e.message, /received: 5/);
    return true;
  });
  const pair = { value: { prompt: 3, chosen: 'a', rejected: 'b' }, index: 2, where: 'pairs.jsonl:2' };
  assert.throws(() => parseRecord(pairRowSchema, pair, 'pair row'), userError(/pairs\.jsonl:2 field prompt: pair row: field "prompt" is invalid/));
});

test('parquet files are read row by row with their row numbers', async () => {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'prompt', data: ['c#', 'spell cat'], type: 'STRING' },
      { name: 'response', data: ['C# is a language.', 'c-a-t'], type: 'STRING' },
      { name: 'helpfulness', data: [3, 4], type: 'INT32' },
      { name: 'correctness', data: [4n, 4n], type: 'INT64' },
      { name: 'coherence', data: [4, 4], type: 'INT32' },
      { name: 'complexity', data: [2, 0], type: 'INT32' },
      { name: 'verbosity', data: [1, 0], type: 'INT32' },
    ],
  });
  const p = file('hs2.parquet', new Uint8Array(buf));
  const recs = await readAllRecords(p);
  assert.equal(recs.length, 2);
  assert.equal(recs[1].where, `${p} row 2`);
  const row = parseRecord(helpSteer2RowSchema, recs[1], 'HelpSteer2 row');
  // INT64 columns arrive as bigint and are converted to numbers
  assert.deepEqual(row, { prompt: 'spell cat', response: 'c-a-t', helpfulness: 4, correctness: 4, coherence: 4, complexity: 0, verbosity: 0 });
  await assert.rejects(readAllRecords(file('junk.parquet', 'not parquet at all')), userError(/junk\.parquet: not a readable parquet file/));
});
