// steer recipe: one plan file runs regression → Scaled BT from it → ExPO → REINFORCE → evaluation
// in-process (tiny sizes), skips finished stages when rerun, and rejects bad plans before running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRecipe, recipeSchema, runRecipe, type Recipe } from '../../src/scale/recipe.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { initToyPolicy, savePolicy } from '../../src/policy/model.js';
import { UserError } from '../../src/util/errors.js';
import { toySplit } from '../reward/helpers.js';

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

test('a recipe runs its stages in order, each reading the earlier ones; rerun skips them', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-recipe-'));
  try {
    savePolicy(join(dir, 'base'), initToyPolicy(3, { hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, maxPositionEmbeddings: 128 }));
    const { train, val, ratings } = toySplit(200);
    writeFileSync(join(dir, 'pairs.jsonl'), jsonl(train.slice(0, 32).map((p) => ({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, margin: p.margin }))));
    writeFileSync(join(dir, 'val.jsonl'), jsonl(val.slice(0, 16).map((p) => ({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, margin: p.margin }))));
    writeFileSync(join(dir, 'ratings.jsonl'), jsonl(ratings.slice(0, 32).map((r) => ({ prompt: r.prompt, response: r.response, ...r.labels }))));
    writeFileSync(join(dir, 'prompts.jsonl'), jsonl([{ prompt: 'Spell cat.' }, { prompt: 'What is 2+2?' }]));
    const plan: Recipe = recipeSchema.parse({
      format: 'steer-recipe',
      version: 1,
      stages: [
        { name: 'reg', kind: 'rm', loss: 'regression', init: join(dir, 'base'), ratings: [join(dir, 'ratings.jsonl')], attributes: ['helpfulness'], options: { steps: 2, batchSize: 8 } },
        { name: 'sbt', kind: 'rm', loss: 'scaled-bt', init: 'reg', pairs: [join(dir, 'pairs.jsonl')], options: { steps: 2, batchSize: 8 } },
        { name: 'expo', kind: 'expo', weak: 'reg', strong: 'sbt', alpha: 1.52 },
        { name: 'rl', kind: 'reinforce', policy: join(dir, 'base'), reward: 'expo', prompts: [join(dir, 'prompts.jsonl')], options: { steps: 1, promptsPerStep: 2, samplesPerPrompt: 2, maxNewTokens: 6 } },
        { name: 'eval', kind: 'rm-eval', models: ['reg', 'sbt', 'expo'], pairs: [join(dir, 'val.jsonl')] },
      ],
    });
    checkRecipe(plan, 'plan');
    const lines: string[] = [];
    const out = join(dir, 'runs');
    const r = await runRecipe(plan, { out, log: (l) => lines.push(l) });
    assert.deepEqual(r.map((s) => [s.name, s.skipped]), [['reg', false], ['sbt', false], ['expo', false], ['rl', false], ['eval', false]]);
    for (const s of ['reg', 'sbt', 'expo', 'rl']) assert.ok(existsSync(join(out, s, 'model', 'config.json')), s);
    // ExPO read the two earlier stages: θ = θ_reg + 1.52 (θ_sbt − θ_reg), checked on one tensor
    const t = (s: string) => readSafetensors(join(out, s, 'model', 'model.safetensors')).tensors.get('model.norm.weight')!.data;
    const [w, st, e] = [t('reg'), t('sbt'), t('expo')];
    for (let i = 0; i < w.length; i++) assert.ok(Math.abs(e[i] - (w[i] + 1.52 * (st[i] - w[i]))) < 1e-5);
    const results = JSON.parse(readFileSync(join(out, 'eval', 'results.json'), 'utf8')) as Record<string, { n: number }>;
    assert.deepEqual(Object.keys(results), ['reg', 'sbt', 'expo']);
    assert.ok(Object.values(results).every((x) => x.n === 16));
    const again = await runRecipe(plan, { out, log: () => {} });
    assert.ok(again.every((s) => s.skipped));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad plans are refused before anything runs', () => {
  const stage = (over: Record<string, unknown>) => ({ name: 'a', kind: 'rm', loss: 'bt', init: '/nonexistent/model', pairs: ['p.jsonl'], ...over });
  const check = (stages: unknown[], extra: Record<string, unknown> = {}) => checkRecipe(recipeSchema.parse({ format: 'steer-recipe', version: 1, stages, ...extra }), 'plan.json');
  assert.throws(() => check([stage({})]), (e: unknown) => e instanceof UserError && /init "\/nonexistent\/model" is neither an earlier stage nor an existing path/.test(e.message));
  const tmp = mkdtempSync(join(tmpdir(), 'steer-recipe-bad-'));
  try {
    assert.throws(() => check([{ name: 'x', kind: 'expo', weak: 'later', strong: tmp }, stage({ name: 'later', init: tmp })]), (e: unknown) => e instanceof UserError && /weak "later" is neither an earlier stage/.test(e.message));
    assert.throws(() => check([stage({ init: tmp, engine: 'trl' })]), (e: unknown) => e instanceof UserError && /runs on trl but the recipe has no "ray" address/.test(e.message));
    assert.throws(() => check([stage({ init: tmp }), stage({ init: tmp })]), (e: unknown) => e instanceof UserError && /two stages are named "a"/.test(e.message));
    assert.throws(() => check([stage({ init: tmp }), { name: 'rl', kind: 'reinforce', policy: tmp, reward: 'a', prompts: ['p'], engine: 'trl' }], { ray: 'http://h:8265' }), (e: unknown) => e instanceof UserError && /needs rewardUrl/.test(e.message));
    assert.throws(() => recipeSchema.parse({ format: 'steer-recipe', version: 1, stages: [stage({ init: tmp, lossy: 1 })] }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
