import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { venvPython } from '../helpers/python.js';
import { runPy } from './pyrun.js';
import { loadModel, saveModelDir } from '../../src/io/checkpoint.js';
import { SafetensorsFile, readSafetensors, serializeSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { INDEX_FILE, openModelWeights, planShards } from '../../src/io/sharded.js';
import { isUserError } from '../../src/util/errors.js';

const tinyDir = fileURLToPath(new URL('../fixtures/tiny-llama3', import.meta.url));

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

test('planShards: greedy in order, HF file names, an oversized tensor alone, one shard → model.safetensors', () => {
  const e = (name: string, n: number) => ({ name, dtype: 'BF16' as const, shape: [n] }); // 2n bytes
  // 100 + 100 ≤ 250 → shard 1; +100 > 250 → shard 2 holds c; d (600 B) > max → alone; e joins nothing before it
  const plan = planShards([e('a', 50), e('b', 50), e('c', 50), e('d', 300), e('e', 10)], 250);
  assert.deepEqual(plan.map((p) => [p.file, p.names, p.bytes]), [
    ['model-00001-of-00004.safetensors', ['a', 'b'], 200],
    ['model-00002-of-00004.safetensors', ['c'], 100],
    ['model-00003-of-00004.safetensors', ['d'], 600],
    ['model-00004-of-00004.safetensors', ['e'], 20],
  ]);
  assert.deepEqual(planShards([e('a', 50)], 1000).map((p) => p.file), ['model.safetensors']);
});

test('sharded save: index with total_size, every tensor back bit for bit, source dtype kept', () => {
  const dir = tmp('steer-shard-rt-');
  try {
    const src = loadModel(tinyDir);
    assert.equal(src.dtype, 'BF16', 'the fixture is stored in bf16');
    const out = saveModelDir(join(dir, 'm'), { config: src.config, weights: src.weights, dtype: src.dtype, maxShardBytes: 8_000 });
    const files = readdirSync(out).filter((f) => f.endsWith('.safetensors')).sort();
    assert.ok(files.length >= 3, `several shards (${files.join(', ')})`);
    assert.ok(files.every((f, i) => f === `model-${String(i + 1).padStart(5, '0')}-of-${String(files.length).padStart(5, '0')}.safetensors`));
    const index = JSON.parse(readFileSync(join(out, INDEX_FILE), 'utf8'));
    let bytes = 0;
    for (const [name, t] of src.weights) bytes += t.data.length * 2;
    assert.equal(index.metadata.total_size, bytes, 'total_size = data bytes (bf16: 2 per value)');
    assert.deepEqual(new Set(Object.values(index.weight_map)), new Set(files));
    const back = loadModel(out);
    assert.equal(back.dtype, 'BF16');
    for (const [name, w] of src.weights) assert.deepEqual(back.weights.get(name)!.data, w.data, name);
    // raw bytes identical to the fixture's (bf16 → f32 → bf16 is exact)
    const a = new SafetensorsFile(join(tinyDir, 'model.safetensors'));
    const b = openModelWeights(out);
    for (const name of b.names()) {
      const f = new SafetensorsFile(join(out, b.entry(name).file));
      assert.deepEqual(f.readRaw(name), a.readRaw(name), name);
      f.close();
    }
    a.close();
    b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('layout errors come before any tensor is read: missing shard, unknown dtype, tensor not in its shard', () => {
  const dir = tmp('steer-shard-bad-');
  const expectErr = (p: string, re: RegExp) => assert.throws(() => loadModel(p), (e: unknown) => isUserError(e) && re.test(e.message) && /fix:/.test(e.message), re.source);
  try {
    const src = loadModel(tinyDir);
    const out = saveModelDir(join(dir, 'm'), { config: src.config, weights: src.weights, maxShardBytes: 20_000 });
    const shards = readdirSync(out).filter((f) => f.startsWith('model-')).sort();
    // a shard named by the index is gone
    const kept = readFileSync(join(out, shards[1]));
    unlinkSync(join(out, shards[1]));
    expectErr(out, new RegExp(`shard named in the index is missing: ${shards[1]}[\\s\\S]*${shards.length - 1} of ${shards.length} shards present[\\s\\S]*copy the missing shard`));
    writeFileSync(join(out, shards[1]), kept);
    // an index that maps a tensor to the wrong shard
    const index = JSON.parse(readFileSync(join(out, INDEX_FILE), 'utf8'));
    const moved = Object.keys(index.weight_map).find((n) => index.weight_map[n] === shards[0])!;
    writeFileSync(join(out, INDEX_FILE), JSON.stringify({ ...index, weight_map: { ...index.weight_map, [moved]: shards[1] } }));
    expectErr(out, new RegExp(`maps tensor "${moved.replace(/\./g, '\\.')}" to ${shards[1]}, which does not hold it`));
    writeFileSync(join(out, INDEX_FILE), JSON.stringify({ ...index, weight_map: { ...index.weight_map, [moved]: '../x.safetensors' } }));
    expectErr(out, /is not a plain file name/);
    writeFileSync(join(out, INDEX_FILE), JSON.stringify(index));
    // a shard with a dtype steer does not handle (I64): named with the tensor and the fix
    const bad = Buffer.from(JSON.stringify({ 'model.norm.weight': { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(bad.length));
    writeFileSync(join(out, shards[shards.length - 1]), Buffer.concat([len, bad, Buffer.alloc(8)]));
    expectErr(out, /tensor "model\.norm\.weight"\.dtype: unsupported dtype[\s\S]*F32, F16 or BF16[\s\S]*I64/);
    // an index that is not JSON / has no weight_map
    writeFileSync(join(out, INDEX_FILE), '{"weight_map": [1]}');
    expectErr(out, /no weight_map object/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parity with safetensors/torch: torch-written F32/F16/BF16 and a transformers-sharded bf16 Llama read identically; steer-written files are bit-identical in torch', (t) => {
  const py = venvPython(t, ['torch', 'safetensors', 'transformers']);
  if (!py) return;
  const dir = tmp('steer-st-parity-');
  try {
    runPy(py, 'safetensors_parity.py', ['write', dir]);
    mkdirSync(join(dir, 'steer'));
    for (const name of ['f32', 'f16', 'bf16']) {
      const r = readSafetensors(join(dir, 'torch', `${name}.safetensors`));
      const widened = readSafetensors(join(dir, 'torch', `${name}.widened.safetensors`));
      for (const k of ['x', 'special']) assert.deepEqual(r.tensors.get(k)!.data, widened.tensors.get(k)!.data, `${name} ${k}: steer's widening = torch's .float()`);
      assert.deepEqual(r.tensors.get('empty')!.shape, [0, 4]);
      // write back in the source dtype: torch must see the same bits
      writeSafetensors(join(dir, 'steer', `${name}.safetensors`), r.tensors, { dtype: (n) => r.dtypes.get(n)!, metadata: { format: 'pt' } });
    }
    const hf = loadModel(join(dir, 'hf'));
    assert.equal(hf.dtype, 'BF16');
    assert.ok(readdirSync(join(dir, 'hf')).filter((f) => f.endsWith('.safetensors')).length > 1, 'transformers wrote shards');
    const ref = readSafetensors(join(dir, 'hf_f32.safetensors')).tensors;
    for (const [n, w] of hf.weights) assert.deepEqual(w.data, ref.get(n)!.data, n);
    saveModelDir(join(dir, 'steer_model'), { config: hf.config, weights: hf.weights, dtype: hf.dtype, maxShardBytes: 30_000 });
    const facts = JSON.parse(runPy(py, 'safetensors_parity.py', ['check', dir]));
    for (const name of ['f32', 'f16', 'bf16']) assert.equal(facts[name].bits_equal, true, `${name}: steer's round trip is bit-exact in torch`);
    assert.equal(facts.bf16.dtype, 'torch.bfloat16');
    assert.deepEqual(facts.f16.empty_shape, [0, 4]);
    assert.equal(facts.model_equal, true, 'transformers loads steer\'s sharded bf16 save with every weight bit-identical');
    assert.ok(facts.index_files.length > 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
