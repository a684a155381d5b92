import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sharedFile } from '../helpers/shared.js';
import { readRecords, readAllRecords } from '../../src/data/read.js';
import { parseRecord, hhRlhfRowSchema, llmBarRowSchema, helpSteer2PreferenceRowSchema } from '../../src/data/schema.js';
import { hhRlhfPair, llmBarPair, aggregatePreferenceRow, preferencePair, genericPair, pairBatches, pairBatchLayout, parseHhTranscript } from '../../src/data/pairs.js';
import { Rng } from '../../src/util/rng.js';

test('HH-RLHF: all 2,312 harmless-base test pairs parse with a shared prompt and two different responses', async (t) => {
  const path = sharedFile(t, 'data/hh-rlhf/harmless-base-test.jsonl.gz');
  if (!path) return;
  let n = 0;
  let multiTurnResponses = 0;
  for await (const rec of readRecords(path)) {
    const pair = hhRlhfPair(parseRecord(hhRlhfRowSchema, rec, 'HH-RLHF row'), rec.where);
    n++;
    assert.ok(Array.isArray(pair.prompt) && pair.prompt.length > 0, rec.where);
    const turns = pair.prompt as { role: string; content: string }[];
    assert.equal(turns[0].role, 'user');
    assert.equal(turns[turns.length - 1].role, 'user');
    assert.ok(turns[turns.length - 1].content.length > 0, `${rec.where}: empty last prompt turn`);
    assert.ok(pair.chosen !== pair.rejected, `${rec.where}: identical responses`);
    if (/\n\n(Human|Assistant):/.test(pair.chosen + pair.rejected)) multiTurnResponses++;
  }
  assert.equal(n, 2312);
  // 5 rows diverge before a transcript's last turn (checked by hand; see hhRlhfPair's comment)
  assert.equal(multiTurnResponses, 5);
});

test('HH-RLHF: a hand-made transcript splits at the last shared Assistant turn', () => {
  const shared = '\n\nHuman: hi\n\nAssistant: hello\n\nHuman: what is 2+2?';
  const pair = hhRlhfPair({ chosen: `${shared}\n\nAssistant: 4`, rejected: `${shared}\n\nAssistant:  5, I think` });
  assert.deepEqual(pair.prompt, [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
    { role: 'user', content: 'what is 2+2?' },
  ]);
  assert.equal(pair.chosen, '4');
  assert.equal(pair.rejected, '5, I think');
  assert.throws(() => hhRlhfPair({ chosen: 'x', rejected: 'y' }, 'hh.jsonl:9'), /hh\.jsonl:9: the chosen and rejected transcripts share no/);
  assert.throws(() => parseHhTranscript('Human: no leading newlines'), /must start with/);
});

test('LLMBar: every file parses; label picks the chosen output', async (t) => {
  const dir = sharedFile(t, 'data/llmbar');
  if (!dir) return;
  const counts: Record<string, number> = {};
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const recs = await readAllRecords(join(dir, f));
    for (const rec of recs) {
      const row = parseRecord(llmBarRowSchema, rec, 'LLMBar item');
      const p = llmBarPair(row, rec.where);
      assert.equal(p.chosen, row.label === 1 ? row.output_1 : row.output_2);
    }
    counts[f] = recs.length;
  }
  // sizes from ../shared/data/README.md
  assert.deepEqual(counts, { 'Adversarial-GPTInst.json': 92, 'Adversarial-GPTOut.json': 47, 'Adversarial-Manual.json': 46, 'Adversarial-Neighbor.json': 134, 'Natural.json': 100 });
});

test('HelpSteer2-Preference rows: sign convention, aggregation source, mismatch flag', () => {
  const rec = (value: Record<string, unknown>) => ({ value, index: 1, where: 'p.jsonl:1' });
  const row = parseRecord(helpSteer2PreferenceRowSchema, rec({
    split: 'train', prompt: 'q', response_1: 'A', response_2: 'B', preference_strength: -2,
    three_most_similar_preferences: [{ strength: -2 }, { strength: -3 }, { strength: -2 }],
    all_preferences_unprocessed: [{ strength: -2 }, { strength: -3 }, { strength: -2 }, { strength: 3 }],
  }), 'HelpSteer2-Preference row');
  const agg = aggregatePreferenceRow(row);
  // [-2,-3,-2] -> -7/3 -> -2: response 1 better, margin 2
  assert.equal(agg.from, 'three_most_similar_preferences');
  assert.equal(agg.strength, -2);
  assert.equal(agg.mismatch, false);
  assert.deepEqual(preferencePair(row, agg.strength), { prompt: 'q', chosen: 'A', rejected: 'B', margin: 2 });
  // only raw annotations: the three most similar of [-2,-3,-2,3] are [-2,-3,-2]
  const raw = aggregatePreferenceRow({ ...row, three_most_similar_preferences: undefined, preference_strength: 1 });
  assert.equal(raw.from, 'all_preferences_unprocessed');
  assert.equal(raw.strength, -2);
  assert.equal(raw.mismatch, true);
  assert.deepEqual(preferencePair(row, 3), { prompt: 'q', chosen: 'B', rejected: 'A', margin: 3 });
  assert.throws(() => preferencePair(row, 0), /non-zero/);
  // multi-turn prompts become turns
  const mt = preferencePair({ ...row, prompt: 'a\n<extra_id_1>Assistant\nb\n<extra_id_1>User\nc' }, 1);
  assert.deepEqual(mt.prompt, [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }]);
  assert.deepEqual(genericPair({ prompt: 'q', chosen: 'a', rejected: 'b', strength: 2 }, 'x'), { prompt: 'q', chosen: 'a', rejected: 'b', margin: 2, source: 'x' });
  assert.throws(() => genericPair({ prompt: 'q', chosen: 'a', rejected: 'b', strength: 2, margin: 1 }, 'x:3'), /x:3: a pair has both margin and strength/);
});

test('batching keeps both sequences of a pair in one batch, chosen rows first', () => {
  const batches = pairBatches(10, { batchSize: 4 });
  assert.deepEqual(batches, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  assert.equal(pairBatches(10, { batchSize: 4, dropLast: true }).length, 2);
  const shuffled = pairBatches(10, { batchSize: 3, rng: new Rng(1) });
  assert.deepEqual(shuffled.flat().sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // token budget 40: lengths 5,5,12,3 -> [0,1] (2*2*5=20; adding pair 2 would need 2*3*12=72) then [2] alone? 2*1*12=24, +pair 3: 2*2*12=48 > 40 -> [3]
  const lens = [5, 5, 12, 3];
  assert.deepEqual(pairBatches(4, { batchSize: 8, maxTokens: 40, lengthOf: (i) => lens[i] }), [[0, 1], [2], [3]]);
  assert.throws(() => pairBatches(1, { batchSize: 8, maxTokens: 10, lengthOf: () => 6 }), /pair 0 alone exceeds the token budget/);
  const layout = pairBatchLayout([
    { prompt: 'p0', chosen: 'c0', rejected: 'r0' },
    { prompt: 'p1', chosen: 'c1', rejected: 'r1' },
  ]);
  assert.deepEqual(layout.map((x) => `${x.prompt}:${x.response}`), ['p0:c0', 'p1:c1', 'p0:r0', 'p1:r1']);
});
