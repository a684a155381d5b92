// Can a toy reward model learn to CHECK answers? A clean verification set: prompts of one task kind
// (default first-letter) with a right or a wrong terse answer (labels 4 / 0), words split 4:1 into
// training and unseen; prints how often the trained model scores the right answer above the wrong
// one, on training words and on unseen words (50 % = no checking).
//   node --import tsx bench/rm_verify.ts [kind: first|spell|reverse|count] [rows: 3000] [epochs: 4]
// Measured (3,000 rows, 4 epochs; training words / unseen words): first 82.6 / 75.6 %, spell
// 77.0 / 82.2 %, count (of the word's first letter) 94.9 / 95.6 %, reverse 69.1 / 66.7 %.
// In the toy world the same model gets ~10× fewer examples per (kind, format) and ranks right above
// wrong only 57–60 % (docs/policy.md).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTask, renderPrompt } from '../src/data/toy/tasks.js';
import { makeResponse } from '../src/data/toy/styles.js';
import { TOY_WORDS } from '../src/data/toy/words.js';
import { trainRewardModel } from '../src/reward/train.js';
import { RewardScorer } from '../src/reward/score.js';
import { Rng } from '../src/util/rng.js';
const rng = new Rng(3);
const WORD_KINDS = ['first', 'spell', 'reverse', 'count'] as const; // count: how many of the word's first letter
const kind = (process.argv[2] ?? 'first') as (typeof WORD_KINDS)[number];
if (!WORD_KINDS.includes(kind)) throw new Error(`kind must be one of ${WORD_KINDS.join(', ')} (word tasks)`);
const words = [...TOY_WORDS];
const trainW = words.filter((_, i) => i % 5 !== 0), testW = words.filter((_, i) => i % 5 === 0);
const rows = (ws: string[], n: number) => Array.from({ length: n }, () => { const w = rng.choice(ws); const t = makeTask(kind, { word: w, letter: w[0] }); const right = rng.bernoulli(0.5); return { prompt: renderPrompt(t, rng.int(0, 3)), response: makeResponse(t, right ? 'terse' : 'wrong_terse', rng).text, labels: { helpfulness: right ? 4 : 0 }, right }; });
const train = rows(trainW, Number(process.argv[3] ?? 3000));
const r = await trainRewardModel({ loss: 'regression', attributes: ['helpfulness'], trainRatings: train as never, out: mkdtempSync(join(tmpdir(), 'steer-rm-verify-')), epochs: Number(process.argv[4] ?? 4), lr: 1e-3, seed: 0, threads: 2, quiet: true, resume: false });
const sc = RewardScorer.load(r.modelDir, { threads: 2 });
for (const [name, ws] of [['train words', trainW], ['held-out words', testW]] as const) {
  const ps = ws.map((w) => { const t = makeTask(kind, { word: w, letter: w[0] }); return { p: renderPrompt(t, 0), a: makeResponse(t, 'terse', rng).text, b: makeResponse(t, 'wrong_terse', rng).text }; });
  const ra = await sc.rewards(ps.map((x) => ({ prompt: x.p, response: x.a }))), rb = await sc.rewards(ps.map((x) => ({ prompt: x.p, response: x.b })));
  console.log(kind, name, 'right>wrong', (100 * ra.filter((v, i) => v > rb[i]).length / ps.length).toFixed(1));
}
