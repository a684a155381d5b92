// The new-user trial of issue 17 at a small shape: a random Llama checkpoint saved by transformers
// (bf16, sharded) → `steer rm train --loss scaled-bt --lora-rank` (the reward model) → `steer rl
// reinforce --lora-rank` against it; OUT/model loads in transformers and OUT/adapter in peft on
// the base, and both give steer's logits (the merged model file; the base + adapter merged in
// float32) within 1e-4. The SmolLM2-135M-shaped run is the documented trial in docs/checkpoints.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runSteer } from '../helpers/cli.js';
import { engineLogits, readF32 } from '../helpers/logits.js';
import { venvPython } from '../helpers/python.js';
import { assertClose } from '../helpers/close.js';
import { runPy } from '../io/pyrun.js';
import { mergeLora } from '../../src/nn/lora.js';
import { loadModel } from '../../src/io/checkpoint.js';
import { loadPeftAdapter } from '../../src/io/peft.js';
import { CharTokenizer } from '../../src/text/char.js';

test('new-user trial: transformers-saved sharded bf16 Llama → steer rm train (LoRA) → steer rl reinforce (LoRA); results load in transformers and peft', async (t) => {
  const py = venvPython(t, ['torch', 'transformers', 'peft']);
  if (!py) return;
  const dir = mkdtempSync(join(tmpdir(), 'steer-lora-trial-'));
  try {
    const toy = join(dir, 'toy');
    let r = runSteer(['data', 'toy', '--size', '10', '--out', toy, '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    const base = join(dir, 'base');
    const tok = new CharTokenizer();
    runPy(py, 'lora_trial.py', ['make', base, String(tok.vocabSize)]);
    copyFileSync(join(toy, 'tokenizer.json'), join(base, 'tokenizer.json'));
    const shards = readdirSync(base).filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f));
    assert.ok(shards.length >= 2 && existsSync(join(base, 'model.safetensors.index.json')), `a sharded checkpoint (${shards.join(', ')})`);
    assert.equal(loadModel(base).dtype, 'BF16');

    const lora = ['--lora-rank', '4', '--lora-alpha', '8', '--lora-targets', 'q_proj,k_proj,v_proj,o_proj', '--threads', '1', '--quiet'];
    r = runSteer(['rm', 'train', '--loss', 'scaled-bt', '--init', base, '--pairs', join(toy, 'helpsteer2', 'preference.jsonl'), '--out', join(dir, 'rm'), '--steps', '2', '--batch-size', '2', ...lora]);
    assert.equal(r.status, 0, r.stderr);
    r = runSteer(['rl', 'reinforce', '--policy', base, '--reward-model', join(dir, 'rm', 'model'), '--prompts', join(toy, 'rl-prompts.jsonl'), '--out', join(dir, 'rl'),
      '--steps', '2', '--prompts-per-step', '2', '-k', '4', '--max-new-tokens', '12', '--lr', '0.05', '--lora-dropout', '0.1', ...lora]);
    assert.equal(r.status, 0, r.stderr);
    const model = join(dir, 'rl', 'model');
    const adapterDir = join(dir, 'rl', 'adapter');
    assert.ok(existsSync(join(adapterDir, 'adapter_model.safetensors')));

    const rows = [[1, 20, 9, 33, 60, 17, 42], [1, 7, 11, 4]];
    const spec = { base, model, adapter: adapterDir, rows, pad: tok.padId, out_model: join(dir, 'model.f32'), out_peft: join(dir, 'peft.f32') };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    const facts = JSON.parse(runPy(py, 'lora_trial.py', ['check', join(dir, 'spec.json')]));
    assert.deepEqual(facts, { r: 4, targets: ['k_proj', 'o_proj', 'q_proj', 'v_proj'] });

    const b = loadModel(base);
    const c = b.config;
    const V = c.vocabSize;
    const T = 7;
    const real = (x: Float32Array) => Float32Array.from(rows.flatMap((row, i) => Array.from(x.subarray(i * T * V, (i * T + row.length) * V))));
    const a = loadPeftAdapter(adapterDir, c);
    assert.equal(a.lora.dropout, 0.1);
    assert.ok([...a.weights].some(([n, w]) => n.endsWith('lora_B.weight') && w.data.some((x) => x !== 0)), 'REINFORCE moved lora_B from its zero start');
    const steerMerged = real(await engineLogits(c, mergeLora(c, b.weights, a.lora, a.weights), rows, tok.padId));
    const steerModel = real(await engineLogits(c, loadModel(model).weights, rows, tok.padId));
    const plain = real(await engineLogits(c, b.weights, rows, tok.padId));
    assert.ok(plain.some((x, i) => Math.abs(x - steerMerged[i]) > 1e-3), 'two REINFORCE steps moved the adapter');
    assertClose(real(readF32(spec.out_peft)), steerMerged, { atol: 1e-4, rtol: 0, what: 'peft: base + OUT/adapter vs steer base ⊕ adapter' });
    assertClose(real(readF32(spec.out_model)), steerModel, { atol: 1e-4, rtol: 0, what: 'transformers: OUT/model vs steer on OUT/model' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
