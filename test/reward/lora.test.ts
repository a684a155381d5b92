// A Scaled BT reward model trained with LoRA on a frozen base: it learns, only the adapter and the
// head are trained state (the checkpoint holds nothing else), the untargeted weights are the base's
// bit for bit, and the saved results load in transformers (merged) and peft (adapter + head) with
// steer's scores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainRewardModel } from '../../src/reward/train.js';
import { loadRewardModel } from '../../src/reward/model.js';
import { RewardScorer } from '../../src/reward/score.js';
import { saveModelDir, loadModel } from '../../src/io/checkpoint.js';
import { loadPeftAdapter } from '../../src/io/peft.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { initLlamaWeights } from '../../src/nn/init.js';
import { mergeLora } from '../../src/nn/lora.js';
import { CharTokenizer } from '../../src/text/char.js';
import { Rng } from '../../src/util/rng.js';
import { venvPython } from '../helpers/python.js';
import { assertClose } from '../helpers/close.js';
import { runPy } from '../io/pyrun.js';
import { runSteer } from '../helpers/cli.js';
import { tinyConfig, toySplit } from './helpers.js';

test('Scaled BT with LoRA: learns, trains only adapter + head, keeps the base, loads in transformers and peft', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-rm-lora-'));
  try {
    const c = tinyConfig({ hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8, maxPositionEmbeddings: 256 });
    const tok = new CharTokenizer();
    const baseDir = saveModelDir(join(dir, 'base'), { config: c, weights: initLlamaWeights(c, new Rng(11), { std: 0.3 }), extraFiles: { 'tokenizer.json': JSON.stringify(tok.toJSON()) } });
    const { train, val } = toySplit(400);
    const lora = { rank: 4, alpha: 8, dropout: 0 as const, targets: ['q_proj' as const, 'v_proj' as const, 'down_proj' as const] };
    const r = await trainRewardModel({ loss: 'scaled-bt', out: join(dir, 'run'), init: baseDir, lora, trainPairs: train, valPairs: val.slice(0, 64), steps: 40, batchSize: 8, lr: 1e-2, warmupSteps: 2, checkpointEvery: 40, quiet: true });
    const steps = readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => !m.eval);
    const mean = (xs: { loss: number }[]) => xs.reduce((a, m) => a + m.loss, 0) / xs.length;
    assert.ok(mean(steps.slice(-10)) < mean(steps.slice(0, 10)) - 0.05, `loss ${mean(steps.slice(0, 10))} → ${mean(steps.slice(-10))}`);
    // the trained state is the adapter and the head (params + Adam moments), never the base
    const ckDir = join(dir, 'run', 'checkpoints');
    const step = readdirSync(ckDir).find((f) => f.startsWith('step-'))!;
    const names = [...readSafetensors(join(ckDir, step, 'state.safetensors')).tensors.keys()];
    assert.ok(names.length > 0 && names.every((n) => /lora_[AB]\.weight|score\.(weight|bias)/.test(n)), `checkpoint tensors: ${names.slice(0, 4).join(', ')}`);
    // merged model: untargeted weights are the base's bit for bit; targeted ones = base + s·BA from the saved adapter
    const base = loadModel(baseDir);
    const rm = loadRewardModel(r.modelDir);
    const adapter = loadPeftAdapter(join(dir, 'run', 'adapter'), c);
    assert.deepEqual(adapter.lora, lora);
    assert.deepEqual([...adapter.modules.keys()].sort(), ['score.bias', 'score.weight'].filter((n) => n === 'score.weight' || rm.head.bias.some((b) => b !== 0)).sort());
    const merged = mergeLora(c, base.weights, lora, adapter.weights);
    for (const [n, w] of rm.weights) assert.deepEqual(w.data, merged.get(n)!.data, n);
    assert.deepEqual(rm.weights.get('model.layers.0.self_attn.k_proj.weight')!.data, base.weights.get('model.layers.0.self_attn.k_proj.weight')!.data);
    assert.notDeepEqual(rm.weights.get('model.layers.0.self_attn.q_proj.weight')!.data, base.weights.get('model.layers.0.self_attn.q_proj.weight')!.data);
    assert.deepEqual(rm.head.weight, adapter.modules.get('score.weight')!.data);
    // transformers (merged) and peft (base + adapter + saved head) score like steer
    const py = venvPython(t, ['torch', 'transformers', 'peft']);
    if (!py) return;
    const scorer = new RewardScorer(rm, { threads: 2 });
    const rows = val.slice(0, 4).map((p) => scorer.encode(p.prompt, p.chosen));
    const ours = await scorer.scoreIds(rows);
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ base: baseDir, model: r.modelDir, adapter: join(dir, 'run', 'adapter'), rows, pad: tok.padId }));
    const hf = JSON.parse(runPy(py, 'peft_rm.py', [join(dir, 'spec.json')]));
    assert.equal(hf.merged_class, 'LlamaForSequenceClassification');
    const minusBias = Array.from(ours, (s) => s - rm.head.bias[0]); // transformers' head has no bias
    assertClose(hf.merged, minusBias, { atol: 1e-4, rtol: 0, what: 'transformers, merged' });
    assertClose(hf.peft, minusBias, { atol: 1e-4, rtol: 0, what: 'peft, base + adapter' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LoRA flags: a reward model\'s dropout other than 0 and unknown targets fail with exit 2 before any work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-rm-lora-cli-'));
  try {
    const base = ['rm', 'train', '--loss', 'bt', '--pairs', join(dir, 'none.jsonl'), '--out', join(dir, 'run'), '--lora-rank', '4'];
    const a = runSteer([...base, '--lora-dropout', '0.1']);
    assert.equal(a.status, 2, a.stderr);
    assert.match(a.stderr, /--lora-dropout: LoRA dropout is not implemented for reward models[\s\S]*fix:/);
    const b = runSteer([...base, '--lora-targets', 'q_proj,qkv']);
    assert.equal(b.status, 2, b.stderr);
    assert.match(b.stderr, /--lora-targets: unknown LoRA target qkv[\s\S]*expected: some of q_proj/);
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
