// Every user-facing error of the data layer: the message names where (file, line, field) and how to fix it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAllRecords } from '../../src/data/read.js';
import { fromSteerLm, joinHelpSteer2Prompt } from '../../src/data/helpsteer2.js';
import { computeFileStats, detectKind } from '../../src/data/stats.js';
import { prepareData } from '../../src/data/prepare.js';
import { readGroundTruth } from '../../src/data/toy/world.js';
import { scoreAnswer, type ToyTask } from '../../src/data/toy/tasks.js';
import { CharTokenizer } from '../../src/text/char.js';
import { UserError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'steer-errors-'));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const userError = (...res: RegExp[]) => (e: unknown) => {
  assert.ok(e instanceof UserError, `not a UserError: ${e}`);
  for (const re of res) assert.match(e.message, re);
  assert.match(e.message, /fix: /);
  return true;
};

test('readers: a directory, a JSON file that is not an array of objects', async () => {
  const sub = join(dir, 'adir.jsonl');
  mkdirSync(sub);
  await assert.rejects(readAllRecords(sub), userError(/adir\.jsonl: not a regular file/));
  await assert.rejects(readAllRecords(file('str1.json', '"just a string"')), userError(/str1\.json:1: a line is not a JSON object/));
  await assert.rejects(readAllRecords(file('num.json', '[1, 2]')), userError(/num\.json item 1: an array item is not a JSON object/));
  await assert.rejects(readAllRecords(file('str.json', '["x"]')), userError(/str\.json item 1/));
});

test('SteerLM text: each broken part is named', () => {
  const ok = (body: string) => `<extra_id_0>System\ns${body}\n<extra_id_2>`;
  const label = Array(9).fill(-100);
  assert.throws(() => fromSteerLm({ text: '<extra_id_0>System\ns\n<extra_id_1>User\np', label }, 'f:1'), userError(/f:1 field text: SteerLM text does not end with/));
  assert.throws(() => fromSteerLm({ text: ok('\n<extra_id_1>Assistant\nr'), label }, 'f:2'), userError(/f:2 field text: SteerLM text has no <extra_id_1>User turn/));
  assert.throws(() => fromSteerLm({ text: ok('\n<extra_id_1>User\np'), label }, 'f:3'), userError(/f:3 field text: SteerLM text has no <extra_id_1>Assistant turn/));
  assert.throws(() => fromSteerLm({ text: ok('\n<extra_id_1>User\np\n<extra_id_1>Assistant\nr'), label: [1, 2] }, 'f:4'), userError(/f:4 field label: SteerLM label has the wrong number of slots/));
  assert.throws(() => joinHelpSteer2Prompt([{ role: 'system', content: 's' }]), userError(/carry no system turn/));
});

test('stats: unknown format, empty file, bad SFT row', async () => {
  assert.throws(() => detectKind({ value: { foo: 1 }, index: 4, where: 'x.jsonl:4' }), userError(/x\.jsonl:4: cannot tell which dataset format/, /received: fields foo/));
  await assert.rejects(computeFileStats(file('empty.jsonl', '\n')), userError(/empty\.jsonl: the file holds no records/));
  await assert.rejects(computeFileStats(file('sft.jsonl', '{"prompt": "p", "response": "r"}\n{"prompt": "p", "response": 3}\n')), userError(/sft\.jsonl:2: SFT row: prompt and response must be strings/));
});

test('prepare: validation fraction out of range', async () => {
  const p = file('pairs.jsonl', '{"prompt": "q", "chosen": "a", "rejected": "b"}\n');
  await assert.rejects(prepareData({ pairs: [p], out: join(dir, 'o'), valFraction: 1.5 }), userError(/--val-fraction: the validation fraction must be in \[0, 1\)/));
});

test('ground truth that contradicts its task; unknown task kind', async () => {
  const p = file('gt.jsonl', JSON.stringify({ prompt: 'How many r in strawberry?', kind: 'count', word: 'strawberry', letter: 'r', answer: '2' }) + '\n');
  await assert.rejects(readGroundTruth(p), userError(/gt\.jsonl:1 field answer: ground-truth answer "2" disagrees with the task \("3"\)/));
  const bad = file('gt2.jsonl', JSON.stringify({ prompt: 'x', kind: 'dance', answer: '1' }) + '\n');
  await assert.rejects(readGroundTruth(bad), userError(/gt2\.jsonl:1 field kind/));
  assert.throws(() => scoreAnswer({ kind: 'dance', answer: '1' } as unknown as ToyTask, '1'), userError(/unknown toy task kind "dance"/));
});

test('char tokenizer specs that cannot work', () => {
  assert.throws(() => new CharTokenizer({ specials: ['<pad>'] }), userError(/lacks the special token <bos>/));
  assert.throws(() => new CharTokenizer({ alphabet: 'abca' }), userError(/repeats or reserves "a"/));
  assert.throws(() => new CharTokenizer().decode([0, 1.5]), userError(/token id 1\.5 at position 1/));
});
