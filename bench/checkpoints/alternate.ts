// Alternating repeats for the LoRA benchmarks (DESIGN §5): each repeat runs steer's side in a fresh
// Node process, then the PyTorch + peft peer in a fresh Python process (never concurrently), so
// load hits both alike and each process's peak RSS is its own. Medians over repeats; the machine's
// load average is printed beside them.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LlamaConfig } from '../../src/nn/config.js';

/** What one side prints as its last stdout line. */
export interface SideResult {
  step_ms: number[];
  max_rss_mb: number;
  compile_s?: number;
  /** RSS (MB) after named stages of the steer side */
  stages?: Record<string, number>;
  blas?: string[];
}

/** The shapes the benchmarks run: SmolLM2-135M, and Llama-3.2-1B's with a 32k vocabulary. */
export const SHAPES: Record<string, LlamaConfig> = {
  '135m': {
    vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKvHeads: 3, headDim: 64,
    rmsNormEps: 1e-5, ropeTheta: 100000, ropeScaling: null, maxPositionEmbeddings: 8192, tieWordEmbeddings: true, bosTokenId: 1, eosTokenIds: [2],
  },
  '1b': {
    vocabSize: 32000, hiddenSize: 2048, intermediateSize: 8192, numLayers: 16, numHeads: 32, numKvHeads: 8, headDim: 64,
    rmsNormEps: 1e-5, ropeTheta: 500000, ropeScaling: null, maxPositionEmbeddings: 8192, tieWordEmbeddings: true, bosTokenId: 1, eosTokenIds: [2],
  },
};

export function shapeOf(name: string, layers?: string): LlamaConfig {
  const c = SHAPES[name];
  if (!c) throw new Error(`--shape ${name}: expected one of ${Object.keys(SHAPES).join(', ')}`);
  return layers ? { ...c, numLayers: Number(layers) } : c;
}

/** The peer's model description (bench/checkpoints/*_peer.py). */
export function peerConfig(c: LlamaConfig) {
  return { vocab: c.vocabSize, hidden: c.hiddenSize, intermediate: c.intermediateSize, layers: c.numLayers, heads: c.numHeads, kv_heads: c.numKvHeads, rope_theta: c.ropeTheta };
}

export const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

function lastJson(stdout: string, what: string, stderr: string): SideResult {
  const line = stdout.trim().split('\n').pop();
  if (!line) throw new Error(`${what} printed nothing:\n${stderr}`);
  return JSON.parse(line) as SideResult;
}

/**
 * Run `repeats` alternating pairs: steer = this bench script again with `--side steer` and `args`,
 * peer = `peerScript` with `specPath`. Returns every repeat's results and the load averages seen.
 */
export function alternate(benchScript: string, args: string[], peerScript: string, specPath: string, repeats: number): { steer: SideResult[]; peer: SideResult[]; load: number[] } {
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const peerEnv: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '2', OMP_WAIT_POLICY: 'PASSIVE' };
  delete peerEnv.OPENBLAS_CORETYPE; // DESIGN §5: unset for the peer's command alone
  delete peerEnv.OPENBLAS_L2_SIZE;
  const steer: SideResult[] = [];
  const peer: SideResult[] = [];
  const load: number[] = [];
  for (let r = 0; r < repeats; r++) {
    load.push(loadavg()[0]);
    const s = spawnSync(process.execPath, ['--import', 'tsx', benchScript, ...args, '--side', 'steer'], { encoding: 'utf8', cwd: repo, maxBuffer: 1 << 26 });
    if (s.status !== 0) throw new Error(`steer side failed (${s.status ?? s.signal}):\n${s.stderr}`);
    steer.push(lastJson(s.stdout, 'steer side', s.stderr));
    process.stderr.write(`repeat ${r + 1}/${repeats}: steer ${JSON.stringify(steer[r])}\n`);
    load.push(loadavg()[0]);
    const p = spawnSync(join(repo, '.venv/bin/python'), [peerScript, specPath], { encoding: 'utf8', env: peerEnv, maxBuffer: 1 << 26 });
    if (p.status !== 0) throw new Error(`peer failed (${p.status ?? p.signal}):\n${p.stderr}`);
    peer.push(lastJson(p.stdout, 'peer', p.stderr));
    process.stderr.write(`repeat ${r + 1}/${repeats}: torch ${JSON.stringify(peer[r])}\n`);
  }
  load.push(loadavg()[0]);
  return { steer, peer, load };
}

/** The summary lines: median step time over all timed steps of all repeats, median peak RSS over repeats, the ratios. */
export function summary(title: string, res: { steer: SideResult[]; peer: SideResult[]; load: number[] }): string[] {
  const sMs = median(res.steer.flatMap((x) => x.step_ms));
  const pMs = median(res.peer.flatMap((x) => x.step_ms));
  const sRss = median(res.steer.map((x) => x.max_rss_mb));
  const pRss = median(res.peer.map((x) => x.max_rss_mb));
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  return [
    title,
    `steer: median ${sMs.toFixed(0)} ms/step (repeats: ${res.steer.map((x) => `[${fmt(x.step_ms)}]`).join(' ')}), peak RSS median ${sRss.toFixed(0)} MB (${fmt(res.steer.map((x) => x.max_rss_mb))})`,
    `torch+peft: median ${pMs.toFixed(0)} ms/step (repeats: ${res.peer.map((x) => `[${fmt(x.step_ms)}]`).join(' ')}), peak RSS median ${pRss.toFixed(0)} MB (${fmt(res.peer.map((x) => x.max_rss_mb))})${res.peer[0]?.blas ? `; ${res.peer[0].blas.join('; ')}` : ''}`,
    `ratio steer / torch: step time ${(sMs / pMs).toFixed(2)}, peak RSS ${(sRss / pRss).toFixed(2)} (load average 1 min during the runs: ${res.load.map((x) => x.toFixed(1)).join(', ')})`,
  ];
}
