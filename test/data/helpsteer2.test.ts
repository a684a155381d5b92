import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedFile } from '../helpers/shared.js';
import { readAllRecords } from '../../src/data/read.js';
import { parseRecord, steerLmRowSchema } from '../../src/data/schema.js';
import {
  splitHelpSteer2Prompt,
  joinHelpSteer2Prompt,
  fromSteerLm,
  toSteerLm,
  ratedToHelpSteer2,
  helpSteer2ToRated,
  pythonJsonDumps,
  ratingLabels,
  NEMO_SYSTEM_PROMPT,
} from '../../src/data/helpsteer2.js';

test('multi-turn HelpSteer2 prompts split into turns and join back', () => {
  const prompt = 'hi there\n<extra_id_1>Assistant\nhello! how can I help?\n<extra_id_1>User\nexplain c#';
  const turns = splitHelpSteer2Prompt(prompt);
  assert.deepEqual(turns, [
    { role: 'user', content: 'hi there' },
    { role: 'assistant', content: 'hello! how can I help?' },
    { role: 'user', content: 'explain c#' },
  ]);
  assert.equal(joinHelpSteer2Prompt(turns), prompt);
  assert.deepEqual(splitHelpSteer2Prompt('c#'), [{ role: 'user', content: 'c#' }]);
  assert.throws(() => joinHelpSteer2Prompt([{ role: 'assistant', content: 'x' }]), /must start with a user turn/);
});

test('SteerLM round trip on the 8 real NeMo-Aligner rows is byte-identical', async (t) => {
  const path = sharedFile(t, 'data/helpsteer2/steerlm-format-8rows.jsonl');
  if (!path) return;
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
  const records = await readAllRecords(path);
  assert.equal(records.length, 8);
  records.forEach((rec, i) => {
    const row = parseRecord(steerLmRowSchema, rec, 'SteerLM row');
    const rated = fromSteerLm(row, rec.where);
    assert.equal(rated.system, NEMO_SYSTEM_PROMPT);
    // through the HF HelpSteer2 format and back
    const hf = ratedToHelpSteer2(rated);
    const back = toSteerLm(helpSteer2ToRated(hf, rated.system));
    assert.equal(pythonJsonDumps(back) + '\n', lines[i] + '\n', `row ${i + 1}`);
  });
  // the first row, read by eye from the file: "explain master slave replication nsql", labels 4 4 4 3 2
  const first = ratedToHelpSteer2(fromSteerLm(parseRecord(steerLmRowSchema, records[0], 'SteerLM row')));
  assert.equal(first.prompt, 'explain master slave replication nsql');
  assert.ok(first.response.startsWith('In the context of NoSQL databases, master-slave replication'));
  assert.deepEqual(ratingLabels(first), [4, 4, 4, 3, 2]);
});

test('SteerLM errors name the field and the fix; unlabelled slots stay -100', () => {
  assert.throws(() => fromSteerLm({ text: 'hello', label: Array(9).fill(-100) }, 'x.jsonl:4'), (e: Error) => {
    assert.match(e.message, /^x\.jsonl:4 field text: SteerLM text does not start with <extra_id_0>System/);
    assert.match(e.message, /fix: /);
    return true;
  });
  const rated = { system: 's', prompt: 'p', response: 'r', labels: { helpfulness: 3 } };
  const row = toSteerLm(rated);
  assert.equal(row.text, '<extra_id_0>System\ns\n<extra_id_1>User\np\n<extra_id_1>Assistant\nr\n<extra_id_2>');
  assert.deepEqual(row.label, [-100, -100, -100, -100, 3, -100, -100, -100, -100]);
  assert.deepEqual(fromSteerLm(row), rated);
  assert.throws(() => ratedToHelpSteer2(rated, 'r.jsonl:2'), /r\.jsonl:2 label correctness: attribute correctness cannot be written as HelpSteer2[\s\S]*received: unlabelled/);
  assert.equal(pythonJsonDumps({ text: 'a"\n\u00e9', label: [4, -100, 0.5] }), '{"text": "a\\"\\n\u00e9", "label": [4.0, -100.0, 0.5]}');
});
