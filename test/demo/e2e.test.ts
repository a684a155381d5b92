// End to end, as a new user: `steer demo --quick`, then the report opened in headless Chromium —
// a screenshot, the key elements present, and the numbers equal to the run's own files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runSteer } from '../helpers/cli.js';
import type { DemoSummary } from '../../src/demo/demo.js';
import { arenaWinRateIntervals, modelId, TOY_BENCHMARK_FILES, type ToyBenchmarks } from '../../src/demo/benchmarks.js';
import { aggregateSingle } from '../../src/evaluate/mtbench.js';
import { alpacaEvalFromAnnotations, alpacaWinRate, type AlpacaAnnotation } from '../../src/evaluate/alpacaeval.js';
import { readGamedRows } from '../../src/evaluate/alpacaeval-io.js';
import { arenaHardV01, battlesFromJudgment } from '../../src/evaluate/arenahard.js';
import { judgmentRecordsToArena, type ArenaJudgmentRecord } from '../../src/evaluate/run.js';
import { pairedBootstrapDiff } from '../../src/util/bootstrap.js';

const CHROMIUM = process.env.STEER_CHROMIUM ?? '/usr/bin/chromium';
const pct = (x: number) => (100 * x).toFixed(1);

test('steer demo --quick runs every stage, resumes, and writes a report whose numbers are the run\'s', { timeout: 15 * 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-demo-'));
  try {
    const out = join(dir, 'run');
    const first = runSteer(['demo', '--quick', '--out', out], { timeoutMs: 14 * 60_000 });
    assert.equal(first.status, 0, first.stderr.slice(-3000));
    for (const stage of ['world', 'sft', 'rate', 'reward-models', 'dpo', 'reinforce', 'evaluate', 'benchmarks', 'knowledge']) assert.match(first.stderr, new RegExp(`${stage}: finished in`));
    assert.match(first.stdout, /Report: .*report\.html/);

    // Re-running continues after the last finished stage: here, all of them.
    const again = runSteer(['demo', '--quick', '--out', out, '--quiet']);
    assert.equal(again.status, 0, again.stderr);
    const stages = JSON.parse(readFileSync(join(out, 'stages.json'), 'utf8')) as { finished: Record<string, unknown> };
    assert.deepEqual(Object.keys(stages.finished), ['world', 'sft', 'rate', 'reward-models', 'dpo', 'reinforce', 'evaluate', 'benchmarks', 'knowledge']);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as DemoSummary;
    // REINFORCE optimised the reward model of best held-out accuracy (the first in table order on a tie)
    const bestAccuracy = Math.max(...summary.rewardModels.map((m) => m.accuracies[0]));
    const best = summary.rewardModels.find((m) => m.accuracies[0] === bestAccuracy)!.id;
    assert.equal((stages.finished.reinforce as { result: { rewardModel: string } }).result.rewardModel, best);
    assert.equal(summary.rlRewardModel, best);
    // the panel rated 2 sampled answers per rated and SFT prompt of the world (size 400: 400 + 3 × 400 prompts)
    const rate = (stages.finished.rate as { result: { prompts: number; responses: number } }).result;
    assert.deepEqual([rate.prompts, rate.responses], [1600, 3200]);
    const lines = (f: string) => readFileSync(join(out, 'policy-ratings', 'helpsteer2', f), 'utf8').trim().split('\n').length;
    assert.equal(lines('disagreements.jsonl'), 3200);
    assert.equal(lines('train.jsonl') + lines('validation.jsonl'), 3200);
    const evaluation = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8')) as Record<string, { accuracy: number; rewardScore: number; greedy: { correct: boolean }[] }>;
    assert.deepEqual(Object.keys(summary.policies), ['SFT base', 'DPO', 'REINFORCE']);
    for (const [k, p] of Object.entries(summary.policies)) assert.equal(p.trueAccuracy, evaluation[k].accuracy);
    // the knowledge check: the quick world's 100 held-out (non-probe) prompts as questions in the generic
    // multiple-choice format; each policy's accuracy is its correct count over them, and the per-kind
    // counts add up to it
    const questions = readFileSync(join(out, 'knowledge', 'questions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { options: string[]; answer: string; category: string });
    assert.equal(questions.length, 100);
    const knowledge = JSON.parse(readFileSync(join(out, 'knowledge', 'results.json'), 'utf8')) as { questions: number; chance: number; policies: Record<string, { accuracy: number; correct: number; total: number; categories: Record<string, { corr: number; wrong: number }> }> };
    assert.equal(knowledge.questions, 100);
    assert.equal(knowledge.chance, questions.reduce((a, q) => a + 1 / q.options.length, 0) / questions.length);
    assert.deepEqual(Object.keys(knowledge.policies), ['SFT base', 'DPO', 'REINFORCE']);
    for (const [k, p] of Object.entries(knowledge.policies)) {
      assert.equal(p.total, 100);
      assert.equal(p.accuracy, p.correct / 100);
      assert.equal(Object.values(p.categories).reduce((a, c) => a + c.corr, 0), p.correct);
      for (const [cat, c] of Object.entries(p.categories)) assert.equal(c.corr + c.wrong, questions.filter((q) => q.category === cat).length);
      assert.equal(summary.policies[k].knowledgeAccuracy, p.accuracy);
    }
    // The toy benchmarks: every number in results.json (and the summary) is recomputed from the
    // official-format files the run wrote, by the real benchmarks' code
    const bdir = join(out, 'benchmarks');
    const bench = JSON.parse(readFileSync(join(bdir, TOY_BENCHMARK_FILES.results), 'utf8')) as ToyBenchmarks;
    assert.equal(bench.questions, 96);
    const readJsonl = (f: string) => readFileSync(join(bdir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const mt = aggregateSingle(readJsonl(TOY_BENCHMARK_FILES.mtBenchJudgments) as { model: string; turn: number; score: number }[]);
    const gamed = readGamedRows(join(bdir, TOY_BENCHMARK_FILES.alpacaGamed));
    assert.equal(gamed.index.length, 2 * 96, 'a verbose and a concise rewrite of each baseline answer');
    const judgments = ['DPO', 'REINFORCE'].flatMap((p) => readJsonl(TOY_BENCHMARK_FILES.arenaJudgments(modelId(p))) as ArenaJudgmentRecord[]);
    assert.equal(judgments.length, 2 * 96);
    const battles = judgmentRecordsToArena(judgments).flatMap((j) => battlesFromJudgment(j, 'sft-base'));
    const arena = arenaHardV01(battles, { baseline: 'sft-base', rounds: 0 });
    const arenaCi = arenaWinRateIntervals(battles, 'sft-base', ['dpo', 'reinforce'], 0);
    for (const p of ['SFT base', 'DPO', 'REINFORCE']) {
      assert.equal(bench.mtBench[p].score, mt[modelId(p)].average);
      assert.equal(summary.policies[p].mtBench!.score, mt[modelId(p)].average);
      if (p === 'SFT base') continue;
      const annotations = JSON.parse(readFileSync(join(bdir, TOY_BENCHMARK_FILES.alpacaAnnotations(modelId(p))), 'utf8')) as AlpacaAnnotation[];
      // (when every answer pair differs in length alike — say DPO kept every greedy answer — there is no length to control for)
      const lc = bench.alpacaEval[p].lcIsRawWinRate ? alpacaWinRate(annotations.map((a) => a.preference)).win_rate : alpacaEvalFromAnnotations(annotations, gamed).length_controlled_winrate;
      assert.equal(bench.alpacaEval[p].lcWinRate, lc);
      assert.equal(bench.arenaHard[p].score, arena.models[modelId(p)].score);
      assert.deepEqual([summary.policies[p].arenaHard!.lower, summary.policies[p].arenaHard!.upper], [arenaCi[modelId(p)].lower, arenaCi[modelId(p)].upper]);
      // the accuracy gains: paired bootstrap over the per-prompt answers kept in evaluation.json
      const correct = (k: string) => evaluation[k].greedy.map((g) => (g.correct ? 1 : 0));
      assert.deepEqual(summary.policies[p].greedyVsBase, pairedBootstrapDiff(correct(p), correct('SFT base'), { seed: 0 }));
    }
    const metrics = readFileSync(join(out, 'reinforce', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    const rl = metrics.filter((m) => !('eval' in m));
    assert.equal(rl.length, 15, 'the quick preset runs 15 REINFORCE steps');

    if (!existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} is absent: the browser half of this test needs Debian's chromium (.ci/run installs it)`);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 20_000, 'the screenshot shows a rendered page');
      for (const id of ['#alignment-table', '#rm-table', '#policy-table', '#knowledge-table', '#probe-table']) assert.ok(await page.locator(id).isVisible(), `${id} is visible`);
      assert.ok((await page.locator('svg').count()) >= 4, 'plots are drawn');
      const metric = async (key: string) => (await page.locator(`[data-metric="${key}"]`).textContent())?.trim();
      assert.equal(await metric('accuracy.reinforce'), pct(summary.policies.REINFORCE.trueAccuracy));
      assert.equal(await metric('accuracy.sft-base'), pct(summary.policies['SFT base'].trueAccuracy));
      assert.equal(await metric('sampled-accuracy.reinforce'), pct(summary.policies.REINFORCE.sampledAccuracy));
      assert.equal(await metric('reward.reinforce'), summary.policies.REINFORCE.rewardScore.toFixed(3));
      // the alignment table: each number is the run's
      for (const [k, slug] of [['DPO', 'dpo'], ['REINFORCE', 'reinforce']]) {
        assert.equal(await metric(`arena.${slug}`), bench.arenaHard[k].score.toFixed(1));
        assert.equal(await metric(`alpaca-lc.${slug}`), bench.alpacaEval[k].lcWinRate.toFixed(1));
        assert.equal(await metric(`mt-bench.${slug}`), bench.mtBench[k].score.toFixed(2));
        assert.equal(await metric(`greedy.${slug}`), pct(summary.policies[k].trueAccuracy));
        const d = 100 * summary.policies[k].greedyVsBase!.estimate;
        assert.equal(await metric(`greedy-gain.${slug}`), `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)}`);
      }
      assert.equal(await metric('arena.sft-base'), '50.0');
      // human labels, never raw keys
      assert.doesNotMatch((await page.locator('body').textContent()) ?? '', /kappaBefore|preferenceTasks|pairsTrain/);
      for (const [k, slug] of [['SFT base', 'sft-base'], ['DPO', 'dpo'], ['REINFORCE', 'reinforce']]) assert.equal(await metric(`knowledge.${slug}`), pct(knowledge.policies[k].accuracy));
      const expo = summary.rewardModels.find((m) => m.id === 'scaled-bt-init-expo')!;
      assert.equal(await metric('rm.scaled-bt-init-regression-expo'), pct(expo.accuracies[0]));
      // The KL curve's last point is the last REINFORCE step's KL from metrics.jsonl.
      const last = rl[rl.length - 1];
      const label = await page.locator(`svg [aria-label^="step: ${last.step}; KL: "]`).first().getAttribute('aria-label');
      assert.ok(label, 'the KL plot has a point for the last step');
      assert.ok(Math.abs(Number(/KL: ([0-9.e-]+)/.exec(label!)![1]) - last.kl) < 1e-9, `${label} vs ${last.kl}`);
      assert.equal(await page.locator('#probe-table tr').count(), 1 + 7, 'seven probes, strawberry first');
      assert.match((await page.locator('#probe-table tr').nth(1).textContent()) ?? '', /How many r in strawberry\?/);
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
