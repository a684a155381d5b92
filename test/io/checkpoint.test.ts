import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sharedFile } from '../helpers/shared.js';
import { loadModel, saveModelDir } from '../../src/io/checkpoint.js';
import { serializeSafetensors } from '../../src/io/safetensors.js';
import { referenceLogits } from '../../src/nn/reference.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import { isUserError } from '../../src/util/errors.js';

const tinyDir = fileURLToPath(new URL('../fixtures/tiny-llama3', import.meta.url));

test('llama2.c → steer directory → reload: identical weights and logits, tokenizer copied', (t) => {
  const bin = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tok = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!bin || !tok) return;
  const dir = mkdtempSync(join(tmpdir(), 'steer-ckpt-'));
  try {
    const src = loadModel(bin);
    assert.equal(src.kind, 'llama2c');
    const out = saveModelDir(join(dir, 'stories'), { config: src.config, weights: src.weights, tokenizerFrom: tok, meta: { source: bin } });
    assert.deepEqual(readdirSync(out).sort(), ['config.json', 'model.safetensors', 'steer.json', 'tokenizer.bin']);
    assert.deepEqual(readdirSync(dir), ['stories'], 'no temporary directories left behind');
    const back = loadModel(out);
    assert.equal(back.kind, 'hf-dir');
    assert.deepEqual(back.config, src.config);
    assert.equal(back.meta?.format, 'steer-model');
    assert.equal(back.meta?.source, bin);
    assert.equal(back.tokenizerPath, out);
    for (const [name, w] of src.weights) assert.deepEqual(back.weights.get(name)!.data, w.data, name);
    const ids = [1, 403, 407, 261, 378];
    assert.deepEqual(referenceLogits(back.config, back.weights, ids), referenceLogits(src.config, src.weights, ids));
    assert.deepEqual(loadTokenizer(back.tokenizerPath!, back.config.vocabSize).encode('Once upon a time'), ids);
    const hf = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.equal(hf.model_type, 'llama');
    assert.equal(hf.num_key_value_heads, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('BF16 save; overwrite replaces the directory whole; a failed save leaves the old one intact', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-ckpt2-'));
  try {
    const src = loadModel(tinyDir);
    const target = join(dir, 'm');
    saveModelDir(target, { config: src.config, weights: src.weights, dtype: 'BF16', extraFiles: { 'trainer_state.json': '{"step": 3}' } });
    // the fixture's weights are BF16 already, so a BF16 save is exact
    const back = loadModel(target);
    for (const [name, w] of src.weights) assert.deepEqual(back.weights.get(name)!.data, w.data, name);
    assert.equal(readFileSync(join(target, 'trainer_state.json'), 'utf8'), '{"step": 3}');
    writeFileSync(join(target, 'stale.txt'), 'from an older save');
    saveModelDir(target, { config: src.config, weights: src.weights });
    assert.equal(existsSync(join(target, 'stale.txt')), false, 'the new save replaced the directory');
    const broken = new Map(src.weights);
    broken.delete('model.norm.weight');
    assert.throws(() => saveModelDir(target, { config: src.config, weights: broken }), (e: unknown) => isUserError(e) && /weight model\.norm\.weight is missing/.test(e.message));
    assert.equal(loadModel(target).weights.size, src.weights.size, 'the previous save is intact');
    assert.deepEqual(readdirSync(dir), ['m']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sharded checkpoints (model.safetensors.index.json) load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-shard-'));
  try {
    const src = loadModel(tinyDir);
    const names = [...src.weights.keys()];
    const half = Math.floor(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    shards.forEach((ns, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeFileSync(join(dir, file), serializeSafetensors(new Map(ns.map((n) => [n, src.weights.get(n)!]))));
      for (const n of ns) weightMap[n] = file;
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    writeFileSync(join(dir, 'config.json'), readFileSync(join(tinyDir, 'config.json')));
    const back = loadModel(dir);
    for (const [name, w] of src.weights) assert.deepEqual(back.weights.get(name)!.data, w.data, name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('model loading errors say what is missing and how to fix it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-ckpt-bad-'));
  const expectErr = (p: string, re: RegExp) => assert.throws(() => loadModel(p), (e: unknown) => isUserError(e) && re.test(e.message) && e.message.includes(p) && /fix:/.test(e.message), re.source);
  try {
    expectErr(join(dir, 'nope'), /does not exist/);
    mkdirSync(join(dir, 'empty'));
    expectErr(join(dir, 'empty'), /cannot read the model config/);
    writeFileSync(join(dir, 'empty', 'config.json'), readFileSync(join(tinyDir, 'config.json')));
    expectErr(join(dir, 'empty'), /no model\.safetensors/);
    writeFileSync(join(dir, 'empty', 'pytorch_model.bin'), 'x');
    expectErr(join(dir, 'empty'), /found pytorch_model\.bin: convert it to safetensors/);
    // weights that disagree with the config
    const src = loadModel(tinyDir);
    const w = new Map(src.weights);
    w.set('model.layers.0.self_attn.q_proj.weight', { shape: [2, 2], data: new Float32Array(4) });
    writeFileSync(join(dir, 'empty', 'model.safetensors'), serializeSafetensors(w));
    expectErr(join(dir, 'empty'), /q_proj\.weight has the wrong shape[\s\S]*expected: \[64, 32\][\s\S]*received: \[2, 2\]/);
    w.set('model.layers.0.self_attn.q_proj.weight', src.weights.get('model.layers.0.self_attn.q_proj.weight')!);
    w.set('model.layers.0.self_attn.q_proj.bias', { shape: [64], data: new Float32Array(64) });
    writeFileSync(join(dir, 'empty', 'model.safetensors'), serializeSafetensors(w));
    expectErr(join(dir, 'empty'), /unexpected weight model\.layers\.0\.self_attn\.q_proj\.bias/);
    // an unreadable index, an invalid steer.json
    mkdirSync(join(dir, 'idx'));
    writeFileSync(join(dir, 'idx', 'config.json'), readFileSync(join(tinyDir, 'config.json')));
    writeFileSync(join(dir, 'idx', 'model.safetensors.index.json'), '{"weight_map": 3');
    expectErr(join(dir, 'idx'), /safetensors index is unreadable/);
    const good = saveModelDir(join(dir, 'good'), { config: src.config, weights: src.weights });
    writeFileSync(join(good, 'steer.json'), '{');
    expectErr(good, /steer\.json is not valid JSON[\s\S]*only holds metadata/);
    // saving: an extra file with a path, an output path that is a file, a missing tokenizer
    assert.throws(() => saveModelDir(join(dir, 'x'), { config: src.config, weights: src.weights, extraFiles: { '../evil': 'x' } }), (e: unknown) => isUserError(e) && /"\.\.\/evil" is not a plain file name/.test(e.message) && /fix:/.test(e.message));
    writeFileSync(join(dir, 'afile'), 'x');
    assert.throws(() => saveModelDir(join(dir, 'afile'), { config: src.config, weights: src.weights }), (e: unknown) => isUserError(e) && /exists and is not a directory/.test(e.message) && e.message.includes(join(dir, 'afile')));
    assert.throws(() => saveModelDir(join(dir, 'y'), { config: src.config, weights: src.weights, tokenizerFrom: join(dir, 'no-tokenizer.json') }), (e: unknown) => isUserError(e) && /tokenizer to copy does not exist/.test(e.message));
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), [], 'failed saves leave no temporary directories');
    writeFileSync(join(dir, 'garbage.bin'), Buffer.from('definitely not a model, just text'));
    expectErr(join(dir, 'garbage.bin'), /implausible llama2.c header/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
