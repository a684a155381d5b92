import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPairFile, readRatingFile } from '../../src/reward/data.js';

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

test('reward pair and rating files: subsets, mixed formats, system prompts, errors naming file, line and fix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-reward-data-'));
  try {
    const hh = { chosen: '\n\nHuman: hi\n\nAssistant: hello', rejected: '\n\nHuman: hi\n\nAssistant: go away' };
    // Each record in its own format; subset = the record's subset field, else the file's name.
    writeFileSync(join(dir, 'mixed.jsonl'), jsonl([{ prompt: 'p', chosen: 'a', rejected: 'b', strength: 2, subset: 'mine' }, hh]));
    assert.deepEqual(await readPairFile(join(dir, 'mixed.jsonl')), [
      { prompt: 'p', chosen: 'a', rejected: 'b', margin: 2, source: `${join(dir, 'mixed.jsonl')}:1`, subset: 'mine' },
      { prompt: [{ role: 'user', content: 'hi' }], chosen: 'hello', rejected: 'go away', source: `${join(dir, 'mixed.jsonl')}:2`, subset: 'mixed' },
    ]);
    // LLMBar files by name → their RewardBench subsets; label 2 = output_2 better.
    writeFileSync(join(dir, 'Natural.json'), JSON.stringify([{ input: 'q', output_1: 'x', output_2: 'y', label: 2 }]));
    const [llmbar] = await readPairFile(join(dir, 'Natural.json'));
    assert.deepEqual([llmbar.chosen, llmbar.rejected, llmbar.subset], ['y', 'x', 'llmbar-natural']);

    // A SteerLM row's system prompt becomes a first turn; only labelled attributes are present (slot 5 = helpfulness).
    const steerLm = { text: '<extra_id_0>System\nsys\n<extra_id_1>User\np\n<extra_id_1>Assistant\nr\n<extra_id_2>', label: [-100, -100, -100, -100, 3, -100, -100, -100, -100] };
    writeFileSync(join(dir, 'rated.jsonl'), jsonl([steerLm]));
    assert.deepEqual(await readRatingFile(join(dir, 'rated.jsonl')), [{ prompt: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'p' }], response: 'r', labels: { helpfulness: 3 } }]);

    await assert.rejects(readRatingFile(join(dir, 'mixed.jsonl')), /mixed\.jsonl:1: a pairs record is not a rated response[\s\S]*received: fields prompt, chosen, rejected, strength, subset\n  fix: pass preference pairs with --pairs/);
    await assert.rejects(readPairFile(join(dir, 'rated.jsonl')), /rated\.jsonl:1: a steerlm record is not a preference pair[\s\S]*fix: pass rated responses with --ratings/);
    // One HelpSteer2-Preference row, a tie (−1, 0, 1 → 0): dropped, so the file holds no pairs.
    writeFileSync(join(dir, 'ties.jsonl'), jsonl([{ prompt: 'q', response_1: 'a', response_2: 'b', three_most_similar_preferences: [{ strength: -1 }, { strength: 0 }, { strength: 1 }] }]));
    await assert.rejects(readPairFile(join(dir, 'ties.jsonl')), /ties\.jsonl: no preference pairs in the file[\s\S]*fix: check the file/);
    writeFileSync(join(dir, 'empty.jsonl'), '');
    await assert.rejects(readRatingFile(join(dir, 'empty.jsonl')), /empty\.jsonl: no rated responses in the file[\s\S]*fix: check the file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
