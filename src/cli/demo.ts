// `steer demo`: the whole recipe on the embedded toy world (src/demo/demo.ts).
import { Command } from 'commander';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { addCommonOptions, announce, commonSchema, resolveConfig } from './command.js';
import { runDemo, type DemoResult } from '../demo/demo.js';

const schema = z.strictObject({
  ...commonSchema,
  out: z.string().min(1),
  quick: z.boolean(),
  full: z.boolean(),
});

export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description('run the whole recipe on the built-in toy world and write an HTML report (≈6–8 min on 2 quiet cores; --quick ≈2 min)')
    .option('--quick', 'the smallest run that still shows every stage (≈2 minutes; used by CI)', false)
    .option('--full', 'every reward-model variant of the paper over 3 seeds, and all three DPO losses', false)
    .addHelpText(
      'after',
      `
Stages: toy world → SFT base policy → the world's annotator panel rates the SFT policy's own sampled
answers (4 per rated and SFT prompt) → reward models started from the SFT policy, trained on the
world's ratings and those (helpfulness regression, Scaled BT initialised from it, ExPO α = 1.52) →
DPO → REINFORCE with the reward model of best held-out accuracy (k = 4, leave-one-out baseline,
KL β = 0.1, lr 1e-4) → evaluation (true task accuracy from the world's ground truth, greedy and
sampled, reward, length, the strawberry probe) → the toy benchmarks (MT-Bench-style grading,
AlpacaEval-style length-controlled win rate and Arena-Hard-style score against the SFT base, computed
by steer's benchmark code with the world's annotator panel as the judge) → knowledge check →
report.html, whose first table is the paper's alignment table in miniature. Running the same
command again continues after the last finished stage.

Examples:
  steer demo                       # default run into runs/demo
  steer demo --quick --out /tmp/d  # a two-minute run
  steer demo --seed 3 --out runs/demo-seed3`,
    );
  addCommonOptions(cmd, { out: 'runs/demo' });
  cmd.action(async () => {
    const cfg = resolveConfig(cmd, schema);
    if (cfg.quick && cfg.full) {
      throw new UserError({ what: '--quick and --full exclude each other', where: 'steer demo', fix: 'pass one of them (or neither for the default run)' });
    }
    announce('demo', cfg, cfg.quiet);
    const result = await runDemo({ out: cfg.out, seed: cfg.seed, preset: cfg.quick ? 'quick' : cfg.full ? 'full' : 'default', threads: cfg.threads, quiet: cfg.quiet });
    process.stdout.write(formatSummary(result));
  });
}

export function formatSummary(r: DemoResult): string {
  const s = r.summary;
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const lines = ['', 'Reward models (held-out preference accuracy):'];
  for (const m of s.rewardModels) lines.push(`${m.id === s.rlRewardModel ? '* ' : '  '}${m.name.padEnd(44)} ${m.accuracies.map(pct).join('  ')}`);
  lines.push('  (* the reward model REINFORCE optimised: the best held-out accuracy)');
  lines.push('', 'Policies on held-out prompts (true accuracy from the ground truth):', `  ${'policy'.padEnd(16)} ${'greedy'.padStart(9)} ${'sampled'.padStart(9)} ${'RM reward'.padStart(10)} ${'length'.padStart(7)}`);
  for (const [name, p] of Object.entries(s.policies)) {
    lines.push(`  ${name.padEnd(16)} ${pct(p.trueAccuracy).padStart(9)} ${pct(p.sampledAccuracy).padStart(9)} ${p.rewardScore.toFixed(3).padStart(10)} ${p.meanLengthChars.toFixed(1).padStart(7)}`);
  }
  const gain = (d: { estimate: number; lower: number; upper: number } | undefined) => (d ? ` ${d.estimate >= 0 ? '+' : ''}${(100 * d.estimate).toFixed(1)} [${(100 * d.lower).toFixed(1)}, ${(100 * d.upper).toFixed(1)}]` : '');
  const hasBench = Object.values(s.policies).some((p) => p.arenaHard);
  if (hasBench) {
    lines.push('', 'The alignment table in miniature (judge: the world\'s annotator panel; 95 % intervals; accuracy changes vs the SFT base in points):');
    lines.push(`  ${'policy'.padEnd(16)} ${'Arena-Hard-style'.padEnd(22)} ${'AlpacaEval-LC-style'.padEnd(22)} ${'MT-Bench-style'.padEnd(22)} length  greedy, sampled accuracy`);
    for (const [name, p] of Object.entries(s.policies)) {
      const a = p.arenaHard!;
      const l = p.alpacaEval!;
      const m = p.mtBench!;
      lines.push(
        `  ${name.padEnd(16)} ${`${a.score.toFixed(1)} [${a.lower.toFixed(1)}, ${a.upper.toFixed(1)}]`.padEnd(22)} ${`${l.lcWinRate.toFixed(1)} [${l.lcLower.toFixed(1)}, ${l.lcUpper.toFixed(1)}]`.padEnd(22)} ${`${m.score.toFixed(2)} [${m.interval.lower.toFixed(2)}, ${m.interval.upper.toFixed(2)}]`.padEnd(22)} ${p.meanLengthChars.toFixed(1).padStart(6)}  ${pct(p.trueAccuracy)}${gain(p.greedyVsBase)}, ${pct(p.sampledAccuracy)}${gain(p.sampledVsBase)}`,
      );
    }
    lines.push(`  strawberry family, right greedily (of 7): ${Object.entries(s.policies).map(([n, p]) => `${n} ${p.probesRight}`).join(', ')}`);
  }
  const total = Object.values(s.stageSeconds).reduce((a, b) => a + b, 0);
  lines.push('', `Report: ${r.reportPath}`, `Summary: ${r.summaryPath}  (stages took ${total.toFixed(0)} s in all)`, '');
  return lines.join('\n');
}
