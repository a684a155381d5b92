// Import (all or nothing, the bad line named) and export (HelpSteer2 / HelpSteer2-Preference rows
// worked out by hand, then read back by `steer data prepare`'s library).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnotationStore } from '../../src/annotate/store.js';
import { importTasks } from '../../src/annotate/import.js';
import { exportStudio, splitJustification, EXPORT_FILES } from '../../src/annotate/export.js';
import { DEFAULT_ASSIGNMENT } from '../../src/annotate/assign.js';
import { prepareData } from '../../src/data/prepare.js';
import { isUserError } from '../../src/util/errors.js';
import { answer, ratings, JUSTIFICATION } from './helpers.js';

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');
const readJsonl = (p: string) => readFileSync(p, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'steer-annotate-io-'));
  return { dir, store: new AnnotationStore(join(dir, 'studio.db')), done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('import: pair rows, prompt/response rows paired in file order, generate --out rows, conversations', async () => {
  const { dir, store, done } = setup();
  try {
    writeFileSync(join(dir, 'pairs.jsonl'), jsonl([{ prompt: 'p1', response_1: 'a', response_2: 'b' }]));
    // two prompts interleaved: p2 → (x, y), p3 → (u, v)
    writeFileSync(join(dir, 'singles.jsonl'), jsonl([{ prompt: 'p2', response: 'x' }, { prompt: 'p3', response: 'u' }, { prompt: 'p2', response: 'y' }, { prompt: 'p3', response: 'v' }]));
    writeFileSync(join(dir, 'gen.jsonl'), jsonl([{ prompt: 'Once', completion: ' upon', tokens: [1], logprobs: [-1], finish_reason: 'stop' }, { prompt: 'Once', completion: ' a time', tokens: [2], logprobs: [-1], finish_reason: 'length' }]));
    writeFileSync(join(dir, 'chat.jsonl'), jsonl([{ prompt: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'joke?' }], response_1: 'no', response_2: 'a pun' }]));
    const r = await importTasks(store, ['pairs.jsonl', 'singles.jsonl', 'gen.jsonl', 'chat.jsonl'].map((f) => join(dir, f)));
    assert.equal(r.imported, 5);
    const t = store.allTasks().map((x) => [x.prompt, x.response1, x.response2]);
    assert.deepEqual(t, [
      ['p1', 'a', 'b'],
      ['p2', 'x', 'y'],
      ['p3', 'u', 'v'],
      ['Once', ' upon', ' a time'],
      ['hi\n<extra_id_1>Assistant\nhello\n<extra_id_1>User\njoke?', 'no', 'a pun'], // HelpSteer2's multi-turn convention
    ]);
    assert.ok(store.allTasks().every((x) => x.target === 3));
  } finally {
    store.close();
    done();
  }
});

test('import: a bad row, an unpaired response, identical responses or a duplicate — the line is named and nothing is imported', async () => {
  const { dir, store, done } = setup();
  try {
    writeFileSync(join(dir, 'good.jsonl'), jsonl([{ prompt: 'p1', response_1: 'a', response_2: 'b' }]));
    await importTasks(store, [join(dir, 'good.jsonl')]);
    const cases: [unknown[], RegExp][] = [
      [[{ prompt: 'q', response_1: 'a', response_2: 'b' }, { prompt: 'q2', response_1: 'a', response_2: 7 }], /bad\.jsonl:2 field response_2: task row: field "response_2" is invalid[\s\S]*expected: a string/],
      [[{ prompt: 'q', response: 'a' }, { prompt: 'q', response: 'b' }, { prompt: 'q', response: 'c' }], /bad\.jsonl:3: this response has no partner/],
      [[{ prompt: 'q', response_1: 'same', response_2: 'same' }], /bad\.jsonl:1: the two responses of this task are the same text/],
      [[{ prompt: 'q', response_1: 'a', response_2: 'b' }, { prompt: 'q', response_1: 'b', response_2: 'a' }], /bad\.jsonl:2: duplicate task: the same prompt and responses as .*bad\.jsonl:1/],
      [[{ prompt: 'q', response_1: 'a', response_2: 'b' }, { prompt: 'p1', response_1: 'b', response_2: 'a' }], /bad\.jsonl:2: duplicate task: this prompt and these two responses are already in the studio/],
      [[{ prompt: 'q', text: 'a' }], /bad\.jsonl:1 field response: prompt\/response row: missing field "response"/],
      [[{ prompt: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }], response_1: 'a', response_2: 'b' }], /bad\.jsonl:1 field prompt: a conversation prompt must end with a user turn/],
    ];
    for (const [rows, re] of cases) {
      writeFileSync(join(dir, 'bad.jsonl'), jsonl(rows));
      await assert.rejects(importTasks(store, [join(dir, 'bad.jsonl')]), (e) => isUserError(e) && re.test(e.message), String(re));
      assert.equal(store.allTasks().length, 1, `nothing imported for ${re}`);
    }
    // restarting `serve --tasks` with a file whose tasks are partly imported: only the new ones are added
    writeFileSync(join(dir, 'more.jsonl'), jsonl([{ prompt: 'p1', response_1: 'b', response_2: 'a' }, { prompt: 'p9', response_1: 'c', response_2: 'd' }]));
    const again = await importTasks(store, [join(dir, 'more.jsonl')], { skipExisting: true });
    assert.deepEqual([again.imported, again.skipped], [1, 1]);
    assert.deepEqual(store.allTasks().map((x) => x.prompt), ['p1', 'p9']);
    writeFileSync(join(dir, 'broken.jsonl'), '{"prompt": "q", "response_1": "a", "response_2": "b"}\n{not json\n');
    await assert.rejects(importTasks(store, [join(dir, 'broken.jsonl')]), (e) => isUserError(e) && /broken\.jsonl:2/.test(e.message));
    assert.equal(store.allTasks().length, 2);
  } finally {
    store.close();
    done();
  }
});

test('splitJustification: the first sentence is the statement', () => {
  assert.deepEqual(splitJustification(JUSTIFICATION), { statement: 'Response one answers the question directly.', elaboration: 'Response two wanders off the topic entirely.' });
  assert.deepEqual(splitJustification(' one sentence only '), { statement: 'one sentence only', elaboration: '' });
});

test('export: hand-worked HelpSteer2 and HelpSteer2-Preference rows, read back by data prepare', async () => {
  const { dir, store, done } = setup();
  try {
    const [t1, t2, t3] = store.addTasks([
      { prompt: 'How many r in strawberry?', response1: 'There are 3.', response2: 'There are 2.', source: 's:1' },
      { prompt: 'Spell cat backwards.', response1: 'tac', response2: 'act', source: 's:2' },
      { prompt: 'Unfinished?', response1: 'yes', response2: 'no', source: 's:3' },
    ]);
    const ids = ['a', 'b', 'c', 'd', 'e'].map((n) => store.addAnnotator(n).annotator.id);
    const give = (task: number, who: number, a: ReturnType<typeof answer>) => {
      store.nextTask(who, DEFAULT_ASSIGNMENT);
      store.submitAnswer(task, who, a);
    };
    // task 1, three answers that agree: helpfulness of response 1: 4, 3, 3; response 2: 1, 0, 2;
    // preferences −3, −2, −2 → mean −7/3 = −2.33 → −2 (response 1 better, margin 2)
    give(t1, ids[0], { ...answer(4, 1, -3), ratings: [ratings(4, 4), ratings(1, 1)] });
    give(t1, ids[1], { ...answer(3, 0, -2), ratings: [ratings(3, 4), ratings(0, 1)] });
    give(t1, ids[2], { ...answer(3, 2, -2), ratings: [ratings(3, 3), ratings(2, 1)] });
    // task 2 (each annotator's next task is now task 2): first three disagree on response 1 (4, 0, 2 → spread 4) → 5 annotators;
    // strengths 3, −1, 2, 2, 3: the three most similar are {3, 2, 2} / {2, 2, 3} … range 1: (0,2,3) = 3, 2, 2 → 7/3 → 2
    give(t2, ids[0], answer(4, 2, 3));
    give(t2, ids[1], answer(0, 2, -1));
    give(t2, ids[2], answer(2, 2, 2));
    assert.equal(store.getTask(t2)!.target, 5);
    give(t2, ids[3], answer(3, 2, 2));
    give(t2, ids[4], { flags: ['coding'], ratings: null, unsafe: [false, false], preference: -100, justification: 'Needs code.' });
    // task 3: one answer, unfinished → left out
    give(t3, ids[3], answer(2, 2, 1));

    const out = join(dir, 'export');
    const report = exportStudio(store, { out, valFraction: 0 });
    assert.deepEqual([report.tasks, report.tasksSkippedIncomplete, report.answers, report.flaggedAnswers], [2, 1, 8, 1]);

    const dis = readJsonl(join(out, EXPORT_FILES.disagreements));
    assert.deepEqual(dis.map((d) => [d.response, d.helpfulness, d.correctness]), [
      ['There are 3.', [4, 3, 3], [4, 4, 3]],
      ['There are 2.', [1, 0, 2], [1, 1, 1]],
      ['tac', [4, 0, 2, 3], [2, 2, 2, 2]], // the flagged answer has no ratings
      ['act', [2, 2, 2, 2], [2, 2, 2, 2]],
    ]);
    // aggregated: three most similar, mean, round half to even
    //   [4,3,3] → 10/3 → 3; [1,0,2] → 1; [4,0,2,3] → smallest range {4,2,3} = 1 … {2,3,4}: 9/3 = 3; correctness [4,4,3] → 11/3 → 4
    const train = readJsonl(join(out, EXPORT_FILES.ratingsTrain));
    assert.deepEqual(train.map((r) => [r.response, r.helpfulness, r.correctness]), [['There are 3.', 3, 4], ['There are 2.', 1, 1], ['tac', 3, 2], ['act', 2, 2]]);
    assert.deepEqual(Object.keys(train[0]), ['prompt', 'response', 'helpfulness', 'correctness', 'coherence', 'complexity', 'verbosity']);
    assert.equal(readFileSync(join(out, EXPORT_FILES.ratingsValidation), 'utf8'), '');

    const pref = readJsonl(join(out, EXPORT_FILES.preferences));
    assert.equal(pref.length, 2);
    assert.equal(pref[0].split, 'train');
    assert.equal(pref[0].preference_strength, -2);
    assert.deepEqual(pref[0].three_most_similar_preferences.map((p: { strength: number }) => p.strength), [-3, -2, -2]);
    assert.equal(pref[0].preference_statement, 'Response one answers the question directly.');
    assert.equal(pref[1].preference_strength, 2);
    assert.deepEqual(pref[1].three_most_similar_preferences.map((p: { strength: number }) => p.strength), [3, 2, 2]);
    assert.deepEqual(pref[1].all_preferences_unprocessed.map((p: { strength: number }) => p.strength), [3, -1, 2, 2, -100]);

    const raw = readJsonl(join(out, EXPORT_FILES.annotations));
    assert.equal(raw.length, 8);
    assert.deepEqual(raw.map((r) => [r.task_id, r.annotator, r.seq]).slice(3), [[t2, 'a', 1], [t2, 'b', 2], [t2, 'c', 3], [t2, 'd', 4], [t2, 'e', 5]]);
    assert.deepEqual(raw[7].flags, ['coding']);

    // `steer data prepare` reads the export unchanged
    const prep = await prepareData({ preferences: [join(out, EXPORT_FILES.preferences)], ratings: [join(out, EXPORT_FILES.disagreements)], out: join(dir, 'prepared'), valFraction: 0 });
    assert.equal(prep.preferences!.kept, 2);
    const pairs = readJsonl(join(dir, 'prepared', 'pairs-train.jsonl'));
    assert.deepEqual(pairs, [
      { prompt: 'How many r in strawberry?', chosen: 'There are 3.', rejected: 'There are 2.', strength: 2 },
      { prompt: 'Spell cat backwards.', chosen: 'act', rejected: 'tac', strength: 2 },
    ]);
    // ratings: 'tac' has helpfulness spread 4 − 0 = 4 among its three most similar? no: {4,2,3} spans 2 → kept; all 4 kept
    assert.equal(prep.ratings!.kept, 4);
    const rated = readJsonl(join(dir, 'prepared', 'ratings-train.jsonl'));
    assert.deepEqual(rated.map((r) => r.helpfulness), [3, 1, 3, 2]);
  } finally {
    store.close();
    done();
  }
});
