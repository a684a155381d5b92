// Reward models on real pairs: Anthropic HH-RLHF harmless-base test (2,312 pairs, ../shared/data),
// split 90/10 by a hash of the prompt, Bradley-Terry, one model from stories260K's weights (llama2.c
// checkpoint + tok512) and one of the same shape from scratch; accuracy on the held-out 10 % and
// on LLMBar (Natural + the four Adversarial sets = RewardBench's Chat Hard subsets).
//   node --import tsx bench/rm_hh.ts [--epochs 1] [--lr 3e-4] [--max-length 256] [--batch 8] [--out /tmp/steer-rm-hh]
// Texts are HH-RLHF transcripts ("\n\nHuman: … \n\nAssistant: …", src/reward/encode.ts) under
// tok512; sequences keep their last --max-length tokens. Prints a table and one JSON line.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { isHeldOut } from '../src/data/prepare.js';
import { readPairFile, type RewardPair } from '../src/reward/data.js';
import { trainRewardModel } from '../src/reward/train.js';
import { evaluatePairs } from '../src/reward/evaluate.js';
import { RewardScorer } from '../src/reward/score.js';
import { REWARDBENCH_SECTIONS, sectionScores } from '../src/evaluate/rewardbench.js';

const shared = join(import.meta.dirname, '..', '..', 'shared', 'data');
const { values: a } = parseArgs({ options: { epochs: { type: 'string', default: '1' }, lr: { type: 'string', default: '3e-4' }, 'scratch-lr': { type: 'string', default: '1e-3' }, 'max-length': { type: 'string', default: '256' }, batch: { type: 'string', default: '8' }, seed: { type: 'string', default: '0' }, out: { type: 'string', default: '/tmp/steer-rm-hh' }, only: { type: 'string' } } });
const t0 = performance.now();
const hh = await readPairFile(join(shared, 'hh-rlhf', 'harmless-base-test.jsonl.gz'));
const held = (p: RewardPair) => isHeldOut(JSON.stringify(p.prompt), 0.1, 0);
const train = hh.filter((p) => !held(p));
const val = hh.filter(held);
const llmbar: RewardPair[] = [];
for (const f of readdirSync(join(shared, 'llmbar')).filter((f) => f.endsWith('.json')).sort()) llmbar.push(...(await readPairFile(join(shared, 'llmbar', f))));
console.log(`HH-RLHF harmless-base test: ${train.length} training pairs, ${val.length} held-out; LLMBar: ${llmbar.length} pairs`);
const stories = join(shared, 'stories260k', 'stories260K.bin');
const tok = join(shared, 'stories260k', 'tok512.bin');
const results: Record<string, unknown>[] = [];
for (const variant of ['stories260K', 'scratch'] as const) {
  if (a.only && a.only !== variant) continue;
  const t1 = performance.now();
  const r = await trainRewardModel({
    loss: 'bt', out: join(a.out!, variant), trainPairs: train, valPairs: val, tokenizer: tok,
    ...(variant === 'stories260K' ? { init: stories, lr: Number(a.lr) } : { scratch: { hiddenSize: 64, numLayers: 5, numHeads: 8, numKvHeads: 4, intermediateSize: 172 }, lr: Number(a['scratch-lr']) }),
    maxLength: Number(a['max-length']), epochs: Number(a.epochs), batchSize: Number(a.batch), seed: Number(a.seed), quiet: true, resume: false, evalEvery: 50,
  });
  const trainSec = (performance.now() - t1) / 1000;
  const scorer = RewardScorer.load(r.modelDir);
  const lb = await evaluatePairs(scorer, llmbar);
  const acc: Record<string, number> = {};
  for (const [k, v] of Object.entries(lb.bySubset)) acc[k] = v.accuracy;
  const chatHard = sectionScores(acc)['Chat Hard'];
  const row = { variant, steps: r.steps, trainSeconds: trainSec, tokensPerSecond: r.tokensPerSecond, heldOut: r.eval, llmbar: lb.overall, llmbarSubsets: lb.bySubset, rewardBenchChatHard: chatHard };
  results.push(row);
  console.log(`${variant.padEnd(12)} held-out ${(100 * r.eval!.accuracy).toFixed(1)} % (${r.eval!.n} pairs), LLMBar ${(100 * lb.overall.accuracy).toFixed(1)} % (${lb.overall.n}), Chat Hard ${(100 * chatHard).toFixed(1)} %, ${r.steps} steps in ${trainSec.toFixed(0)} s`);
  console.log('  LLMBar subsets: ' + Object.entries(lb.bySubset).map(([k, v]) => `${k} ${(100 * v.accuracy).toFixed(1)}`).join(', ') + `  (RewardBench Chat Hard subsets: ${REWARDBENCH_SECTIONS['Chat Hard'].length - 1} of them here)`);
}
console.log(JSON.stringify({ bench: 'rm_hh', minutes: (performance.now() - t0) / 60000, train: train.length, heldOut: val.length, results }));
