// The malformed-input corpus (test/cli/corpus/make.ts) through every command, in-process: each case
// calls main(argv) with stdout and stderr captured and must exit 2 with a message naming the file,
// line, field or option at fault, without a stack trace, and leave no output behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from './corpus/capture.js';
import { makeCorpus, type CorpusCase } from './corpus/make.js';

const STACK = /\n\s+at \S.*[:(]\d+:\d+\)?|internal error/;

/** What is wrong with one case's outcome (empty: clean). */
function problems(c: CorpusCase, r: { code: number; stderr: string }, before: Map<string, Buffer>): string[] {
  const p: string[] = [];
  if (r.code !== 2) p.push(`exit ${r.code}, expected 2`);
  for (const n of c.names) if (!r.stderr.includes(n)) p.push(`stderr does not name ${JSON.stringify(n)}`);
  if (STACK.test(r.stderr)) p.push('stderr holds a stack trace');
  for (const a of c.absent) if (existsSync(a)) p.push(`left output behind: ${a}`);
  for (const [f, bytes] of before) if (!existsSync(f) || !readFileSync(f).equals(bytes)) p.push(`changed ${f}`);
  return p;
}

test('the malformed-input corpus: every case exits 2 naming what is wrong, without a trace or partial output', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-corpus-'));
  try {
    const cases = makeCorpus(dir);
    assert.ok(cases.length >= 150, `at least 150 cases (got ${cases.length})`);
    const failures: string[] = [];
    const t0 = performance.now();
    for (const c of cases) {
      const before = new Map(c.unchanged.map((f) => [f, readFileSync(f)] as const));
      const r = await runCaptured(c.argv);
      const p = problems(c, r, before);
      if (p.length > 0) failures.push(`${c.name}: ${p.join('; ')}\n    steer ${c.argv.join(' ').slice(0, 300)}\n    ${r.stderr.trim().split('\n').join('\n    ').slice(0, 1500)}`);
    }
    const clean = cases.length - failures.length;
    t.diagnostic(`corpus: ${cases.length} cases, ${clean} clean (${((100 * clean) / cases.length).toFixed(1)} %) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(failures.length, 0, `${failures.length} of ${cases.length} cases are not clean:\n${failures.join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the corpus checks can fail: a clean exit 0, a trace, a missing name or a leftover are each caught', () => {
  const c: CorpusCase = { name: 'x', argv: [], names: ['data.jsonl:3'], absent: [tmpdir()], unchanged: [] };
  const trace = 'steer: internal error (please report it):\nTypeError: x\n    at f (/a/b.ts:1:2)';
  const p = problems(c, { code: 1, stderr: trace }, new Map());
  assert.deepEqual(p, ['exit 1, expected 2', 'stderr does not name "data.jsonl:3"', 'stderr holds a stack trace', `left output behind: ${tmpdir()}`]);
  assert.deepEqual(problems({ ...c, absent: [] }, { code: 2, stderr: 'steer: error: data.jsonl:3 field x: bad' }, new Map()), []);
});
