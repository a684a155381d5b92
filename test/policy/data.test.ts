import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPairsFile, readPromptsFile, readSftFile } from '../../src/policy/data.js';

function withFiles(files: Record<string, string>, run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'steer-policy-data-'));
  for (const [n, c] of Object.entries(files)) writeFileSync(join(dir, n), c);
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

test('SFT and prompt files: rows read in order; a bad row names file, line and field', () =>
  withFiles(
    {
      'sft.jsonl': jsonl([{ prompt: 'Spell cat.', response: 'c-a-t', style: 'terse' }, { prompt: [{ role: 'user', content: 'hi' }], response: 'hello' }]),
      'bad.jsonl': jsonl([{ prompt: 'Spell cat.', response: 'c-a-t' }, { prompt: 'x', response: 3 }]),
      'prompts.jsonl': jsonl([{ prompt: 'What is 3+4?' }, { prompt: 'Spell cat.', probe: true }]),
      'empty.jsonl': '',
    },
    async (dir) => {
      assert.deepEqual(await readSftFile(join(dir, 'sft.jsonl')), [{ prompt: 'Spell cat.', response: 'c-a-t' }, { prompt: [{ role: 'user', content: 'hi' }], response: 'hello' }]);
      await assert.rejects(readSftFile(join(dir, 'bad.jsonl')), /bad\.jsonl:2 field response: SFT row: field "response" is invalid[\s\S]*received: 3/);
      assert.deepEqual(await readPromptsFile(join(dir, 'prompts.jsonl')), ['What is 3+4?', 'Spell cat.']);
      await assert.rejects(readPromptsFile(join(dir, 'empty.jsonl')), /empty\.jsonl: no prompts in the file[\s\S]*fix: check the path/);
      await assert.rejects(readSftFile(join(dir, 'prompts.jsonl')), /prompts\.jsonl:1 field response: SFT row: missing field "response"/);
    },
  ));

test('pair files: HelpSteer2-Preference rows aggregated by the paper\'s rules, by split; wrong kinds rejected', () => {
  const pref = (split: string, r1: string, r2: string, strengths: number[]) => ({ split, prompt: 'How many r in strawberry?', response_1: r1, response_2: r2, three_most_similar_preferences: strengths.map((s) => ({ strength: s })) });
  return withFiles(
    {
      'pref.jsonl': jsonl([
        pref('train', '3', '2', [-2, -3, -2]), // mean −2.33 → −2: response 1 better, margin 2
        pref('train', '2', '3', [1, 2, 2]), // 1.67 → 2: response 2 better
        pref('train', 'a', 'b', [-1, 0, 1]), // tie → dropped
        pref('train', 'a', 'b', [-3, 0, 3]), // spread 6 > 2 → dropped
        pref('validation', '3', '4', [-1, -1, -1]),
      ]),
      'pairs.jsonl': jsonl([{ prompt: 'Spell cat.', chosen: 'c-a-t', rejected: 'c-t', strength: 2 }, { prompt: 'Spell dog.', chosen: 'd-o-g', rejected: 'd-o-g' }]),
      'sft.jsonl': jsonl([{ prompt: 'Spell cat.', response: 'c-a-t' }]),
    },
    async (dir) => {
      const train = await readPairsFile(join(dir, 'pref.jsonl'), { split: 'train' });
      assert.deepEqual(train.pairs.map((p) => [p.chosen, p.rejected, p.margin]), [['3', '2', 2], ['3', '2', 2]]);
      assert.equal(train.dropped, 3);
      const val = await readPairsFile(join(dir, 'pref.jsonl'), { split: 'validation' });
      assert.deepEqual(val.pairs.map((p) => [p.chosen, p.rejected, p.margin]), [['3', '4', 1]]);
      const generic = await readPairsFile(join(dir, 'pairs.jsonl'));
      assert.deepEqual(generic.pairs.map((p) => [p.chosen, p.margin]), [['c-a-t', 2]]);
      assert.equal(generic.dropped, 1, 'identical responses carry no preference');
      await assert.rejects(readPairsFile(join(dir, 'sft.jsonl')), /sft\.jsonl:1: expected preference pairs, but this is a sft file[\s\S]*fix: pass a pair file/);
    },
  );
});
