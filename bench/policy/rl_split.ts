// The REINFORCE step split — generation, log-probs, reward scoring, update — from the timings
// `steer rl reinforce` (and the demo's REINFORCE stage) write into metrics.jsonl: medians over
// the steps after the first (which compiles its graphs), per run, side by side.
// Usage: node --import tsx bench/policy/rl_split.ts LABEL=RUN_DIR/reinforce/metrics.jsonl [...]
// e.g. two `steer demo --quick --out DIR` runs, one on main's code and one on a branch.
import { readFileSync } from 'node:fs';

const FIELDS = ['generation_ms', 'logprob_ms', 'scoring_ms', 'update_ms', 'stepMs'] as const;
const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const args = process.argv.slice(2);
if (args.length === 0 || args.some((a) => !a.includes('='))) {
  console.error('usage: node --import tsx bench/policy/rl_split.ts LABEL=PATH/metrics.jsonl [LABEL=PATH ...]');
  process.exit(2);
}
console.log(`${'run'.padEnd(16)} ${'steps'.padStart(5)} ${FIELDS.map((f) => f.replace('_ms', '').replace('stepMs', 'step').padStart(11)).join(' ')}   (median ms over steps 2..N)`);
for (const a of args) {
  const [label, path] = a.split('=');
  const rows = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l, i) => {
    try {
      return JSON.parse(l) as Record<string, number>;
    } catch {
      console.error(`${path}:${i + 1}: not a JSON line`);
      process.exit(2);
    }
  }).filter((r) => typeof r.update_ms === 'number' && r.step >= 2);
  if (rows.length < 3) {
    console.error(`${path}: ${rows.length} REINFORCE steps after the first with timings; need at least 3`);
    process.exit(2);
  }
  const med = FIELDS.map((f) => median(rows.map((r) => r[f])));
  const step = med[4];
  console.log(`${label.padEnd(16)} ${String(rows.length).padStart(5)} ${med.map((m, i) => `${m.toFixed(0)}${i < 4 ? ` (${Math.round((100 * m) / step)}%)` : ''}`.padStart(11)).join(' ')}`);
}
