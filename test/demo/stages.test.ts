import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, type Stage } from '../../src/demo/stages.js';

test('a pipeline skips finished stages and continues after a failure, passing earlier results on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-stages-'));
  try {
    const calls: string[] = [];
    let failB = true;
    const stages: Stage<{ base: number }>[] = [
      { name: 'a', title: 'A', run: async (ctx) => (calls.push('a'), ctx.base + 1) },
      {
        name: 'b',
        title: 'B',
        run: async (_ctx, r) => {
          calls.push('b');
          if (failB) throw new Error('b failed');
          return (r.a as number) * 10;
        },
      },
      { name: 'c', title: 'C', run: async (_ctx, r) => (calls.push('c'), (r.b as number) + 1) },
    ];
    await assert.rejects(runPipeline(dir, { seed: 1 }, stages, { base: 4 }), /b failed/);
    failB = false;
    const done = await runPipeline(dir, { seed: 1 }, stages, { base: 4 });
    assert.deepEqual(calls, ['a', 'b', 'b', 'c'], 'a ran once; b was retried; c ran after it');
    assert.deepEqual([done.a.result, done.b.result, done.c.result], [5, 50, 51]);
    const again = await runPipeline(dir, { seed: 1 }, stages, { base: 4 });
    assert.equal(calls.length, 4, 'a finished pipeline runs nothing');
    assert.equal(again.c.result, 51);
    await assert.rejects(runPipeline(dir, { seed: 2 }, stages, { base: 4 }), /started with different options[\s\S]*fix: rerun with the original options/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
