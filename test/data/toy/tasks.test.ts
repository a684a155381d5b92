import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTask, renderPrompt, taskFromPrompt, scoreAnswer, scorePromptAnswer, extractAnswer, PROMPT_TEMPLATES, TOY_TASK_KINDS } from '../../../src/data/toy/tasks.js';
import { makeResponse, TOY_STYLES, STYLE_CORRECT } from '../../../src/data/toy/styles.js';
import { TOY_WORDS } from '../../../src/data/toy/words.js';
import { Rng } from '../../../src/util/rng.js';
import { CharTokenizer } from '../../../src/text/char.js';
import { UserError } from '../../../src/util/errors.js';

const strawberry = makeTask('count', { word: 'strawberry', letter: 'r' });

test('answers worked out by hand', () => {
  assert.equal(strawberry.answer, '3'); // s-t-R-a-w-b-e-R-R-y
  assert.equal(makeTask('count', { word: 'banana', letter: 'a' }).answer, '3');
  assert.equal(makeTask('count', { word: 'cat', letter: 'z' }).answer, '0');
  assert.equal(makeTask('spell', { word: 'cat' }).answer, 'c-a-t');
  assert.equal(makeTask('reverse', { word: 'cat' }).answer, 'tac');
  assert.equal(makeTask('add', { a: 3, b: 4 }).answer, '7');
  assert.equal(makeTask('sub', { a: 13, b: 7 }).answer, '6');
  assert.equal(makeTask('first', { word: 'cat' }).answer, 'c');
  assert.equal(renderPrompt(strawberry, 0), 'How many r in strawberry?');
  assert.equal(renderPrompt(makeTask('spell', { word: 'cat' }), 0), 'Spell cat.');
  assert.equal(renderPrompt(makeTask('add', { a: 3, b: 4 }), 0), 'What is 3+4?');
});

test('scoreAnswer reads the final answer', () => {
  const s = (text: string, t = strawberry) => scoreAnswer(t, text).correct;
  assert.equal(s('3'), true);
  assert.equal(s('there are 3 r\'s.'), true);
  assert.equal(s('hmm, let me think... maybe 3'), true);
  assert.equal(s('r at 3, 8, 9, so 3.'), true);
  assert.equal(s('2'), false); // the famous wrong answer
  assert.equal(s('3 or 4'), false); // the final answer is 4
  assert.equal(s('2, no wait, 3'), true);
  assert.equal(s('three'), false); // no digits: no answer
  assert.equal(scoreAnswer(strawberry, 'r r s').extracted, null);
  const spell = makeTask('spell', { word: 'cat' });
  assert.equal(s('c-a-t', spell), true);
  assert.equal(s('it is spelled C-A-T.', spell), true);
  assert.equal(s('c-t', spell), false);
  assert.equal(s('cat', spell), false);
  const rev = makeTask('reverse', { word: 'cat' });
  assert.equal(s('tac', rev), true);
  assert.equal(s('backwards it is tac.', rev), true);
  assert.equal(s('cat', rev), false);
  assert.equal(s('tac or act', rev), false);
  const add = makeTask('add', { a: 3, b: 4 });
  assert.equal(s('3+4 is 7.', add), true);
  assert.equal(s('3 plus 4 makes 8.', add), false);
  const first = makeTask('first', { word: 'cat' });
  assert.equal(s('c', first), true);
  assert.equal(s('cat starts with c.', first), true);
  assert.equal(s('the first letter is t.', first), false);
  assert.equal(extractAnswer('first', 'no single letters here'), null);
});

test('every template parses back to its task; prompts fit in 40 characters', () => {
  for (const kind of TOY_TASK_KINDS) {
    for (let t = 0; t < PROMPT_TEMPLATES[kind].length; t++) {
      const task =
        kind === 'add' || kind === 'sub' ? makeTask(kind, { a: 20, b: 17 }) : kind === 'count' ? makeTask(kind, { word: 'bookkeeper', letter: 'e' }) : makeTask(kind, { word: 'bookkeeper' });
      const prompt = renderPrompt(task, t);
      assert.ok(prompt.length <= 40, `${prompt} is ${prompt.length} chars`);
      const back = taskFromPrompt(prompt);
      assert.deepEqual(back, task, prompt);
    }
  }
  assert.equal(taskFromPrompt('Tell me a story.'), null);
  assert.equal(scorePromptAnswer('How many r in strawberry?', 'it has 3').correct, true);
  assert.throws(() => scorePromptAnswer('Tell me a story.', 'ok'), (e: unknown) => e instanceof UserError && /not a toy-world prompt/.test(e.message) && /fix: /.test(e.message));
});

test('every style gives the intended correctness, short encodable text, for every word', () => {
  const tok = new CharTokenizer();
  const rng = new Rng(9);
  const maxLen: Record<string, number> = {};
  for (const word of TOY_WORDS) {
    const tasks = [makeTask('count', { word, letter: word[1] }), makeTask('count', { word, letter: 'q' }), makeTask('spell', { word }), makeTask('reverse', { word }), makeTask('first', { word })];
    tasks.push(makeTask('add', { a: rng.int(0, 21), b: rng.int(0, 21) }), makeTask('sub', { a: 20, b: rng.int(0, 21) }));
    for (const task of tasks) {
      for (const style of TOY_STYLES) {
        const r = makeResponse(task, style, rng);
        assert.equal(r.correct, STYLE_CORRECT[style], `${style} ${JSON.stringify(r.text)} for ${renderPrompt(task, 0)}`);
        assert.ok(tok.canEncode(r.text), r.text);
        assert.equal(r.truth.length, 5);
        assert.ok(r.truth.every((v) => v >= 0 && v <= 4));
        maxLen[style] = Math.max(maxLen[style] ?? 0, r.text.length);
      }
    }
  }
  // the ideal styles stay short (~30 characters; 10-letter words spelled with dashes are the longest)
  assert.ok(maxLen.terse <= 19 && maxLen.phrase <= 36 && maxLen.worked <= 36, JSON.stringify(maxLen));
  assert.ok(Math.max(...Object.values(maxLen)) <= 60, JSON.stringify(maxLen));
});

test('a wrong worked count shows consistent wrong work: the positions it lists are real positions or extras, and it counts them', () => {
  const rng = new Rng(4);
  // strawberry has r at 3, 8, 9
  const task = makeTask('count', { word: 'strawberry', letter: 'r' });
  for (let i = 0; i < 50; i++) {
    const r = makeResponse(task, 'wrong_worked', rng);
    const m = /^(?:r at ([\d, ]+), so (\d+)\.|no r in it, so 0\.)$/.exec(r.text);
    assert.ok(m, r.text);
    const listed = m[1] ? m[1].split(', ').map(Number) : [];
    const said = m[2] ? Number(m[2]) : 0;
    assert.equal(listed.length, said, r.text);
    assert.notEqual(said, 3, r.text);
    assert.deepEqual([...listed].sort((a, b) => a - b), listed, 'positions in order');
    assert.equal(new Set(listed).size, listed.length, 'no position twice');
    // a miscount below 3 keeps only real positions
    if (said < 3) assert.ok(listed.every((p) => [3, 8, 9].includes(p)), r.text);
    else assert.ok([3, 8, 9].every((p) => listed.includes(p)), r.text);
  }
});
