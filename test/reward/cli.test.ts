// `steer rm train|expo|eval|score` as a user runs them (child processes from source).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSteer } from '../helpers/cli.js';
import { toySplit } from './helpers.js';
import { evaluatePairs } from '../../src/reward/evaluate.js';
import { scoreRewardModel } from '../../src/reward/score.js';

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');
const TINY_FLAGS = ['--hidden-size', '16', '--layers', '1', '--heads', '2', '--kv-heads', '1', '--intermediate-size', '32'];

test('rm train → expo → eval → score on toy pair files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-rm-cli-'));
  try {
    const { train, val, ratings } = toySplit(200);
    const pairRow = (p: (typeof train)[number]) => ({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, strength: p.margin });
    writeFileSync(join(dir, 'train.jsonl'), jsonl(train.slice(0, 48).map(pairRow)));
    writeFileSync(join(dir, 'val.jsonl'), jsonl(val.slice(0, 20).map((p, i) => ({ ...pairRow(p), subset: i % 2 ? 'odd' : 'even' }))));
    writeFileSync(join(dir, 'ratings.jsonl'), jsonl(ratings.slice(0, 48).map((r) => ({ prompt: r.prompt, response: r.response, ...r.labels }))));

    const reg = runSteer(['rm', 'train', '--loss', 'regression', '--attributes', 'helpfulness', '--ratings', join(dir, 'ratings.jsonl'), '--steps', '2', '--batch-size', '8', ...TINY_FLAGS, '--out', join(dir, 'reg'), '--quiet']);
    assert.equal(reg.status, 0, reg.stderr);
    assert.match(reg.stdout, /reward model \(regression\) written to .*reg\/model after 2 steps/);
    const sbt = runSteer(['rm', 'train', '--loss', 'scaled-bt', '--init', join(dir, 'reg', 'model'), '--pairs', join(dir, 'train.jsonl'), '--val-pairs', join(dir, 'val.jsonl'), '--steps', '3', '--batch-size', '8', '--out', join(dir, 'sbt'), '--quiet']);
    assert.equal(sbt.status, 0, sbt.stderr);
    assert.match(sbt.stdout, /validation pairs: 20, accuracy \d+\.\d %/);
    assert.equal(readFileSync(join(dir, 'sbt', 'metrics.jsonl'), 'utf8').trim().split('\n').filter((l) => !l.includes('"eval"')).length, 3);

    const ex = runSteer(['rm', 'expo', '--weak', join(dir, 'reg', 'model'), '--strong', join(dir, 'sbt', 'model'), '--out', join(dir, 'expo'), '--quiet']);
    assert.equal(ex.status, 0, ex.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'expo', 'config.json'), 'utf8')).architectures, ['LlamaForSequenceClassification']);

    const ev = runSteer(['rm', 'eval', '--model', join(dir, 'expo'), join(dir, 'val.jsonl'), '--json']);
    assert.equal(ev.status, 0, ev.stderr);
    const res = JSON.parse(ev.stdout) as { overall: { n: number; accuracy: number }; subsets: Record<string, { n: number; accuracy: number }> };
    const lib = await evaluatePairs(join(dir, 'expo'), val.slice(0, 20).map((p, i) => ({ ...p, subset: i % 2 ? 'odd' : 'even' })));
    assert.equal(res.overall.n, 20);
    assert.equal(res.overall.accuracy, lib.overall.accuracy, 'the CLI reports what the library computes');
    assert.deepEqual(Object.keys(res.subsets).sort(), ['even', 'odd']);
    assert.equal(res.subsets.odd.n, 10);

    writeFileSync(join(dir, 'rows.jsonl'), jsonl([{ id: 'a', prompt: 'How many r in strawberry?', response: '3' }, { id: 'b', prompt: [{ role: 'user', content: 'Spell cat.' }], response: 'c-a-t' }]));
    const sc = runSteer(['rm', 'score', join(dir, 'rows.jsonl'), '--model', join(dir, 'expo'), '--out', join(dir, 'scored.jsonl')]);
    assert.equal(sc.status, 0, sc.stderr);
    const scored = readFileSync(join(dir, 'scored.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; reward: number; scores: Record<string, number> });
    assert.deepEqual(scored.map((s) => s.id), ['a', 'b'], 'rows keep their fields and order');
    const direct = await scoreRewardModel(join(dir, 'expo'), [{ prompt: 'How many r in strawberry?', response: '3' }]);
    assert.equal(scored[0].reward, direct[0].reward);
    assert.deepEqual(Object.keys(scored[0].scores), ['helpfulness']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rm usage errors: exit 2 with one clear message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-rm-cli-'));
  try {
    const bad = runSteer(['rm', 'train', '--loss', 'hinge', '--pairs', 'x.jsonl', '--out', join(dir, 'o'), '--quiet']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /loss: .*regression.*bt.*margin-bt.*scaled-bt[\s\S]*fix: correct the listed fields/);
    writeFileSync(join(dir, 'rows.jsonl'), '{"prompt": "hi"}\n');
    const sc = runSteer(['rm', 'score', join(dir, 'rows.jsonl'), '--model', dir]);
    assert.equal(sc.status, 2);
    assert.match(sc.stderr, /rows\.jsonl:1 field response: scoring row: missing field "response"[\s\S]*fix: add "response"/);
    assert.doesNotMatch(sc.stderr, /at .*\.[jt]s:\d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
