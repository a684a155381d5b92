import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSteer } from '../helpers/cli.js';

const tiny = ['--hidden-size', '16', '--layers', '1', '--heads', '2', '--kv-heads', '1', '--intermediate-size', '24', '--threads', '1', '--quiet'];

test('steer sft → rl reinforce → dpo on a tiny toy world, then usage errors exit 2 with the fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-cli-policy-'));
  try {
    const toy = join(dir, 'toy');
    let r = runSteer(['data', 'toy', '--size', '10', '--out', toy, '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    r = runSteer(['sft', '--init', 'toy', '--data', join(toy, 'sft.jsonl'), '--out', join(dir, 'sft'), '--steps', '3', '--batch-size', '4', ...tiny]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /sft: 3 steps; model in .*sft\/model/);
    assert.ok(existsSync(join(dir, 'sft', 'model', 'model.safetensors')));
    r = runSteer(['rl', 'reinforce', '--policy', join(dir, 'sft', 'model'), '--prompts', join(toy, 'rl-prompts.jsonl'), '--reward', 'toy-truth', '--out', join(dir, 'rl'), '--steps', '2', '--prompts-per-step', '2', '-k', '2', '--max-new-tokens', '8', '--threads', '1', '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /rl reinforce: 2 steps; model in .*rl\/model/);
    const m = readFileSync(join(dir, 'rl', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(m.map((x) => x.step), [1, 2]);
    assert.ok(m[0].kl < 1e-5, `KL ${m[0].kl}`); // log π from generation vs the reference's full pass: float32 rounding
    r = runSteer(['dpo', '--policy', join(dir, 'sft', 'model'), '--pairs', join(toy, 'helpsteer2', 'preference.jsonl'), '--loss', 'scaled', '--out', join(dir, 'dpo'), '--steps', '2', '--batch-size', '2', '--threads', '1', '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /dpo \(scaled\): 2 steps/);
    assert.ok(existsSync(join(dir, 'dpo', 'reference-logps.json')));

    r = runSteer(['rl', 'reinforce', '--policy', join(dir, 'sft', 'model'), '--prompts', join(toy, 'rl-prompts.jsonl'), '--out', join(dir, 'x')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /give exactly one reward[\s\S]*received: none[\s\S]*fix: e\.g\. --reward-model runs\/rm\/model/);
    r = runSteer(['sft', '--data', join(toy, 'sft.jsonl'), '--out', join(dir, 'x')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /give exactly one starting point[\s\S]*fix: pass --model runs\/sft\/model, or --init toy/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--lora-rank on sft, rl reinforce and dpo: merged model/ plus a CAUSAL_LM adapter/; a bad target exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-cli-lora-'));
  try {
    const toy = join(dir, 'toy');
    let r = runSteer(['data', 'toy', '--size', '10', '--out', toy, '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    const lora = ['--lora-rank', '4', '--lora-targets', 'q_proj,v_proj,down_proj'];
    r = runSteer(['sft', '--init', 'toy', '--data', join(toy, 'sft.jsonl'), '--out', join(dir, 'sft'), '--steps', '2', '--batch-size', '4', ...tiny, ...lora]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /model in .*sft\/model \(merged; LoRA adapter in .*sft\/adapter\)/);
    const cfg = JSON.parse(readFileSync(join(dir, 'sft', 'adapter', 'adapter_config.json'), 'utf8'));
    assert.deepEqual([cfg.task_type, cfg.r, cfg.lora_alpha, cfg.target_modules], ['CAUSAL_LM', 4, 8, ['q_proj', 'v_proj', 'down_proj']]);
    r = runSteer(['rl', 'reinforce', '--policy', join(dir, 'sft', 'model'), '--prompts', join(toy, 'rl-prompts.jsonl'), '--reward', 'toy-truth', '--out', join(dir, 'rl'), '--steps', '2', '--prompts-per-step', '2', '-k', '2', '--max-new-tokens', '8', '--threads', '1', '--quiet', ...lora]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'rl', 'adapter', 'adapter_model.safetensors')) && existsSync(join(dir, 'rl', 'model', 'model.safetensors')));
    r = runSteer(['dpo', '--policy', join(dir, 'sft', 'model'), '--pairs', join(toy, 'helpsteer2', 'preference.jsonl'), '--out', join(dir, 'dpo'), '--steps', '2', '--batch-size', '2', '--threads', '1', '--quiet', ...lora]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'dpo', 'adapter', 'adapter_model.safetensors')));
    r = runSteer(['sft', '--init', 'toy', '--data', join(toy, 'sft.jsonl'), '--out', join(dir, 'x'), '--lora-rank', '4', '--lora-targets', 'qkv', ...tiny]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--lora-targets: unknown LoRA target qkv/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
