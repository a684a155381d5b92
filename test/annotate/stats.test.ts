// The admin page's numbers: quadratic-weighted κ worked out by hand, throughput, low agreement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnotationStore } from '../../src/annotate/store.js';
import { studioStats } from '../../src/annotate/stats.js';
import { answer } from './helpers.js';

test('studioStats: κ per annotator and overall by hand; a spread of 4 is low agreement', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-annotate-stats-'));
  const s = new AnnotationStore(join(dir, 'studio.db'));
  try {
    const [t] = s.addTasks([{ prompt: 'p', response1: 'x', response2: 'y', source: 's' }]);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => s.addAnnotator(n).annotator.id);
    s.nextTask(a, undefined, 1000);
    s.submitAnswer(t, a, answer(4, 1, -2), undefined, 4000); // 3 s after the lease
    s.nextTask(b, undefined, 1000);
    s.submitAnswer(t, b, answer(2, 1, -1), undefined, 2000); // 1 s
    let st = studioStats(s, { now: 5000 });
    // annotator a: pairs (4 vs 2), (1 vs 1); n = 2, weights (i − j)²:
    //   observed  Σ w·O/n = 4·½ = 2
    //   expected  Σ w·r_i·c_j/n² = (w(4,2) + w(4,1) + w(1,2) + w(1,1)) / 4 = (4 + 9 + 1 + 0) / 4 = 3.5
    //   κ = 1 − 2/3.5 = 0.428571…  (b's is the same by symmetry)
    const kA = st.annotators.find((x) => x.name === 'a')!;
    assert.ok(Math.abs(kA.helpfulnessKappa - (1 - 2 / 3.5)) < 1e-12, String(kA.helpfulnessKappa));
    assert.equal(kA.pairs, 2);
    assert.ok(Math.abs(st.annotators.find((x) => x.name === 'b')!.helpfulnessKappa - (1 - 2 / 3.5)) < 1e-12);
    // overall: responses [4, 2] and [1, 1], each pair in both orders, n = 4; marginals {4: 1, 2: 1, 1: 2}
    //   observed (4 + 4) / 4 = 2; expected (4·1·1 + 9·1·2 + 4·1·1 + 1·1·2 + 9·2·1 + 1·2·1) / 16 = 48/16 = 3 → κ = 1/3
    assert.ok(Math.abs(st.helpfulness.kappaQuadratic - 1 / 3) < 1e-12);
    assert.deepEqual([kA.answers, kA.answersLastHour, kA.medianSeconds], [1, 1, 3]);
    assert.deepEqual([st.tasks, st.tasksComplete, st.answersGiven, st.answersWanted], [1, 0, 2, 3]);
    assert.deepEqual(st.lowAgreement, []); // 4 − 2 = 2 is not above 2
    s.nextTask(c, undefined, 5000);
    s.submitAnswer(t, c, answer(0, 1, -1), undefined, 6000);
    st = studioStats(s, { now: 7000 });
    assert.deepEqual(st.lowAgreement.map((x) => [x.taskId, x.helpfulnessSpread, x.answers, x.target]), [[t, 4, 3, 5]]);
  } finally {
    s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
