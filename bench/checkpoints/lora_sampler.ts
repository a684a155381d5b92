// REINFORCE's sampler with a LoRA policy, two ways, on a random Llama (--shape 135m | 1b, as
// bench/checkpoints/alternate.ts): `merged` — what steer did before: every step merge the adapter
// into the base (mergeLora) and hand the generator the merged weights (it fuses and transposes
// them: a full copy of the base); `graph` — policyGenerator: the base fed as is and the adapter
// applied in the generation graph (setAdapter). One step = preparing the weights + sampling
// `--rows` rows of `--new` tokens after a `--prompt`-token prompt at temperature 1. Each variant
// runs in its own process, alternating, `--repeats` times; medians of step time and peak RSS.
//   node --import tsx bench/checkpoints/lora_sampler.ts [--shape 135m] [--layers N] [--rows 8] [--prompt 32] [--new 32] [--steps 2] [--repeats 3]
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initLlamaWeights } from '../../src/nn/init.js';
import { LlamaGenerator } from '../../src/nn/generate.js';
import { initLora, mergeLora, type LoraConfig } from '../../src/nn/lora.js';
import { policyGenerator } from '../../src/policy/lora.js';
import { weightArrays } from '../../src/policy/model.js';
import { Rng } from '../../src/util/rng.js';
import { median, shapeOf } from './alternate.js';

const { values: a } = parseArgs({ options: { shape: { type: 'string', default: '135m' }, layers: { type: 'string' }, rows: { type: 'string', default: '8' }, prompt: { type: 'string', default: '32' }, new: { type: 'string', default: '32' }, steps: { type: 'string', default: '2' }, repeats: { type: 'string', default: '3' }, side: { type: 'string' } } });
const c = shapeOf(a.shape!, a.layers);
const lora: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };
const rows = Number(a.rows);
const steps = Number(a.steps);

if (a.side) {
  const base = initLlamaWeights(c, new Rng(0), { std: 0.02 });
  const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
  const baseMb = rssMb();
  const prompts = Array.from({ length: rows }, (_, r) => Array.from({ length: Number(a.prompt) }, (_, t) => 1 + ((r * 7919 + t * 104729) % (c.vocabSize - 1))));
  const stepMs: number[] = [];
  let gen: LlamaGenerator | null = null;
  for (let i = 0; i < 1 + steps; i++) {
    // a new adapter each step, as after an update (B ≠ 0 so the merge does real work)
    const adapter = initLora(c, lora, new Rng(10 + i));
    for (const [n, t] of adapter) if (n.endsWith('lora_B.weight')) t.data.fill(0.01);
    const t0 = performance.now();
    if (a.side === 'merged') {
      const w = mergeLora(c, base, lora, adapter);
      gen = gen ? await gen.setWeights(w) : new LlamaGenerator(c, w, { threads: 2 });
    } else {
      gen = await policyGenerator(c, { config: lora, base }, weightArrays(adapter), gen, { threads: 2 });
    }
    await gen.generate(prompts, { maxNewTokens: Number(a.new), temperature: 1, seed: i, stopTokens: [] });
    if (i > 0) stepMs.push(performance.now() - t0); // the first step compiles
  }
  await gen!.release();
  console.log(JSON.stringify({ step_ms: stepMs, max_rss_mb: process.resourceUsage().maxRSS / 1024, base_mb: baseMb }));
} else {
  const script = fileURLToPath(import.meta.url);
  const args = ['--shape', a.shape!, '--rows', a.rows!, '--prompt', a.prompt!, '--new', a.new!, '--steps', a.steps!, ...(a.layers ? ['--layers', a.layers] : [])];
  const res: Record<string, { step_ms: number[]; max_rss_mb: number; base_mb: number }[]> = { merged: [], graph: [] };
  const load: number[] = [];
  for (let r = 0; r < Number(a.repeats); r++) {
    for (const side of ['merged', 'graph']) {
      load.push(loadavg()[0]);
      const p = spawnSync(process.execPath, ['--import', 'tsx', script, ...args, '--side', side], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (p.status !== 0) throw new Error(`${side} failed:\n${p.stderr}`);
      res[side].push(JSON.parse(p.stdout.trim().split('\n').pop()!));
      process.stderr.write(`repeat ${r + 1}: ${side} ${JSON.stringify(res[side][r])}\n`);
    }
  }
  console.log(`LoRA sampler step (r${lora.rank} q,k,v,o), --shape ${a.shape} (${c.numLayers} layers), ${rows} rows × ${a.new} new tokens after ${a.prompt}, 2 threads, ${a.repeats} alternating repeats of ${steps} timed steps`);
  for (const side of ['merged', 'graph']) {
    const x = res[side];
    console.log(`${side}: median ${median(x.flatMap((y) => y.step_ms)).toFixed(0)} ms/step (${x.map((y) => `[${y.step_ms.map((v) => v.toFixed(0)).join(', ')}]`).join(' ')}), peak RSS median ${median(x.map((y) => y.max_rss_mb)).toFixed(0)} MB (base alone ${median(x.map((y) => y.base_mb))} MB)`);
  }
  const ratio = median(res.graph.flatMap((y) => y.step_ms)) / median(res.merged.flatMap((y) => y.step_ms));
  console.log(`graph / merged: step time ${ratio.toFixed(2)} (load average 1 min: ${load.map((x) => x.toFixed(1)).join(', ')})`);
}
