// LoRA for the policy trainers: only the adapter trains (untargeted weights stay bit-identical to the
// base), the reference is the base without the adapter (first DPO loss exactly log 2, first
// REINFORCE KL 0), and the saved PEFT adapter on the saved base gives, in peft, the logits of the
// merged model steer saved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { engineLogits, readF32 } from '../helpers/logits.js';
import { venvPython } from '../helpers/python.js';
import { assertClose } from '../helpers/close.js';
import { runPy } from '../io/pyrun.js';
import { Graph } from '../../src/graph/index.js';
import { initLora, mergeLora, type LoraConfig } from '../../src/nn/lora.js';
import type { LlamaParams } from '../../src/nn/llama.js';
import { policyTokenLogProbs, sequenceFeeds, sequenceInputList, sequenceInputs } from '../../src/policy/graph.js';
import { buildSequenceBatch } from '../../src/policy/sequences.js';
import { PolicyForward } from '../../src/policy/update.js';
import { weightArrays } from '../../src/policy/model.js';
import type { LlamaConfig } from '../../src/nn/config.js';
import type { LlamaWeights } from '../../src/nn/weights.js';
import { loadPeftAdapter } from '../../src/io/peft.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { loadPolicy, savePolicy } from '../../src/policy/model.js';
import { trainSft } from '../../src/policy/sft.js';
import { trainDpo } from '../../src/policy/dpo.js';
import { trainReinforce } from '../../src/policy/reinforce.js';
import type { RewardSource } from '../../src/policy/reward.js';
import { makeTask, renderPrompt } from '../../src/data/toy/tasks.js';
import { makeResponse } from '../../src/data/toy/styles.js';
import { Rng } from '../../src/util/rng.js';
import { tinyCharPolicy } from './tiny.js';

const LORA: LoraConfig = { rank: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj', 'o_proj', 'gate_proj', 'down_proj'] };
const UNTARGETED = /embed_tokens|norm|k_proj|up_proj/;

const records = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => !r.eval);
/** Assert the LoRA run's outputs: untargeted weights bit-identical, targeted changed, model/ = base merged with adapter/. */
function checkSaved(base: LlamaWeights, c: LlamaConfig, modelDir: string, adapterDir: string | null) {
  assert.ok(adapterDir, 'a LoRA run saves an adapter');
  const merged = loadPolicy(modelDir).weights;
  const a = loadPeftAdapter(adapterDir, c);
  assert.equal(a.taskType, 'CAUSAL_LM');
  assert.deepEqual(a.lora, LORA);
  let changed = 0;
  for (const [name, t] of base) {
    const m = merged.get(name)!.data;
    if (UNTARGETED.test(name)) assert.ok(Buffer.from(m.buffer, m.byteOffset, m.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), `${name} is frozen: bit-identical to the base`);
    else if (m.some((x, i) => x !== t.data[i])) changed++;
  }
  assert.equal(changed, LORA.targets.length, 'every targeted projection moved');
  const again = mergeLora(c, base, a.lora, a.weights);
  for (const [name, t] of again) assert.deepEqual(merged.get(name)!.data, t.data, `${name}: model/ = base + s · B A of adapter/`);
}

test('SFT with LoRA: the loss falls, only targeted projections change, and peft reads the adapter on the base with the merged model\'s logits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-lora-sft-'));
  try {
    const policy = tinyCharPolicy(7, 0.5); // frozen tied embeddings: std 0.5 leaves the logits room to move
    const base = new Map([...policy.weights].map(([n, w]) => [n, { shape: [...w.shape], data: new Float32Array(w.data) }]));
    const baseDir = savePolicy(join(dir, 'base'), policy);
    const data = ['cat', 'dog', 'emu', 'fox'].map((w) => ({ prompt: `First letter of ${w}?`, response: w[0] }));
    const res = await trainSft({ policy: loadPolicy(baseDir), data, out: join(dir, 'run'), steps: 40, batchSize: 4, lr: 0.03, threads: 1, quiet: true, resume: false, lora: LORA });
    const rows = records(join(dir, 'run'));
    // a fresh adapter has B = 0: step 1 is the base's loss, above the uniform log 84 ≈ 4.43 (random weights of std 0.5)
    assert.ok(rows[0].loss > 3.5, `initial loss ${rows[0].loss}`);
    assert.ok(res.lastMetrics.loss < 0.5 * rows[0].loss, `loss ${rows[0].loss} → ${res.lastMetrics.loss}`);
    assert.equal(res.adapterDir, join(dir, 'run', 'adapter'));
    const checkpoint = JSON.parse(readFileSync(join(res.modelDir, 'steer.json'), 'utf8'));
    assert.equal(checkpoint.lora?.rank, 4);
    checkSaved(base, policy.config, res.modelDir, res.adapterDir);
    // the train state (checkpoint: params, Adam m and v) holds the adapter only, never the frozen base
    const state = [...readSafetensors(join(dir, 'run', 'checkpoints', 'step-000040', 'state.safetensors')).tensors.keys()];
    assert.equal(state.length, 3 * 2 * LORA.targets.length * policy.config.numLayers, state.join());
    assert.ok(state.every((n) => /\.lora_[AB]\.weight$/.test(n)), state.join());

    const py = venvPython(t, ['peft', 'transformers', 'torch']);
    if (!py) return;
    const c = policy.config;
    const spec = { rows: [[1, 5, 9, 33, 60, 17, 42], [3, 7, 11, 4]], pad: 0 };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    // peft_parity.py's logits mode: LlamaForCausalLM.from_pretrained(DIR/base) + PeftModel.from_pretrained(adapter)
    const facts = JSON.parse(runPy(py, 'peft_parity.py', ['logits', join(dir, 'spec.json'), dir, res.adapterDir!, join(dir, 'peft.f32')]));
    assert.deepEqual(facts, { r: 4, targets: ['down_proj', 'gate_proj', 'o_proj', 'q_proj', 'v_proj'] });
    const T = 7;
    const V = c.vocabSize;
    const real = (x: Float32Array) => Float32Array.from(spec.rows.flatMap((r, b) => Array.from(x.subarray(b * T * V, (b * T + r.length) * V))));
    const peft = real(readF32(join(dir, 'peft.f32')));
    const plain = real(await engineLogits(c, base, spec.rows, spec.pad));
    assert.ok(plain.some((x, i) => Math.abs(x - peft[i]) > 1e-2), 'the trained adapter changes the logits');
    assertClose(real(await engineLogits(c, loadPolicy(res.modelDir).weights, spec.rows, spec.pad)), peft, { atol: 1e-4, rtol: 0, what: 'steer merged model vs peft base + steer adapter' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DPO with LoRA: the reference is the base (first loss exactly log 2), the loss falls, adapter + merged model saved', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-lora-dpo-'));
  try {
    const pairs = [
      { prompt: 'How many r in strawberry?', chosen: '3', rejected: '2' },
      { prompt: 'Spell cat.', chosen: 'c-a-t', rejected: 'c-t' },
      { prompt: 'What is 3+4?', chosen: 'the answer is 7.', rejected: '8' },
      { prompt: 'Reverse dog.', chosen: 'god', rejected: 'dgo' },
    ];
    const policy = tinyCharPolicy(4, 0.3);
    const base = new Map([...policy.weights].map(([n, w]) => [n, { shape: [...w.shape], data: new Float32Array(w.data) }]));
    const res = await trainDpo({ policy, pairs, loss: 'regular', out: dir, steps: 25, batchSize: 4, lr: 0.03, beta: 0.5, threads: 1, quiet: true, resume: false, lora: LORA });
    const rows = records(dir);
    // B = 0 at step 1: policy = reference = base, every implicit reward 0, loss −log σ(0) = log 2
    assertClose(rows[0].loss, Math.LN2, { rtol: 1e-5, what: 'DPO loss at step 1' });
    assert.ok(res.lastMetrics.loss < 0.5 * Math.LN2, `loss ${rows[0].loss} → ${res.lastMetrics.loss}`);
    assert.equal(res.lastMetrics.reward_accuracy, 1);
    checkSaved(base, policy.config, res.modelDir, res.adapterDir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// A prompt-independent preference a low-rank update can learn quickly: answers that start with "c".
const STARTS_WITH_C: RewardSource = { name: 'starts with c', score: async (items) => items.map((x) => (x.response.trim().startsWith('c') ? 1 : 0)) };

test('REINFORCE with LoRA: KL to the base is 0 at step 1, the mean reward rises, adapter + merged model saved', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-lora-rl-'));
  try {
    // the toy slice of reinforce_learns.test.ts: an SFT policy right about half the time
    const WORDS = ['cat', 'dog', 'emu', 'fox', 'owl', 'yak'];
    const rng = new Rng(11);
    const prompts = WORDS.map((word) => renderPrompt(makeTask('first', { word }), 0));
    const data = WORDS.flatMap((word, i) => {
      const task = makeTask('first', { word });
      return [0, 1, 2, 3].map((j) => ({ prompt: prompts[i], response: makeResponse(task, j % 2 === 0 ? 'terse' : 'wrong_terse', rng).text }));
    });
    const sft = await trainSft({ policy: tinyCharPolicy(7, 0.1), data, out: join(dir, 'sft'), steps: 60, batchSize: 8, lr: 0.02, warmupSteps: 5, threads: 1, quiet: true, resume: false });
    const base = new Map([...sft.policy.weights].map(([n, w]) => [n, { shape: [...w.shape], data: new Float32Array(w.data) }]));
    const rl = await trainReinforce({
      policy: sft.policy, reward: STARTS_WITH_C, prompts, out: join(dir, 'rl'), steps: 30, promptsPerStep: 6, samplesPerPrompt: 8,
      maxNewTokens: 4, lr: 0.03, seed: 3, deterministic: true, threads: 1, quiet: true, resume: false, lora: LORA,
    });
    const m = records(join(dir, 'rl'));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assertClose(m[0].kl, 0, { atol: 1e-5, what: 'KL(policy ‖ base) at step 1 (B = 0; log π from generation: float32 rounding)' });
    const first = mean(m.slice(0, 5).map((r) => r.reward_mean));
    const last = mean(m.slice(-5).map((r) => r.reward_mean));
    assert.ok(last - first >= 0.2, `mean reward rose by ${(last - first).toFixed(3)} (${first.toFixed(3)} → ${last.toFixed(3)})`);
    checkSaved(base, sft.policy.config, rl.modelDir, rl.adapterDir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the LoRA policy graph (base baked in, adapter fed) gives the log-probs of the merged weights; its reference is the base', async () => {
  const policy = tinyCharPolicy(3, 0.3);
  const c = policy.config;
  const adapter = initLora(c, LORA, new Rng(2));
  const rng = new Rng(5);
  for (const [n, t] of adapter) if (n.endsWith('lora_B.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal(0, 0.3);
  const build = (g: Graph, cc: LlamaConfig, B: number, T: number, p: LlamaParams, ref: LlamaParams | null) => {
    const s = sequenceInputs(g, B, T);
    return { batch: sequenceInputList(s), outputs: { logp: policyTokenLogProbs(cc, p, s), ...(ref ? { logp_ref: policyTokenLogProbs(cc, ref, s) } : {}) } };
  };
  const examples = [{ prompt: [1, 5, 9, 33], response: [60, 17] }, { prompt: [3, 7], response: [11, 4, 2] }];
  const feeds = sequenceFeeds(buildSequenceBatch(examples, { padId: 0, T: 8 }));
  const withAdapter = new PolicyForward(c, build, null, { threads: 1 }, true, { config: LORA, base: policy.weights });
  const plain = new PolicyForward(c, build, null, { threads: 1 });
  try {
    const a = await withAdapter.run(weightArrays(adapter), 2, 8, feeds);
    const merged = await plain.run(weightArrays(mergeLora(c, policy.weights, LORA, adapter)), 2, 8, feeds);
    const base = await plain.run(weightArrays(policy.weights), 2, 8, feeds);
    assertClose(a.logp as Float32Array, merged.logp as Float32Array, { atol: 1e-5, rtol: 0, what: 'adapted graph vs merged weights' });
    assertClose(a.logp_ref as Float32Array, base.logp as Float32Array, { atol: 1e-6, rtol: 0, what: 'reference = base without the adapter' });
    assert.ok((a.logp as Float32Array).some((x, i) => Math.abs(x - (base.logp as Float32Array)[i]) > 1e-3), 'the adapter changes the log-probs');
  } finally {
    await withAdapter.release();
    await plain.release();
  }
});
