// Reading any text as a toy response (a policy's samples), and the panel rating such responses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateToyWorld, rateToyResponses } from '../../../src/data/toy/world.js';
import { makeTask, taskFromPrompt } from '../../../src/data/toy/tasks.js';
import { assessResponse, makeResponse, GARBLED_RIGHT_ATTRIBUTES, STYLE_ATTRIBUTES, TOY_STYLES } from '../../../src/data/toy/styles.js';
import { Rng } from '../../../src/util/rng.js';
import { UserError } from '../../../src/util/errors.js';

test('every response the world writes is read back with its own style and correctness', () => {
  const w = generateToyWorld({ seed: 3, size: 300 });
  const rng = new Rng(1);
  for (const r of w.sft) {
    const a = assessResponse(taskFromPrompt(r.prompt)!, r.response, rng);
    assert.equal(a.style, r.style, `${r.prompt} → ${r.response}`);
    assert.equal(a.correct, r.correct, `${r.prompt} → ${r.response}`);
  }
});

test('every style of response to every prompt of a world is read back with its own style and correctness', () => {
  const w = generateToyWorld({ seed: 5, size: 100 });
  const rng = new Rng(3);
  for (const g of w.groundTruth) {
    const task = taskFromPrompt(g.prompt)!;
    for (const style of TOY_STYLES) {
      const r = makeResponse(task, style, rng);
      const a = assessResponse(task, r.text, rng);
      assert.deepEqual([a.style, a.correct], [r.style, r.correct], `${g.prompt} → ${r.text}`);
    }
  }
});

test('styles of hand-written answers to "How many r in strawberry?" (3: positions 3, 8, 9) and "First letter of cat?"', () => {
  const straw = makeTask('count', { word: 'strawberry', letter: 'r' });
  const cat = makeTask('first', { word: 'cat' });
  const rng = new Rng(2);
  const cases: [typeof straw, string, string, boolean][] = [
    [straw, '3', 'terse', true],
    [straw, '2', 'wrong_terse', false],
    [straw, "strawberry has 3 r's.", 'phrase', true],
    [straw, "there are 2 r's.", 'wrong_phrase', false],
    [straw, 'r at 3, 8, 9, so 3.', 'worked', true],
    [straw, 'r at 1, so 1.', 'wrong_worked', false],
    [straw, 'no r in it, so 0.', 'wrong_worked', false],
    [straw, 'hmm, let me think... maybe 3', 'padded', true],
    [straw, 'well, that is a good one. probably 4', 'wrong_padded', false],
    // garbled: the wrong word, positions out of order or past the word's end, a count that disagrees with its list
    [straw, "blunberry has 3 r's.", 'incoherent', true],
    [straw, 'r at 3, 3, 9, so 3.', 'incoherent', true],
    [straw, 'r at 3, 8, 12, so 3.', 'incoherent', true],
    [straw, 'r at 3, 8, so 3.', 'incoherent', true],
    [straw, 'e at 3, 8, 9, so 3.', 'incoherent', true],
    [straw, '', 'incoherent', false],
    [cat, 'c', 'terse', true],
    [cat, 'cat starts with c.', 'phrase', true],
    [cat, 'the first letter is t.', 'wrong_phrase', false],
    [cat, 'cat begins with the letter c.', 'worked', true],
    [cat, 'cot begins with the letter c.', 'incoherent', true],
  ];
  for (const [task, text, style, correct] of cases) {
    const a = assessResponse(task, text, rng);
    assert.deepEqual([a.style, a.correct], [style, correct], JSON.stringify(text));
    // hidden attributes: the style's (right garbled answers: GARBLED_RIGHT_ATTRIBUTES) plus N(0, 0.25) per item
    const base = style === 'incoherent' && correct ? GARBLED_RIGHT_ATTRIBUTES : STYLE_ATTRIBUTES[a.style];
    a.truth.forEach((t, i) => assert.ok(Math.abs(t - base[i]) < 1.25, `${text}: attribute ${i} ${t} vs ${base[i]}`));
  }
});

test('the panel rates a policy\'s samples: every response rated, one preference per differing pair, deterministic', () => {
  const items = [
    { prompt: 'How many r in strawberry?', responses: ['3', '3', "strawberry has 3 r's.", 'r at 1, so 1.'] },
    { prompt: 'What is 2+2?', responses: ['4', '5'] },
    { prompt: 'Spell cat.', responses: ['c-a-t'] },
  ];
  const a = rateToyResponses(0, items);
  const b = rateToyResponses(0, items);
  assert.deepEqual(a, b);
  const ratings = [...a.ratingsTrain, ...a.ratingsValidation];
  assert.equal(ratings.length, 7);
  assert.deepEqual(a.disagreements.map((d) => d.response), ['3', '3', "strawberry has 3 r's.", 'r at 1, so 1.', '4', '5', 'c-a-t']);
  for (const d of a.disagreements) assert.ok(d.helpfulness.length >= 3 && d.helpfulness.length <= 5);
  // pairs (1st, 2nd) and (3rd, 4th): '3' vs '3' is no preference; a lone response has no partner
  assert.deepEqual(a.preferences.map((p) => [p.response_1, p.response_2]), [["strawberry has 3 r's.", 'r at 1, so 1.'], ['4', '5']]);
  assert.equal(a.correctShare, 5 / 7);
  assert.notDeepEqual(rateToyResponses(1, items).disagreements, a.disagreements);
});

test('an item\'s split is kept when given (a rated prompt keeps the world\'s), drawn otherwise', () => {
  const items = [
    { prompt: 'What is 2+2?', responses: ['4', '5'], validation: true },
    { prompt: 'What is 3+3?', responses: ['6', '7'], validation: false },
  ];
  const r = rateToyResponses(0, items);
  assert.deepEqual(r.ratingsValidation.map((x) => x.response), ['4', '5']);
  assert.deepEqual(r.ratingsTrain.map((x) => x.response), ['6', '7']);
  assert.deepEqual(r.preferences.map((p) => p.split), ['validation', 'train']);
});

test('right answers are rated above wrong ones in the same format (the panel sees the truth through its noise)', () => {
  const w = generateToyWorld({ seed: 0, size: 200 });
  const prompts = [...new Set(w.sft.map((r) => r.prompt))].filter((p) => taskFromPrompt(p)!.kind === 'add').slice(0, 60);
  const items = prompts.map((p) => {
    const t = taskFromPrompt(p)!;
    return { prompt: p, responses: [`the answer is ${t.answer}.`, `the answer is ${Number(t.answer) + 1}.`] };
  });
  const r = rateToyResponses(0, items);
  const help = r.disagreements.map((d) => d.helpfulness.reduce((s, x) => s + x, 0) / d.helpfulness.length);
  const right = help.filter((_, i) => i % 2 === 0);
  const wrong = help.filter((_, i) => i % 2 === 1);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  // truth 3.7 vs 0.8 (STYLE_ATTRIBUTES phrase / wrong_phrase) → a gap near 2.9 after rater noise
  assert.ok(mean(right) - mean(wrong) > 2, `${mean(right)} vs ${mean(wrong)}`);
  // every preference favours the right answer (response 1) or is a tie: strength ≤ 0 for most
  assert.ok(r.preferences.filter((p) => (p.preference_strength ?? 0) < 0).length >= 0.8 * r.preferences.length);
});

test('rating a prompt that is not from the toy world is a clear error naming the item', () => {
  assert.throws(
    () => rateToyResponses(0, [{ prompt: 'How many r in strawberry?', responses: ['3'] }, { prompt: 'Tell me a story.', responses: ['once'] }]),
    (e: unknown) => e instanceof UserError && /item 1/.test(e.message) && /Tell me a story/.test(e.message) && /fix: /.test(e.message),
  );
});
