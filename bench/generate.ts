// Benchmark: batched greedy generation with a KV cache, steer vs PyTorch eager (same weights,
// same prompts, 2 threads each), for stories260K and a random ~15M-parameter Llama
// (llama2.c's stories15M shape: dim 288, 6 layers, 6 heads, vocab 32000).
// Usage: npm run bench:generate -- [--batches 1,16] [--new-tokens 128] [--prompt-len 8]
//          [--threads 2] [--repeats 3] [--models stories260k,random15m] [--no-peer] [--spin]
// Needs ../shared/data/stories260k and Debian's PyTorch (/usr/bin/python3) for the peer and to
// write the random model (bench/peers/llama_torch.py random-hf, seed 0) into a temp directory.
// Prints one summary line per figure: tokens/s of each side, speed-up = steer tokens/s ÷ PyTorch
// tokens/s (the target: ≥ 1.0), and whether both produced the same tokens. The sides
// alternate for --repeats rounds (steer after one warm-up run that compiles its graphs; the peer
// warms up inside each of its runs) and each reports its best round. Both sides yield idle
// threads (steer's default for generation; --spin lets ONNX Runtime's threads spin, the peer runs
// with OMP_WAIT_POLICY=PASSIVE).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadModel } from '../src/io/checkpoint.js';
import { LlamaGenerator } from '../src/nn/generate.js';
import { parameterCount } from '../src/nn/config.js';
import { Rng } from '../src/util/rng.js';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '1,16' },
    'new-tokens': { type: 'string', default: '128' },
    'prompt-len': { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '3' },
    models: { type: 'string', default: 'stories260k,random15m' },
    'no-peer': { type: 'boolean', default: false },
    spin: { type: 'boolean', default: false },
  },
});
const batches = values.batches!.split(',').map(Number);
const newTokens = Number(values['new-tokens']);
const promptLen = Number(values['prompt-len']);
const threads = Number(values.threads);
const repeats = Number(values.repeats);
const peerScript = fileURLToPath(new URL('./peers/llama_torch.py', import.meta.url));
const sharedData = fileURLToPath(new URL('../../shared/data/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'steer-bench-gen-'));

function python(args: string[]): string {
  const r = spawnSync('/usr/bin/python3', [peerScript, ...args], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: String(threads) } });
  if (r.status !== 0) throw new Error(`PyTorch peer failed (${args[0]}):\n${r.stderr}`);
  return r.stdout;
}

const models: Record<string, () => string> = {
  stories260k: () => join(sharedData, 'stories260k', 'stories260K.bin'),
  random15m: () => {
    const dir = join(work, 'random15m');
    python(['random-hf', '--out', dir, '--preset', '15m', '--seed', '0']);
    return dir;
  },
};

try {
  for (const name of values.models!.split(',')) {
    const path = models[name]();
    const { config, weights } = loadModel(path);
    const gen = new LlamaGenerator(config, weights, { threads, bakeDecodeWeights: true, spinning: values.spin }); // frozen weights, as steer generate
    for (const B of batches) {
      const rng = new Rng(B, 'bench-prompts');
      const prompts = Array.from({ length: B }, () => [1, ...Array.from({ length: promptLen - 1 }, () => rng.int(3, config.vocabSize))]);
      const opts = { maxNewTokens: newTokens, temperature: 0, stopTokens: [] };
      let t = performance.now();
      const first = await gen.generate(prompts, opts); // compiles the prefill and decode graphs
      const warmMs = performance.now() - t;
      // The two sides alternate, one timed run each per round, so that both see the same load
      // (the machine is shared); each reports its best round.
      const pf = join(work, `prompts-${name}-${B}.json`);
      writeFileSync(pf, JSON.stringify(prompts));
      let best = Infinity;
      let peerBest = 0;
      let peerRss = 0;
      let same = true;
      for (let r = 0; r < repeats; r++) {
        t = performance.now();
        await gen.generate(prompts, opts);
        best = Math.min(best, performance.now() - t);
        if (!values['no-peer']) {
          const peer = JSON.parse(python(['bench', '--model', path, '--prompts', pf, '--new-tokens', String(newTokens), '--threads', String(threads), '--repeats', '1']).trim().split('\n').pop()!) as { tokens_per_s: number; tokens: number[][]; peak_rss_mb: number };
          peerBest = Math.max(peerBest, peer.tokens_per_s);
          peerRss = Math.max(peerRss, peer.peak_rss_mb);
          same &&= peer.tokens.every((row, b) => row.every((tk, i) => tk === first[b].tokens[i]));
        }
      }
      const steerTps = (B * newTokens) / (best / 1000);
      const rssMb = process.resourceUsage().maxRSS / 1024; // peak, KiB → MiB
      let line = `generate ${name} (${(parameterCount(config) / 1e6).toFixed(2)}M params) B=${B} new=${newTokens}: steer ${steerTps.toFixed(0)} tok/s (${(best / newTokens).toFixed(2)} ms/step, first run ${warmMs.toFixed(0)} ms incl. compile, peak rss ${rssMb.toFixed(0)} MB)`;
      if (!values['no-peer']) {
        line += `; pytorch ${peerBest.toFixed(0)} tok/s (peak rss ${peerRss.toFixed(0)} MB); speed-up steer/pytorch ${(steerTps / peerBest).toFixed(2)}× (time ratio ${(peerBest / steerTps).toFixed(2)}); same tokens: ${same ? 'yes' : 'NO'}`;
      }
      console.log(line);
    }
    await gen.release();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
