// Benchmark: `steer serve` under load on loopback. For each model — stories260K (../shared) and a
// random Llama of llama2.c's stories15M shape (dim 288, 6 layers, 6 heads, vocab 32000, context 256;
// random weights, seed 0, with a synthetic 32000-piece llama2.c tokenizer) — C concurrent
// streaming clients (C = 1, 4, 16, 64) send chat requests of --new-tokens tokens (temperature 1,
// seeded) against (a) the server with continuous batching (--max-batch 64) and (b) the same server
// decoding one request at a time (--max-batch 1, the sequential baseline). Reports per run: 0
// errors, p50/p99 time to first token and per-request latency, total generated tokens/s, and the
// batching speed-up = batched tokens/s ÷ sequential tokens/s. Then the reward endpoint: items/s
// with one item per request (sequential) and 64 items per request.
// Bounded: each level sends max(C, --min-requests) requests; nothing leaves 127.0.0.1.
// The two modes alternate at each client count (--repeats rounds; medians) so both see the same load,
// after one untimed round of each (the prefill graph of a new batch size compiles on first use).
// Usage: node --import tsx bench/serve.ts [--models stories260k,random15m] [--clients 1,4,16,64]
//          [--new-tokens 64] [--min-requests 8] [--threads 2] [--repeats 1] [--no-sequential] [--no-reward]
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer, type SteerServer } from '../src/serve/server.js';
import { saveModelDir } from '../src/io/checkpoint.js';
import { random15m as random15mModel, syntheticTokenizer } from './models.js';
import { initLlamaWeights } from '../src/nn/init.js';
import { checkLlamaConfig, type LlamaConfig } from '../src/nn/config.js';
import { initRewardHead, saveRewardModel } from '../src/reward/model.js';
import { CharRewardEncoder } from '../src/reward/encode.js';
import { Rng } from '../src/util/rng.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'stories260k,random15m' },
    clients: { type: 'string', default: '1,4,16,64' },
    'new-tokens': { type: 'string', default: '64' },
    'min-requests': { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '1' },
    'no-sequential': { type: 'boolean', default: false },
    'no-reward': { type: 'boolean', default: false },
  },
});
const clients = values.clients!.split(',').map(Number);
const newTokens = Number(values['new-tokens']);
const minRequests = Number(values['min-requests']);
const threads = Number(values.threads);
const repeats = Number(values.repeats);
const sharedData = fileURLToPath(new URL('../../shared/data/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'steer-bench-serve-'));

function random15m(): { model: string; name: string } {
  const tok = join(work, 'tok32000.bin');
  syntheticTokenizer(tok, 32000);
  const dir = join(work, 'random15m');
  saveModelDir(dir, { ...random15mModel(), tokenizerFrom: tok });
  return { model: dir, name: 'random15m' };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** One streaming chat request: time to first content, total time, tokens (usage), or an error. */
async function request(url: string, model: string, seed: number): Promise<{ ttftMs: number; totalMs: number; tokens: number } | { error: string }> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: newTokens, temperature: 1, seed, stream: true, stream_options: { include_usage: true } }),
    });
    if (!res.ok || !res.body) return { error: `HTTP ${res.status}: ${await res.text()}` };
    let ttft = -1;
    let tokens = 0;
    let buf = '';
    let done = false;
    const dec = new TextDecoder();
    for await (const chunk of res.body) {
      buf += dec.decode(chunk as Uint8Array, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const line = buf.slice(0, i).replace(/^data: /, '');
        buf = buf.slice(i + 2);
        if (line === '[DONE]') {
          done = true;
          continue;
        }
        const ev = JSON.parse(line);
        if (ev.error) return { error: ev.error.message };
        if (ttft < 0 && ev.choices?.[0]?.delta?.content) ttft = performance.now() - t0;
        if (ev.usage) tokens = ev.usage.completion_tokens;
      }
    }
    if (!done) return { error: 'stream ended without [DONE]' };
    return { ttftMs: ttft, totalMs: performance.now() - t0, tokens };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

async function load(server: SteerServer, model: string, c: number): Promise<{ line: string; tokensPerS: number }> {
  const total = Math.max(c, minRequests);
  let next = 0;
  const results: Awaited<ReturnType<typeof request>>[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < total) {
        const k = next++;
        results.push(await request(server.url, model, k));
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const ok = results.filter((r): r is { ttftMs: number; totalMs: number; tokens: number } => !('error' in r));
  const errors = results.length - ok.length;
  if (errors > 0) console.error(`  errors: ${[...new Set(results.filter((r) => 'error' in r).map((r) => (r as { error: string }).error))].join('; ')}`);
  const tokens = ok.reduce((a, r) => a + r.tokens, 0);
  const ttft = ok.map((r) => r.ttftMs);
  const lat = ok.map((r) => r.totalMs);
  const tps = tokens / wall;
  return {
    tokensPerS: tps,
    line: `clients ${String(c).padStart(2)}: ${results.length} requests, ${errors} errors, ${tokens} tokens in ${wall.toFixed(1)} s = ${tps.toFixed(0)} tok/s; TTFT p50 ${pct(ttft, 50).toFixed(0)} ms p99 ${pct(ttft, 99).toFixed(0)} ms; latency p50 ${pct(lat, 50).toFixed(0)} ms p99 ${pct(lat, 99).toFixed(0)} ms`,
  };
}

async function policyBench(model: string, tokenizer: string | undefined, name: string): Promise<void> {
  // Both servers stay up (an idle one costs nothing) and the two modes alternate at each client
  // count, --repeats rounds, so that both see the same load on a shared machine; medians reported.
  const modes = values['no-sequential'] ? ['batched'] : ['batched', 'sequential'];
  const servers: Record<string, SteerServer> = {};
  for (const mode of modes) {
    const maxBatch = mode === 'batched' ? Math.max(...clients) : 1;
    const t0 = performance.now();
    servers[mode] = await startServer({ model, tokenizer, modelName: name, port: 0, threads, engine: { maxBatch, maxQueue: 1024 } });
    console.log(`${name} ${mode} (max batch ${maxBatch}): ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await request(servers[mode].url, name, 0); // compiles the prefill graph
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  try {
    for (const c of clients) {
      const tps: Record<string, number[]> = Object.fromEntries(modes.map((m) => [m, []]));
      // one untimed round per mode first: prefill graphs compile on first use of a batch size
      for (const mode of modes) await load(servers[mode], name, c);
      const load0 = loadavg()[0];
      for (let r = 0; r < repeats; r++) {
        for (const mode of modes) {
          const res = await load(servers[mode], name, c);
          tps[mode].push(res.tokensPerS);
          console.log(`  ${name} ${mode} ${res.line}`);
        }
      }
      if (tps.sequential) {
        const b = median(tps.batched);
        const q = median(tps.sequential);
        console.log(`${name} continuous batching vs sequential at ${c} clients: ${b.toFixed(0)} vs ${q.toFixed(0)} tok/s (medians of ${repeats}: [${tps.batched.map((x) => x.toFixed(0)).join(', ')}] vs [${tps.sequential.map((x) => x.toFixed(0)).join(', ')}]) = ${(b / q).toFixed(2)}×; load ${load0.toFixed(1)}→${loadavg()[0].toFixed(1)}`);
      }
    }
  } finally {
    for (const mode of modes) await servers[mode].shutdown();
  }
}

async function rewardBench(): Promise<void> {
  const enc = new CharRewardEncoder();
  const c: LlamaConfig = checkLlamaConfig({ vocabSize: enc.vocabSize, hiddenSize: 64, intermediateSize: 176, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 128, tieWordEmbeddings: true, bosTokenId: 1, eosTokenIds: [2] }, 'bench');
  const rng = new Rng(0);
  const dir = join(work, 'rm');
  const attributes = ['helpfulness', 'correctness', 'coherence', 'complexity', 'verbosity'];
  saveRewardModel(dir, { config: c, weights: initLlamaWeights(c, rng), head: initRewardHead(64, 5, rng), info: { format: 'steer-reward-model', version: 1, attributes, rewardWeights: [0.3, 0.74, 0.46, 0.47, -0.33], textFormat: 'char-chat', maxLength: 128, loss: 'regression', initFrom: 'scratch' }, encoder: enc });
  const server = await startServer({ rewardModels: [{ name: 'rm', dir }], port: 0, threads });
  const item = (i: number) => ({ prompt: `How many r in strawberry? (${i})`, response: `There are ${i % 5} r in strawberry.` });
  const post = (items: unknown[]) => fetch(`${server.url}/v1/rewards`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items }) }).then((r) => r.json() as Promise<{ rewards?: number[] }>);
  await post([item(0)]);
  await post(Array.from({ length: 64 }, (_, i) => item(i)));
  for (const [batch, requests] of [[1, 64], [64, 8]] as const) {
    const t0 = performance.now();
    let errors = 0;
    for (let r = 0; r < requests; r++) {
      const res = await post(Array.from({ length: batch }, (_, i) => item(r * batch + i)));
      if (res.rewards?.length !== batch) errors++;
    }
    const s = (performance.now() - t0) / 1000;
    console.log(`reward (5-slot toy RM, dim 64, 2 layers) batch ${batch}: ${requests * batch} items in ${s.toFixed(2)} s = ${((requests * batch) / s).toFixed(0)} items/s, ${errors} errors`);
  }
  await server.shutdown();
}

try {
  for (const m of values.models!.split(',')) {
    if (m === 'stories260k') await policyBench(join(sharedData, 'stories260k', 'stories260K.bin'), join(sharedData, 'stories260k', 'tok512.bin'), 'stories260K');
    else if (m === 'random15m') {
      const r = random15m();
      await policyBench(r.model, undefined, r.name);
    } else throw new Error(`unknown model ${m}`);
  }
  if (!values['no-reward']) await rewardBench();
} finally {
  rmSync(work, { recursive: true, force: true });
}
