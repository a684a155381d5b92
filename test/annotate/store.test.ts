// The store and assignment: hand-worked targets, leases, never the same task twice, one row per
// (task, annotator), tokens hashed at rest, and a failed save leaving nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnotationStore, parseAnswer } from '../../src/annotate/store.js';
import { annotationTarget, DEFAULT_ASSIGNMENT } from '../../src/annotate/assign.js';
import { isUserError } from '../../src/util/errors.js';
import { answer, TASKS } from './helpers.js';

const A = DEFAULT_ASSIGNMENT; // 3 annotators, +2 when the spread exceeds 2

test('annotationTarget: the first three helpfulness ratings decide whether two more are asked', () => {
  assert.equal(annotationTarget([[4, 2], [1, 2], [3, 2]], 3, A), 5); // response 1: 4 − 1 = 3 > 2
  assert.equal(annotationTarget([[2, 4], [2, 2], [2, 1]], 3, A), 5); // response 2: 4 − 1 = 3 > 2
  assert.equal(annotationTarget([[4, 2], [2, 2], [3, 2]], 3, A), 3); // spread 2 is not above 2
  assert.equal(annotationTarget([[4, 2], [0, 2]], 3, A), 3); // two answers: not decided yet
  assert.equal(annotationTarget([[4, 2], [2, 2], [3, 2], [0, 2]], 3, A), 3); // the 4th answer does not count
  assert.equal(annotationTarget([[4, 2], null, [0, 2]], 3, A), 5); // a flagged answer has no rating; 4 − 0 = 4
  assert.equal(annotationTarget([[4, 2], [2, 2], [3, 2]], 5, A), 5); // never lowered
  assert.equal(annotationTarget([[4, 4], [1, 1], [1, 1]], 3, { ...A, extraWhenSpreadAbove: 3, extraAnnotators: 4 }), 3); // 3 is not above 3
  assert.equal(annotationTarget([[4, 4], [0, 1], [1, 1]], 3, { ...A, extraWhenSpreadAbove: 3, extraAnnotators: 4 }), 7);
});

function withStore(fn: (s: AnnotationStore, dir: string) => void | Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer-annotate-'));
    const s = new AnnotationStore(join(dir, 'studio.db'));
    try {
      await fn(s, dir);
    } finally {
      s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('the database is in WAL mode with full sync, also after a lease or a draft (committed without fsync)', withStore((s) => {
  assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(s.db.pragma('synchronous', { simple: true }), 2); // FULL
  const [t] = s.addTasks([TASKS[0]]);
  const a = s.addAnnotator('a').annotator.id;
  s.nextTask(a);
  s.saveDraft(t, a, { x: 1 });
  s.createSession(a);
  assert.equal(s.db.pragma('synchronous', { simple: true }), 2);
}));

test('three annotators, a helpfulness spread of 3: two more are asked, then the task is full', withStore((s) => {
  const [t] = s.addTasks([TASKS[0]]);
  const people = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => s.addAnnotator(n).annotator.id);
  const hs = [4, 1, 3]; // spread 3
  let now = 1000;
  for (let i = 0; i < 3; i++) {
    assert.equal(s.nextTask(people[i], A, now)?.id, t);
    const r = s.submitAnswer(t, people[i], answer(hs[i], 2, -1), A, ++now);
    assert.equal(r.seq, i + 1);
    assert.equal(r.target, i < 2 ? 3 : 5);
  }
  assert.equal(s.getTask(t)!.target, 5);
  // the first three never get it again; two more do; the sixth finds nothing
  for (let i = 0; i < 3; i++) assert.equal(s.nextTask(people[i], A, ++now), null);
  assert.equal(s.nextTask(people[3], A, ++now)?.id, t);
  assert.equal(s.nextTask(people[4], A, ++now)?.id, t);
  assert.equal(s.nextTask(people[5], A, ++now), null, 'answers 3 + live leases 2 = 5: full');
  s.submitAnswer(t, people[3], answer(3, 2, -1), A, ++now);
  s.submitAnswer(t, people[4], answer(3, 2, -1), A, ++now);
  assert.equal(s.allAnswers().length, 5);
  assert.equal(s.nextTask(people[5], A, ++now), null);
}));

test('agreeing annotators (spread 2): the task stays at three', withStore((s) => {
  const [t] = s.addTasks([TASKS[0]]);
  const people = ['a', 'b', 'c', 'd'].map((n) => s.addAnnotator(n).annotator.id);
  [4, 2, 3].forEach((h, i) => {
    s.nextTask(people[i], A, 10 + i);
    s.submitAnswer(t, people[i], answer(h, 2, 1), A, 20 + i);
  });
  assert.equal(s.getTask(t)!.target, 3);
  assert.equal(s.nextTask(people[3], A, 30), null);
}));

test('leases: resume the held task; an expired lease frees the slot; answering twice edits one row', withStore((s) => {
  const opts = { ...A, annotatorsPerTask: 1, leaseMs: 1000 };
  const ids = s.addTasks(TASKS, opts);
  const a = s.addAnnotator('a').annotator.id;
  const b = s.addAnnotator('b').annotator.id;
  assert.equal(s.nextTask(a, opts, 0)?.id, ids[0]);
  assert.equal(s.nextTask(a, opts, 500)?.id, ids[0], 'resume: the same task while the lease lives');
  assert.equal(s.nextTask(b, opts, 600)?.id, ids[1], 'task 1 is held by a (1 annotator per task)');
  assert.equal(s.nextTask(b, opts, 700)?.id, ids[1]);
  // c takes task 3 while a's lease lives; a walks away, the lease ends at t = 1000, d gets task 1
  const c = s.addAnnotator('c').annotator.id;
  assert.equal(s.nextTask(c, opts, 999)?.id, ids[2]);
  const d = s.addAnnotator('d').annotator.id;
  assert.equal(s.nextTask(d, opts, 1001)?.id, ids[0], 'a\'s lease on task 1 expired at 1000');
  // a comes back late and still saves (the answer is kept; the task gets one more than asked)
  s.submitAnswer(ids[0], a, answer(3, 3, 1), opts, 1100);
  const first = s.submitAnswer(ids[0], d, answer(3, 3, 1), opts, 1200);
  assert.equal(first.revision, 1);
  const again = s.submitAnswer(ids[0], d, answer(4, 3, -2), opts, 1300);
  assert.deepEqual([again.revision, again.seq], [2, first.seq]);
  const mine = s.answer(ids[0], d)!;
  assert.equal(mine.ratings![0].helpfulness, 4);
  assert.equal(mine.preference, -2);
  assert.equal(s.allAnswers().filter((x) => x.taskId === ids[0]).length, 2, 'one row per annotator');
  // never the same task twice: d answered task 1; tasks 2 and 3 are still leased to b and c
  assert.equal(s.nextTask(d, opts, 1400), null);
}));

test('an answer to a task never handed out is refused', withStore((s) => {
  const [t] = s.addTasks([TASKS[0]]);
  const a = s.addAnnotator('a').annotator.id;
  assert.throws(() => s.submitAnswer(t, a, answer(3, 3, 1)), (e) => isUserError(e) && /not assigned to you/.test(e.message));
}));

test('a save that fails half-way leaves nothing: no answer, the lease and the draft kept', withStore((s) => {
  const [t] = s.addTasks([TASKS[0]]);
  const a = s.addAnnotator('a').annotator.id;
  s.nextTask(a, A, 0);
  s.saveDraft(t, a, { partial: true }, 1);
  // make the transaction's last statement fail: the draft deletion, after the answer was inserted
  s.db.exec("CREATE TRIGGER fail_draft BEFORE DELETE ON drafts BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
  assert.throws(() => s.submitAnswer(t, a, answer(3, 3, 1), A, 2), /disk on fire/);
  assert.equal(s.allAnswers().length, 0);
  assert.deepEqual(s.draft(t, a), { partial: true });
  assert.ok(s.isAssigned(t, a), 'the lease is still there');
  s.db.exec('DROP TRIGGER fail_draft');
  s.submitAnswer(t, a, answer(3, 3, 1), A, 3);
  assert.equal(s.allAnswers().length, 1);
  assert.equal(s.draft(t, a), undefined);
}));

test('tokens: only the SHA-256 is stored; wrong and revoked tokens are refused; sessions end with the token', withStore((s) => {
  const { token, annotator } = s.addAnnotator('alice');
  assert.match(token, /^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
  const stored = s.db.prepare('SELECT token_hash FROM annotators WHERE id = ?').pluck().get(annotator.id);
  assert.equal(stored, createHash('sha256').update(token).digest('hex'));
  assert.equal(JSON.stringify(s.db.prepare('SELECT * FROM annotators').all()).includes(token), false);
  assert.deepEqual(s.authenticate(token), annotator);
  assert.equal(s.authenticate(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')), null);
  assert.equal(s.authenticate(''), null);
  const { session } = s.createSession(annotator.id);
  assert.equal(s.session(session)?.annotator.name, 'alice');
  s.revoke('alice');
  assert.equal(s.authenticate(token), null);
  assert.equal(s.session(session), null);
  const fresh = s.rotateToken('alice');
  assert.equal(s.authenticate(fresh)?.name, 'alice');
  assert.throws(() => s.addAnnotator('alice'), /already exists/);
  assert.throws(() => s.addAnnotator('<script>'), /letters, digits/);
}));

test('answers are checked against the guidelines', () => {
  assert.doesNotThrow(() => parseAnswer(answer(3, 2, -1)));
  const bad: [unknown, RegExp][] = [
    [answer(5, 2, -1), /ratings\.0\.helpfulness is invalid: an integer in \[0, 4\]/],
    [answer(3, 2, 0), /preference is invalid: one of -3, -2, -1, 1, 2, 3, -100/],
    [answer(3, 2, 1, { justification: 'Too short.' }), /justification has 2 words; the guidelines ask for 10–50/],
    [answer(3, 2, 1, { justification: 'word '.repeat(51) }), /has 51 words/],
    [answer(3, 2, 1, { flags: ['pii'] }), /a flagged \(invalid\) task is not rated/],
    [{ ...answer(3, 2, 1), ratings: null }, /rate all five attributes/],
    [{ ...answer(3, 2, 1), ratings: null, flags: ['coding'] }, /preference is -100/],
    [{ ...answer(3, 2, 1), extra: 1 }, /invalid/],
    [answer(3, 2, 1, { justification: 'x'.repeat(2001) }), /justification is invalid/],
  ];
  for (const [value, re] of bad) assert.throws(() => parseAnswer(value), (e) => isUserError(e) && re.test(e.message), String(re));
  // a flagged task: no ratings, preference −100, justification optional
  assert.doesNotThrow(() => parseAnswer({ flags: ['pii'], ratings: null, unsafe: [false, false], preference: -100, justification: '' }));
  // neither response is valid, with ratings
  assert.doesNotThrow(() => parseAnswer(answer(0, 1, -100)));
});
