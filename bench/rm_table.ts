// The HelpSteer2-Preference paper's Table 1 in miniature on the toy world (src/reward/table.ts):
// every reward-model variant, held-out pair accuracy, mean ± std over seeds.
//   node --import tsx bench/rm_table.ts [--size 1500] [--seeds 0,1,2] [--pair-epochs 3] [--rating-epochs 3]
//        [--lr 1e-3] [--init-lr 3e-4] [--hidden 64] [--layers 2] [--only bt,scaled-bt] [--out /tmp/rm-table]
//        [--base DIR]   (start every variant from a policy, e.g. runs/demo/sft/model, instead of random weights)
// Data: `generateToyWorld({seed: 0, size})`; ratings and preference pairs are split 80/20 by a hash
// of the prompt (prepare.ts isHeldOut), so held-out pairs share no prompt with training data.
// Prints one line per run, then the table and one JSON summary line.
import { parseArgs } from 'node:util';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateToyWorld } from '../src/data/toy/world.js';
import { isHeldOut } from '../src/data/prepare.js';
import { pairsFromPreferenceRows, ratedFromHelpSteer2 } from '../src/reward/data.js';
import { runRewardModelTable } from '../src/reward/table.js';

const { values: a } = parseArgs({
  options: {
    size: { type: 'string', default: '1500' },
    seeds: { type: 'string', default: '0,1,2' },
    'pair-epochs': { type: 'string', default: '3' },
    'rating-epochs': { type: 'string', default: '3' },
    lr: { type: 'string', default: '1e-3' },
    'init-lr': { type: 'string', default: '3e-4' },
    hidden: { type: 'string', default: '64' },
    base: { type: 'string' },
    layers: { type: 'string', default: '2' },
    batch: { type: 'string', default: '16' },
    only: { type: 'string' },
    out: { type: 'string', default: '/tmp/steer-rm-table' },
    'val-fraction': { type: 'string', default: '0.2' },
  },
});
const t0 = performance.now();
const world = generateToyWorld({ seed: 0, size: Number(a.size) });
const vf = Number(a['val-fraction']);
const held = (prompt: unknown) => isHeldOut(prompt as string, vf, 0);
const pairs = pairsFromPreferenceRows(world.preferences);
const rated = ratedFromHelpSteer2([...world.ratingsTrain, ...world.ratingsValidation]);
const trainPairs = pairs.filter((p) => !held(p.prompt));
const valPairs = pairs.filter((p) => held(p.prompt));
const trainRatings = rated.filter((r) => !held(r.prompt));
console.log(`toy world size ${a.size}: ${trainPairs.length} training pairs, ${valPairs.length} held-out pairs, ${trainRatings.length} rated responses`);
const H = Number(a.hidden);
const rows = await runRewardModelTable({
  trainPairs, trainRatings, valPairs,
  out: a.out!,
  seeds: a.seeds!.split(',').map(Number),
  base: a.base,
  scratch: { hiddenSize: H, numLayers: Number(a.layers), numHeads: 4, numKvHeads: 2, intermediateSize: Math.round((H * 11) / 4) },
  pairEpochs: Number(a['pair-epochs']),
  ratingEpochs: Number(a['rating-epochs']),
  lr: Number(a.lr),
  initLr: a['init-lr'] ? Number(a['init-lr']) : undefined,
  batchSize: Number(a.batch),
  only: a.only?.split(','),
  onResult: (r) => console.log(`  ${r.id.padEnd(20)} seed ${r.seed}  accuracy ${(100 * r.accuracy).toFixed(1)} %  (${r.seconds.toFixed(1)} s)`),
});
const ms = (xs: number[]) => {
  const m = xs.reduce((x, y) => x + y, 0) / xs.length;
  const s = xs.length > 1 ? Math.sqrt(xs.reduce((x, y) => x + (y - m) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean: m, std: s };
};
const w = Math.max(...rows.map((r) => r.name.length));
console.log(`\n${'variant'.padEnd(w)}  held-out accuracy (mean ± std over ${a.seeds} seeds, ${valPairs.length} pairs)`);
for (const r of rows) {
  const { mean, std } = ms(r.accuracies);
  console.log(`${r.name.padEnd(w)}  ${(100 * mean).toFixed(1)} ± ${(100 * std).toFixed(1)}   [${r.accuracies.map((x) => (100 * x).toFixed(1)).join(', ')}]`);
}
mkdirSync(a.out!, { recursive: true });
const summary = { bench: 'rm_table', size: Number(a.size), valPairs: valPairs.length, trainPairs: trainPairs.length, seeds: a.seeds, minutes: (performance.now() - t0) / 60000, rows: rows.map((r) => ({ id: r.id, name: r.name, ...ms(r.accuracies), accuracies: r.accuracies, seconds: r.seconds })) };
writeFileSync(join(a.out!, 'table.json'), JSON.stringify(summary, null, 2));
console.log(JSON.stringify(summary));
