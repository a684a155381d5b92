// The toy benchmarks on answers whose quality is known: a policy that answers every question right
// (worked) must beat a baseline that is right on half of them on all three benchmarks, beyond the
// intervals; a policy answering exactly as the baseline must not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTask, renderPrompt } from '../../src/data/toy/tasks.js';
import { TOY_WORDS } from '../../src/data/toy/words.js';
import { runToyBenchmarks, modelId, TOY_BENCHMARK_FILES } from '../../src/demo/benchmarks.js';
import { aggregateSingle } from '../../src/evaluate/mtbench.js';

test('toy benchmarks: the right policy wins all three beyond noise, the baseline\'s twin does not; results are the files\'', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-toybench-'));
  try {
    const words = TOY_WORDS.slice(10, 70);
    const tasks = words.map((w) => makeTask('first', { word: w }));
    const prompts = tasks.map((t) => renderPrompt(t, 0));
    const right = tasks.map((t) => `${t.word} begins with the letter ${t.answer}.`);
    // the baseline: right (phrased) on even questions, a wrong bare letter on odd ones
    const base = tasks.map((t, i) => (i % 2 === 0 ? `${t.word} starts with ${t.answer}.` : t.word![t.word!.length - 1] === t.answer ? 'q' : t.word![t.word!.length - 1]));
    const r = await runToyBenchmarks({
      seed: 0,
      dir,
      prompts,
      answers: { 'SFT base': base, Twin: [...base], Right: right },
      baseline: 'SFT base',
      // the baseline's sampled answers: wrong 3 of 8 times on even questions, 7 of 8 on odd ones
      baselineWrong: tasks.map((_, i) => (i % 2 === 0 ? 3 : 7)),
      samples: 8,
      quiet: true,
    });
    assert.equal(r.questions, 60);
    // Right beats the baseline: Arena-Hard-style interval above 50, LC interval above 50, MT-Bench gain above 0
    assert.ok(r.arenaHard.Right.lower > 50, JSON.stringify(r.arenaHard.Right));
    assert.ok(r.alpacaEval.Right.lcLower > 50, JSON.stringify(r.alpacaEval.Right));
    assert.ok(r.mtBench.Right.vsBaseline!.lower > 0, JSON.stringify(r.mtBench.Right));
    // the twin gives the baseline's own answers: every AlpacaEval pair is a draw (identical outputs, 1.5),
    // and its Arena-Hard-style interval holds 50
    assert.equal(r.alpacaEval.Twin.winRate, 50);
    assert.ok(r.arenaHard.Twin.lower <= 50 && r.arenaHard.Twin.upper >= 50, JSON.stringify(r.arenaHard.Twin));
    assert.deepEqual([r.arenaHard['SFT base'].score, r.alpacaEval['SFT base'].lcWinRate], [50, 50]);
    // the MT-Bench-style score is aggregateSingle over the judgment file written
    const rows = readFileSync(join(dir, TOY_BENCHMARK_FILES.mtBenchJudgments), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { model: string; turn: number; score: number });
    assert.equal(rows.length, 3 * 60);
    const agg = aggregateSingle(rows);
    for (const p of ['SFT base', 'Twin', 'Right']) assert.equal(r.mtBench[p].score, agg[modelId(p)].average);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, TOY_BENCHMARK_FILES.results), 'utf8')), JSON.parse(JSON.stringify(r)));
    // a second run answers every judgment from the judge cache and gives the same results
    const again = await runToyBenchmarks({ seed: 0, dir, prompts, answers: { 'SFT base': base, Twin: [...base], Right: right }, baseline: 'SFT base', baselineWrong: tasks.map((_, i) => (i % 2 === 0 ? 3 : 7)), samples: 8, quiet: true });
    assert.deepEqual(again, r);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
