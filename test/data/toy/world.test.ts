import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateToyWorld, toyWorldFiles, writeToyWorld, readGroundTruth, validateEncodable, PROBE_TASKS, SFT_PROMPTS_PER_RATED, TOY_WORLD_FILES } from '../../../src/data/toy/world.js';
import { scoreAnswer, taskFromPrompt } from '../../../src/data/toy/tasks.js';
import { aggregatePreference, aggregateRating } from '../../../src/data/aggregate.js';
import { HELPSTEER2_ATTRIBUTES } from '../../../src/data/helpsteer2.js';
import { UserError } from '../../../src/util/errors.js';

test('byte-identical for a seed, different across seeds', () => {
  const a = toyWorldFiles(generateToyWorld({ seed: 5, size: 150 }));
  const b = toyWorldFiles(generateToyWorld({ seed: 5, size: 150 }));
  const c = toyWorldFiles(generateToyWorld({ seed: 6, size: 150 }));
  assert.deepEqual(Object.keys(a).sort(), Object.values(TOY_WORLD_FILES).sort());
  for (const f of Object.keys(a)) assert.equal(a[f], b[f], f);
  for (const f of Object.keys(a)) if (f !== TOY_WORLD_FILES.tokenizer) assert.notEqual(a[f], c[f], f);
});

test('the default world: sizes, disjoint prompt sets, probes, imperfect SFT, agreement like the paper', () => {
  const w = generateToyWorld({ seed: 0 });
  assert.equal(w.ratingsTrain.length + w.ratingsValidation.length, 2 * 1000);
  assert.equal(w.preferences.length, 1000);
  assert.equal(w.sft.length, 2 * SFT_PROMPTS_PER_RATED * 1000);
  // consecutive HelpSteer2 rows share a prompt, and each preference row is that prompt's two responses
  const rated = [...w.ratingsTrain, ...w.ratingsValidation];
  for (let i = 0; i < w.ratingsTrain.length; i += 2) assert.equal(w.ratingsTrain[i].prompt, w.ratingsTrain[i + 1].prompt);
  const probes = new Set(w.evalPrompts.filter((p) => p.probe).map((p) => p.prompt));
  assert.equal(probes.size, PROBE_TASKS.length);
  assert.ok(probes.has('How many r in strawberry?'));
  const sets = {
    sft: new Set(w.sft.map((r) => r.prompt)),
    rl: new Set(w.rlPrompts.map((r) => r.prompt)),
    eval: new Set(w.evalPrompts.map((r) => r.prompt)),
    rated: new Set(rated.map((r) => r.prompt)),
  };
  const overlap = (x: Set<string>, y: Set<string>) => [...x].filter((p) => y.has(p) && !probes.has(p));
  for (const [n1, s1] of Object.entries(sets)) for (const [n2, s2] of Object.entries(sets)) if (n1 < n2) assert.deepEqual(overlap(s1, s2), [], `${n1} ∩ ${n2}`);
  // probes are rated, trained with RL and evaluated, never imitated in SFT (neither template)
  for (const p of probes) assert.ok(sets.rl.has(p) && sets.rated.has(p) && !sets.sft.has(p));
  for (const r of w.sft) {
    const t = taskFromPrompt(r.prompt)!;
    assert.ok(!PROBE_TASKS.some((p) => t.kind === 'count' && p.word === t.word && p.letter === t.letter), r.prompt);
  }
  // SFT: a mix, about half correct, so the base policy it trains is imperfect
  const correct = w.sft.filter((r) => r.correct).length / w.sft.length;
  assert.ok(correct > 0.45 && correct < 0.62, `SFT correct share ${correct}`);
  // ground truth covers every prompt and agrees with scoreAnswer
  const truth = new Map(w.groundTruth.map((g) => [g.prompt, g]));
  for (const s of Object.values(sets)) for (const p of s) assert.ok(truth.has(p), p);
  for (const r of w.sft) assert.equal(scoreAnswer(taskFromPrompt(r.prompt)!, r.response).correct, r.correct);
  // aggregation by the real rules: each HelpSteer2 value is the rounded mean of the three most similar
  for (const d of w.disagreements) for (const a of HELPSTEER2_ATTRIBUTES) assert.ok(d[a].length >= 3 && d[a].length <= 5);
  const byKey = new Map(rated.map((r) => [`${r.prompt}\u0000${r.response}`, r]));
  for (const d of w.disagreements) {
    const r = byKey.get(`${d.prompt}\u0000${d.response}`)!;
    for (const a of HELPSTEER2_ATTRIBUTES) assert.equal(r[a], aggregateRating(d[a]).value);
  }
  for (const p of w.preferences) {
    assert.notEqual(p.response_1, p.response_2);
    assert.equal(p.preference_strength, aggregatePreference(p.all_preferences_unprocessed!.map((x) => x.strength), { dropTies: false }).strength);
    assert.equal(p.three_most_similar_preferences!.length, 3);
  }
  // Cohen's kappa (quadratic) before/after filtering; paper 0.489 -> 0.878
  const k = w.agreement.preferences;
  assert.ok(k.before.kappaQuadratic > 0.42 && k.before.kappaQuadratic < 0.58, `before ${k.before.kappaQuadratic}`);
  assert.ok(k.after.kappaQuadratic > 0.84 && k.after.kappaQuadratic < 0.93, `after ${k.after.kappaQuadratic}`);
  assert.ok(k.droppedSpread > 0 && k.droppedTies > 0 && k.kept > 0.65 * k.tasks);
});

test('written files: atomic, reloadable ground truth; size limits are a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-toy-'));
  const w = generateToyWorld({ seed: 1, size: 60 });
  writeToyWorld(w, dir);
  const truth = await readGroundTruth(join(dir, TOY_WORLD_FILES.groundTruth));
  assert.equal(truth.size, w.groundTruth.length);
  assert.equal(truth.get('How many r in strawberry?')!.answer, '3');
  const manifest = JSON.parse(readFileSync(join(dir, TOY_WORLD_FILES.manifest), 'utf8'));
  assert.equal(manifest.seed, 1);
  assert.equal(manifest.counts.preferences, 60);
  assert.throws(() => generateToyWorld({ seed: 0, size: 5 }), (e: unknown) => e instanceof UserError && /size must be an integer >= 10/.test(e.message) && /fix: /.test(e.message));
  assert.throws(() => generateToyWorld({ seed: 0, size: 100000 }), (e: unknown) => e instanceof UserError && /distinct prompts/.test(e.message) && /--size/.test(e.message));
  const broken = { ...w, sft: [{ ...w.sft[0], response: 'naïve' }] };
  assert.throws(() => validateEncodable(broken), /not encodable by the char tokenizer/);
});

test('extra evaluation prompts come after every other set: the rest of the world is byte-identical', () => {
  const plain = toyWorldFiles(generateToyWorld({ seed: 4, size: 200 }));
  const w = generateToyWorld({ seed: 4, size: 200, extraEvalPrompts: 150 });
  const extra = toyWorldFiles(w);
  for (const f of ['sft.jsonl', 'rl-prompts.jsonl', 'helpsteer2/train.jsonl', 'helpsteer2/validation.jsonl', 'helpsteer2/preference.jsonl']) assert.equal(extra[f], plain[f], f);
  // the world's own 100 (max(100, 200/5)) and 7 probes first, in the same order, then 150 new prompts
  const before = plain['eval-prompts.jsonl'].trim().split('\n');
  const after = extra['eval-prompts.jsonl'].trim().split('\n');
  assert.equal(before.length, 107);
  assert.deepEqual(after.slice(0, 107), before);
  assert.equal(after.length, 257);
  // the new ones are held out: no SFT, RL or rated prompt among them, each with its ground truth
  const seen = new Set([...w.sft.map((r) => r.prompt), ...w.rlPrompts.map((p) => p.prompt), ...w.ratingsTrain.map((r) => r.prompt), ...w.ratingsValidation.map((r) => r.prompt)]);
  const added = w.evalPrompts.slice(107).map((p) => p.prompt);
  assert.equal(new Set(added).size, 150);
  assert.ok(added.every((p) => !seen.has(p)));
  const truth = new Set(w.groundTruth.map((g) => g.prompt));
  assert.ok(added.every((p) => truth.has(p)));
});
