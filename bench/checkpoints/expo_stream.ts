// Peak memory of streaming ExPO over a synthetic multi-GB sharded bf16 reward model.
//   node --import tsx bench/checkpoints/expo_stream.ts [--dir /tmp/steer-expo-bench] [--layers 22] [--shard-mb 1000] [--keep]
// Writes two random LlamaForSequenceClassification checkpoints (Llama-1B-like widths: hidden 2048,
// intermediate 5632, 16/4 heads, vocab 32000; 22 layers ≈ 1.1 B parameters ≈ 2.2 GB in bf16), each
// generated chunk by chunk so this script stays small too, then runs `steer rm expo` on them in a
// child process under /usr/bin/time -v and prints its maximum resident set size against the
// largest shard (target < 3×). Needs ~7 GB of free disk; the files are removed afterwards.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LlamaConfig } from '../../src/nn/config.js';
import { saveModelDirWith } from '../../src/io/checkpoint.js';
import { writeModelWeights } from '../../src/io/sharded.js';
import { CharRewardEncoder } from '../../src/reward/encode.js';
import { HEAD_WEIGHT, sequenceClassificationConfig, trunkWeightShapes } from '../../src/reward/model.js';

const { values: args } = parseArgs({ options: { dir: { type: 'string', default: '/tmp/steer-expo-bench' }, layers: { type: 'string', default: '22' }, 'shard-mb': { type: 'string', default: '1000' }, keep: { type: 'boolean', default: false } } });
const root = args.dir!;
const repo = fileURLToPath(new URL('../..', import.meta.url));

const config: LlamaConfig = {
  vocabSize: 32000, hiddenSize: 2048, intermediateSize: 5632, numLayers: Number(args.layers), numHeads: 16, numKvHeads: 4, headDim: 128,
  rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 2048, tieWordEmbeddings: false, bosTokenId: 1, eosTokenIds: [2],
};

/** A random bf16 reward model written chunk by chunk (xorshift values in ±0.05). */
function writeSynthetic(dir: string, seed: number): void {
  const enc = new CharRewardEncoder();
  const entries = [...trunkWeightShapes(config).map(([name, shape]) => ({ name, shape })), { name: HEAD_WEIGHT, shape: [1, config.hiddenSize] }];
  let x = seed >>> 0 || 1;
  function* chunks(name: string): Generator<Float32Array> {
    const n = entries.find((e) => e.name === name)!.shape.reduce((a, b) => a * b, 1);
    for (let start = 0; start < n; start += 1 << 22) {
      const k = Math.min(1 << 22, n - start);
      const out = new Float32Array(k);
      for (let i = 0; i < k; i++) {
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        out[i] = (x / 4294967296 - 0.5) * 0.1;
      }
      yield out;
    }
  }
  saveModelDirWith(dir, { config, withoutLmHead: true, hfConfig: sequenceClassificationConfig(['reward'], enc.padId), extraFiles: enc.files().extraFiles, meta: { reward: { format: 'steer-reward-model', version: 1, attributes: ['reward'], rewardWeights: [1], textFormat: 'char-chat', maxLength: 2048, loss: null, initFrom: 'synthetic' } } }, (tmp) =>
    writeModelWeights(tmp, entries, chunks, { dtype: 'BF16', maxShardBytes: Number(args['shard-mb']) * 1e6 }),
  );
}

const sizes = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.safetensors')).map((f) => statSync(join(dir, f)).size);
mkdirSync(root, { recursive: true });
try {
  let t = Date.now();
  writeSynthetic(join(root, 'weak'), 1);
  writeSynthetic(join(root, 'strong'), 2);
  const shards = sizes(join(root, 'strong'));
  const total = shards.reduce((a, b) => a + b, 0);
  const largest = Math.max(...shards);
  console.log(`synthetic: 2 × ${(total / 1e9).toFixed(2)} GB bf16 in ${shards.length} shards (largest ${(largest / 1e9).toFixed(2)} GB), written in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  t = Date.now();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, '--import', 'tsx', join(repo, 'src/cli/bin.ts'), 'rm', 'expo', '--weak', join(root, 'weak'), '--strong', join(root, 'strong'), '--out', join(root, 'expo'), '--quiet'], { encoding: 'utf8', cwd: repo });
  if (r.status !== 0) throw new Error(`steer rm expo failed:\n${r.stderr}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)![1]);
  const outShards = sizes(join(root, 'expo'));
  console.log(`steer rm expo: ${((Date.now() - t) / 1000).toFixed(0)} s, output ${outShards.length} shards ${(outShards.reduce((a, b) => a + b, 0) / 1e9).toFixed(2)} GB`);
  console.log(`peak RSS ${(kb / 1024).toFixed(0)} MB = ${((kb * 1024) / largest).toFixed(2)} × the largest shard (${(largest / 1e6).toFixed(0)} MB); target < 3×`);
} finally {
  if (!args.keep) rmSync(root, { recursive: true, force: true });
}
