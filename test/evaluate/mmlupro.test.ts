// MMLU-Pro's protocol pieces against hand-worked values: the official regexes with Python's
// semantics (where JavaScript's differ), Python's random.seed/choice, the scoring passes, the
// prompt text, the row formats and their errors, and the zip reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MT19937 } from '../../src/evaluate/mt19937.js';
import { cleanResponse, cutAtNextQuestion, exemplarsByCategory, extractAnswer, FallbackChooser, LEVEL2_PATTERN, matchLevel2, formatExample, mmluProPrompt, parseQuestion, readMultipleChoice, scoreOutputs, type MultipleChoiceQuestion } from '../../src/evaluate/mmlupro.js';
import { crc32 } from 'node:zlib';
import { readZipMembers } from '../../src/io/zip.js';
import { UserError } from '../../src/util/errors.js';

test('extraction: the three official levels', () => {
  assert.equal(extractAnswer('so the answer is (B).'), 'B');
  assert.equal(extractAnswer('the answer is C because'), 'C');
  // "answer is (X)" wins over a later "Answer: Y"
  assert.equal(extractAnswer('answer is (D)\nAnswer: E'), 'D');
  // level 1 only: no fallbacks
  assert.equal(extractAnswer('Answer: D', 'l1'), null);
  assert.equal(extractAnswer('Answer: D', 'l2'), 'D');
  // K is not a choice letter; no standalone A–J either
  assert.equal(extractAnswer('the answer is (K)'), null);
  // \s spans newlines
  assert.equal(extractAnswer('Answer:\n\n  E'), 'E');
  // the last standalone letter
  assert.equal(extractAnswer('Between A and C, I pick C over A.'), 'A');
  assert.equal(extractAnswer('nothing here'), null);
  // "I" is a standalone A–J letter
  assert.equal(extractAnswer("I don't know"), 'I');
});

test("extraction: Python's `.`, `\\s` and `\\b`, not JavaScript's", () => {
  // Python's `.` crosses \r: the first line is "Answer: A\rAnswer: B" and .* is greedy → B (JS `.` → A)
  assert.equal(extractAnswer('Answer: A\rAnswer: B\nanswer: C'), 'B');
  // \x85 is whitespace to str.isspace() (not to JS \s)
  assert.equal(extractAnswer('Answer:\x85F'), 'F');
  // U+FEFF is JS whitespace but not Python's: level 2 fails, the last standalone letter is H (JS would say G)
  assert.equal(extractAnswer('Answer:\ufeffG, or H'), 'H');
  // é and ² are word characters to Python: "éB" and "²J" hold no standalone letter (ASCII \b would find B, J)
  assert.equal(extractAnswer('Choose C or éB'), 'C');
  assert.equal(extractAnswer('Choose D or x²J'), 'D');
  // underscore is a word character in both
  assert.equal(extractAnswer('A or B_'), 'A');
});

test("Python's random: seed(n) → init_by_array, getrandbits, _randbelow, choice", () => {
  // python3 -c "import random; random.seed(12345); print([random.getrandbits(32) for _ in range(3)])"
  const g = MT19937.fromPythonInt(12345);
  assert.deepEqual([g.getrandbits(32), g.getrandbits(32), g.getrandbits(32)], [1789368711, 3146859322, 43676229]);
  // random.seed(0); [random.randint(0, 6) for _ in range(10)]
  const z = MT19937.fromPythonInt(0);
  assert.deepEqual(Array.from({ length: 10 }, () => z.randbelow(7)), [6, 3, 6, 3, 0, 2, 4, 3, 3, 6]);
  // a seed above 2^32 (two key words): random.seed(2**40 + 7); [random.randrange(1000) for _ in range(5)]
  const big = MT19937.fromPythonInt(2 ** 40 + 7);
  assert.deepEqual(Array.from({ length: 5 }, () => big.randbelow(1000)), [628, 765, 834, 960, 967]);
  // random.seed(12345); [random.choice("ABCDEFGHIJ") for _ in range(10)]
  const stream = new FallbackChooser('stream');
  assert.equal(Array.from({ length: 10 }, () => stream.choose()).join(''), 'GAEFDEJGCF');
  const reseed = new FallbackChooser('reseed');
  assert.equal(Array.from({ length: 4 }, () => reseed.choose()).join(''), 'GGGG');
  assert.throws(() => g.randbelow(0), RangeError);
  assert.throws(() => g.getrandbits(33), RangeError);
});

const q = (id: string, answer: string, category = 'math'): MultipleChoiceQuestion => parseQuestion({ question_id: id, question: `q${id}`, options: ['w', 'x', 'y', 'z'], answer, category }, `t:${id}`, 0);

test('scoring: the Level-1 pass, then Level 2, on one fallback stream', () => {
  const rows = [
    { question: q('1', 'A'), output: 'The answer is (A).' },
    { question: q('2', 'C'), output: 'Answer: B' },
    { question: q('3', 'A', 'law'), output: 'nothing' },
  ];
  const s = scoreOutputs(rows);
  // Level 1: q1 A ✓; q2 no "answer is" → draw 1 = G ✗; q3 → draw 2 = A ✓  → 2/3
  assert.equal(s.level1Accuracy, 2 / 3);
  // Level 2: q1 A ✓; q2 "Answer: B" ✗; q3 no letter → draw 3 = E ✗  → 1/3
  assert.deepEqual(s.items.map((i) => i.pred), ['A', 'B', 'E']);
  assert.deepEqual(s.items.map((i) => i.extracted), ['A', 'B', null]);
  assert.equal(s.accuracy, 1 / 3);
  assert.equal(s.correct, 1);
  assert.equal(s.fallbacks, 1);
  assert.deepEqual(s.categories, { math: { corr: 1, wrong: 1, acc: 0.5 }, law: { corr: 0, wrong: 1, acc: 0 } });
  // re-seeded fallbacks: every draw is G → q3 G ✗
  assert.deepEqual(scoreOutputs(rows, { fallback: 'reseed' }).items.map((i) => i.pred), ['A', 'B', 'G']);
});

test('prompt: evaluate_from_api.py format, 0-shot and with exemplars', () => {
  assert.equal(formatExample('What is 1+1?', ['1', '2']), "Question: What is 1+1?\nOptions: A. 1\nB. 2\nAnswer: Let's think step by step.\n\n");
  assert.equal(formatExample('Q', ['a', 'b'], "A: Let's think step by step. It is b. The answer is (B)."), "Question: Q\nOptions: A. a\nB. b\nAnswer: Let's think step by step. It is b. The answer is (B).\n\n");
  const ex = parseQuestion({ question: 'E?', options: ['p', 'q', 'N/A'], answer: 'A', category: 'math', cot_content: 'A: It is p. The answer is (A).' }, 'v:1', 1, { exemplar: true });
  assert.deepEqual(ex.options, ['p', 'q']); // "N/A" dropped
  const header = 'The following are multiple choice questions (with answers) about math. Think step by step and then output the answer in the format of "The answer is (X)" at the end.\n\n';
  assert.equal(mmluProPrompt(q('9', 'B'), []), header + "Question: q9\nOptions: A. w\nB. x\nC. y\nD. z\nAnswer: Let's think step by step.\n\n");
  assert.equal(mmluProPrompt(q('9', 'B'), [ex]), header + 'Question: E?\nOptions: A. p\nB. q\nAnswer: It is p. The answer is (A).\n\n' + "Question: q9\nOptions: A. w\nB. x\nC. y\nD. z\nAnswer: Let's think step by step.\n\n");
  const byCat = exemplarsByCategory([ex, { ...ex, id: '2' }, { ...ex, id: '3', category: 'law' }], 1);
  assert.deepEqual([...byCat].map(([c, l]) => [c, l.map((e) => e.id)]), [['math', ['1']], ['law', ['3']]]);
  assert.equal(cleanResponse('**The answer is (B)**'), 'The answer is (B)');
  assert.equal(cutAtNextQuestion('It is B.\n\nQuestion: next'), 'It is B.\n\n');
});

test('rows: the generic format, and bad rows named by line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-mc-'));
  try {
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, [JSON.stringify({ question: 'Capital of France?', choices: ['Rome', 'Paris'], answer: 'B' }), '', JSON.stringify({ id: 'x', question: '2+2?', options: ['4', '5', '6'], answer_index: 0, category: 'arith' })].join('\n'));
    const qs = await readMultipleChoice(good);
    assert.deepEqual(qs.map((x) => [x.id, x.answerIndex, x.category, x.options.length]), [['1', 1, 'general', 2], ['x', 0, 'arith', 3]]);
    const cases: [string, RegExp][] = [
      [JSON.stringify({ question: 'q', options: ['a', 'b'] }), /bad\.jsonl:2: the row has no answer/],
      [JSON.stringify({ question: 'q', options: ['a', 'b'], answer: 'C' }), /bad\.jsonl:2: the answer is not the letter of an option/],
      [JSON.stringify({ question: 'q', options: ['a'], answer: 'A' }), /bad\.jsonl:2: 1 options/],
      [JSON.stringify({ question: 'q', options: 'abcdefghijk'.split(''), answer: 'A' }), /bad\.jsonl:2: 11 options/],
      [JSON.stringify({ question: '', options: ['a', 'b'], answer: 'A' }), /bad\.jsonl:2: the question is missing/],
      [JSON.stringify({ question: 'q', options: ['a', 2], answer: 'A' }), /bad\.jsonl:2: the options are not a list of strings/],
      [JSON.stringify({ question: 'q', options: ['a', 'b'], answer_index: 5 }), /bad\.jsonl:2: the answer index does not point at an option/],
      [JSON.stringify({ question_id: 1, question: 'q', options: ['a', 'b'], answer: 'A' }), /bad\.jsonl:2: question id 1 appears twice \(first at .*bad\.jsonl:1\)/],
      ['{"question": ', /bad\.jsonl:2: invalid JSON/],
    ];
    for (const [line, re] of cases) {
      const bad = join(dir, 'bad.jsonl');
      writeFileSync(bad, JSON.stringify({ question_id: 1, question: 'ok', options: ['a', 'b'], answer: 'A' }) + '\n' + line + '\n');
      await assert.rejects(readMultipleChoice(bad), (e: unknown) => e instanceof UserError && re.test(e.message), line);
    }
    const noCot = join(dir, 'val.jsonl');
    writeFileSync(noCot, JSON.stringify({ question: 'q', options: ['a', 'b'], answer: 'A' }) + '\n');
    await assert.rejects(readMultipleChoice(noCot, { exemplar: true }), /val\.jsonl:1: an exemplar has no chain-of-thought answer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A one-member zip, stored (method 0), written byte by byte from APPNOTE's layout. */
function storedZip(name: string, data: Buffer, crc = crc32(data)): Buffer {
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(n.length, 28);
  const cdOffset = local.length + n.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + n.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, n, data, central, n, end]);
}

test('zip: stored members, damage reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-zip-'));
  try {
    const rows = JSON.stringify([{ question: 'q', options: ['a', 'b'], answer: 'B' }]);
    const p = join(dir, 'r.zip');
    writeFileSync(p, storedZip('r.json', Buffer.from(rows)));
    assert.deepEqual(readZipMembers(p).map((m) => [m.name, m.data.toString()]), [['r.json', rows]]);
    writeFileSync(p, storedZip('r.json', Buffer.from(rows), 1234));
    assert.throws(() => readZipMembers(p), /r\.zip: not a readable zip archive: member r\.json fails its size or CRC-32 check/);
    writeFileSync(p, Buffer.from('not a zip at all, just text that is long enough'));
    assert.throws(() => readZipMembers(p), /no end-of-central-directory record/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('level 2: the linear scan agrees with the official pattern run as a regex (its slow twin)', () => {
  const parts = ['a', 'A', 'nswer:', 'answer:', ' ', '\n', '\r', '\x85', 'B', 'J', 'K', 'x', 'Answer: ', '\t'];
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  for (let trial = 0; trial < 3000; trial++) {
    let text = '';
    const len = 1 + rand(14);
    for (let i = 0; i < len; i++) text += parts[rand(parts.length)];
    const slow = LEVEL2_PATTERN.exec(text);
    assert.equal(matchLevel2(text), slow ? slow[1] : null, JSON.stringify(text));
  }
  // "answer: A" then "Answer: B" on one line: greedy .* takes the last → B; a later line is never reached
  assert.equal(matchLevel2('answer: Answer: B\nAnswer: C'), 'B');
  assert.equal(matchLevel2('Answer: x\nanswer: D then answer: E\nanswer: F'), 'E');
});
