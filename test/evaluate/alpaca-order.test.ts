// AlpacaEval judging fidelity, row by row: Python's string-seeded random.Random (the order the
// two outputs are shown in), identical outputs, duplicate top_logprobs tokens, the inner join; and
// Python's json.dumps for the answer files. Python itself is the reference where it can run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MT19937, pythonSeededChoiceIndex } from '../../src/evaluate/mt19937.js';
import { alpacaIsSwitched, annotateAlpaca, joinAlpacaOutputs, preferenceFromLogprobs } from '../../src/evaluate/run.js';
import { pythonJsonDumps } from '../../src/evaluate/files.js';
import { JudgeClient } from '../../src/evaluate/judge.js';
import { assertClose } from '../helpers/close.js';
import { venvPython } from '../helpers/python.js';
import { sharedFile } from '../helpers/shared.js';
import { startFakeJudge } from './fake-judge.js';

function python(py: string, code: string, input: string): string {
  const r = spawnSync(py, ['-c', code], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test("random.Random(str): steer's MT19937 seeding and random() equal CPython's", (t) => {
  const py = venvPython(t);
  if (!py) return;
  const seeds = ['', 'a', 'hello', 'is_switched_outputsWhat is 2+2?0', 'ünïcødé ✓ 🍓', 'x'.repeat(1000)];
  const expected = JSON.parse(python(py, 'import json, random, sys\nprint(json.dumps([[g.random() for _ in range(700)] for g in (random.Random(s) for s in json.load(sys.stdin))]))', JSON.stringify(seeds)));
  seeds.forEach((s, i) => {
    const g = MT19937.fromPythonString(s);
    // 700 draws cross a twist of the 624-word state
    const got = Array.from({ length: 700 }, () => g.random());
    assert.deepEqual(got, expected[i], `seed ${JSON.stringify(s.slice(0, 20))}`);
  });
});

test("AlpacaEval's output order for all 805 instructions equals random_seeded_choice's", (t) => {
  const py = venvPython(t);
  const path = sharedFile(t, 'data/alpaca-eval/gpt4_1106_preview.model_outputs.json');
  if (!py || !path) return;
  const instructions = (JSON.parse(readFileSync(path, 'utf8')) as { instruction: string }[]).map((r) => r.instruction);
  // alpaca_eval utils.random_seeded_choice, seeded as RandomSwitchTwoColumnsProcessor does (annotator seed 0)
  const code = 'import json, random, sys\nprint(json.dumps([random.Random("is_switched_outputs" + s + "0").choices([False, True], k=1)[0] for s in json.load(sys.stdin)]))';
  const expected: boolean[] = JSON.parse(python(py, code, JSON.stringify(instructions)));
  const got = instructions.map((s) => alpacaIsSwitched(s));
  assert.deepEqual(got, expected);
  const switched = got.filter(Boolean).length;
  assert.ok(switched > 350 && switched < 455, `about half switched: ${switched}`);
  assert.equal(pythonSeededChoiceIndex('is_switched_outputs' + instructions[0] + '0', 2), expected[0] ? 1 : 0);
});

test('logprob parser: a token listed twice keeps its last log-prob, as the official dict comprehension', () => {
  // m: log .2 then log .5 (kept); M: log .5 → P(m) = .5/(.5+.5) = .5 → preference 2 − .5 = 1.5
  // (keeping the first m would give P(m) = .2/.7 and 1.714…)
  const top = [{ token: 'm', logprob: Math.log(0.2) }, { token: 'M', logprob: Math.log(0.5) }, { token: 'm', logprob: Math.log(0.5) }];
  assertClose(preferenceFromLogprobs(top)!, 1.5, { rtol: 1e-12 });
});

test('identical outputs are a draw (1.5) without a judge call; the others are judged in the Python-seeded order', async (t) => {
  const fake = await startFakeJudge(() => ({ text: 'M', top: [{ token: 'M', logprob: Math.log(0.75) }, { token: 'm', logprob: Math.log(0.25) }] }));
  t.after(() => fake.close());
  const client = new JudgeClient({ baseUrl: fake.url, model: 'gpt-4-turbo' });
  const instructions = ['Say hi.', 'Count to three.', 'Name a colour.', 'Write a limerick.'];
  const rows = await annotateAlpaca({
    client,
    annotator: 'a',
    instructions,
    baselineOutputs: ['hi', '1 2 3', 'red', 'There once was'],
    modelOutputs: ['hi', 'one two three', 'red', 'A poet from'],
    baselineName: 'base',
    modelName: 'mine',
    seed: 0,
  });
  assert.equal(fake.requests, 2, 'only the two differing pairs are sent to the judge');
  assert.deepEqual([rows[0].preference, rows[2].preference], [1.5, 1.5]);
  assert.deepEqual([rows[0].raw_completion, rows[2].raw_completion], [null, null]);
  // the judge always answers P(m) = .25 → 1.75 for whatever is shown second; mapped back 3 − 1.75 when switched
  for (const i of [1, 3]) assertClose(rows[i].preference!, alpacaIsSwitched(instructions[i]) ? 1.25 : 1.75, { rtol: 1e-12 });
  const shown = fake.bodies.map((b) => b.messages[1].content);
  for (const [k, i] of [1, 3].entries()) {
    const first = shown[k].indexOf(rows[i].output_2) < shown[k].indexOf(rows[i].output_1) ? 'model' : 'baseline';
    assert.equal(first, alpacaIsSwitched(instructions[i]) ? 'model' : 'baseline', `row ${i}`);
  }
});

test('joining outputs by instruction: strict stops naming the instruction; inner keeps the common ones in baseline order', () => {
  const base = { instructions: ['a', 'b', 'c'], outputs: ['A', 'B', 'C'] };
  const model = { instructions: ['c', 'a', 'z'], outputs: ['c!', 'a!', 'z!'] };
  assert.throws(() => joinAlpacaOutputs(base, model, 'strict', { baseline: 'ref.json', model: 'mine.json' }), /mine\.json \(against ref\.json\[1\]\): baseline instruction 1 has no model output: "b"[\s\S]*--join inner/);
  const j = joinAlpacaOutputs(base, model, 'inner', { baseline: 'ref.json', model: 'mine.json' });
  assert.deepEqual(j, { instructions: ['a', 'c'], baselineOutputs: ['A', 'C'], modelOutputs: ['a!', 'c!'], droppedBaseline: 1, droppedModel: 1 });
});

test("pythonJsonDumps writes what Python's json.dumps writes", (t) => {
  const py = venvPython(t);
  if (!py) return;
  const value = { question_id: 81, answer_id: 'abc', model_id: 'm', choices: [{ index: 0, turns: ['é "q" \\ \n\t\u0001\u007f 🍓 </', ''] }], tstamp: 1733090000.123, ok: true, none: null, nested: { k: [1, 2.5, -3e-7, 1.5e-5, 0.0001, 123456.789] } };
  const expected = python(py, 'import json, sys\nprint(json.dumps(json.load(sys.stdin)), end="")', JSON.stringify(value));
  assert.equal(pythonJsonDumps(value), expected);
});
