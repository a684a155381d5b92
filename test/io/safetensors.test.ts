import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { assertClose } from '../helpers/close.js';
import { floatToBfloat16, floatToHalf, halfToFloat, parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { isUserError } from '../../src/util/errors.js';
import type { HostTensor } from '../../src/nn/weights.js';

/** A safetensors file made by hand: header JSON, then raw bytes. */
function handmade(header: object, data: number[]): Uint8Array {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, Buffer.from(data)]);
}

test('reads F32, F16 and BF16 from hand-made bytes', () => {
  const bytes = handmade(
    {
      __metadata__: { format: 'pt' },
      a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'BF16', shape: [1, 2], data_offsets: [4, 8] },
      c: { dtype: 'F32', shape: [], data_offsets: [8, 12] },
    },
    // a: F16 0x3C00 = 1.0, 0xC000 = -2.0 (little-endian)
    // b: BF16 0x3F80 = 1.0, 0x4049 = 3.140625 (float32 0x40490000)
    // c: F32 0x3E800000 = 0.25
    [0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0x49, 0x40, 0x00, 0x00, 0x80, 0x3e],
  );
  const r = parseSafetensors(bytes);
  assert.deepEqual(r.metadata, { format: 'pt' });
  assert.deepEqual([...r.tensors.get('a')!.data], [1, -2]);
  assert.deepEqual(r.tensors.get('b')!.shape, [1, 2]);
  assert.deepEqual([...r.tensors.get('b')!.data], [1, 3.140625]);
  assert.deepEqual(r.tensors.get('c')!.shape, []);
  assert.deepEqual([...r.tensors.get('c')!.data], [0.25]);
  assert.deepEqual([...r.dtypes.values()].sort(), ['BF16', 'F16', 'F32']);
});

test('half conversions: exact values, rounding to nearest even, subnormals, overflow, NaN', () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff], // largest half
    [65520, 0x7c00], // halfway to 2^16 rounds to even → Inf
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // exactly half of it: ties to even (0)
    [3 * 2 ** -25, 0x0002], // 1.5 ulp → 2 (even)
    [2 ** -14, 0x0400], // smallest normal
    [0.1, 0x2e66], // 0.1 ≈ 1.6 · 2^-4: mantissa 0x266 (0.0999755859375)
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: ties to even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // halfway between 0x3c01 and 0x3c02 → even
    [-0, 0x8000],
    [Infinity, 0x7c00],
  ];
  for (const [x, bits] of cases) assert.equal(floatToHalf(x), bits, `floatToHalf(${x})`);
  const decoded: [number, number][] = [
    [0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14], [0x2e66, 0.0999755859375], [0x7c00, Infinity], [0xfc00, -Infinity], [0x8000, -0],
  ];
  for (const [bits, x] of decoded) assert.equal(halfToFloat(bits), x, `halfToFloat(0x${bits.toString(16)})`);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  // every half value survives half → float → half
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff)) continue; // NaN payloads
    assert.equal(floatToHalf(halfToFloat(h)), h);
  }
});

test('bfloat16 conversions round to nearest even', () => {
  assert.equal(floatToBfloat16(1), 0x3f80);
  assert.equal(floatToBfloat16(Math.PI), 0x4049); // 0x40490FDB: low half 0x0FDB < 0x8000 → down
  assert.equal(floatToBfloat16(1 + 2 ** -8), 0x3f80); // exactly halfway (0x3F808000): ties to even
  assert.equal(floatToBfloat16(1 + 3 * 2 ** -8), 0x3f82); // 0x3F818000 halfway → even 0x3F82
  assert.equal(floatToBfloat16(-Infinity), 0xff80);
  assert.ok((floatToBfloat16(NaN) & 0x7f80) === 0x7f80 && (floatToBfloat16(NaN) & 0x7f) !== 0);
});

test('write then read round-trips F32 exactly and F16/BF16 to their precision', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-st-'));
  try {
    const data = Float32Array.from({ length: 60 }, (_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
    const tensors = new Map<string, HostTensor>([
      ['w', { shape: [3, 4, 5], data }],
      ['z.empty', { shape: [0, 3], data: new Float32Array(0) }],
    ]);
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const p = join(dir, `${dtype}.safetensors`);
      writeSafetensors(p, tensors, { dtype, metadata: { note: 'x' } });
      const bytes = readFileSync(p);
      assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0, 'header padded to 8 bytes');
      const r = readSafetensors(p);
      assert.deepEqual(r.metadata, { note: 'x' });
      assert.deepEqual(r.tensors.get('w')!.shape, [3, 4, 5]);
      assert.deepEqual(r.tensors.get('z.empty')!.shape, [0, 3]);
      assert.equal(r.dtypes.get('w'), dtype);
      // relative precision: F32 exact; F16 2^-11 (normals; the 1e-3-scale values stay normal); BF16 2^-8
      const rtol = { F32: 0, F16: 2 ** -11, BF16: 2 ** -8 }[dtype];
      assertClose(r.tensors.get('w')!.data, data, { rtol, atol: 0, what: dtype });
      assert.deepEqual(parseSafetensors(bytes).tensors.get('w')!.data, r.tensors.get('w')!.data);
    }
    const perName = serializeSafetensors(tensors, { dtype: (n) => (n === 'w' ? 'BF16' : 'F32') });
    assert.equal(parseSafetensors(perName).dtypes.get('w'), 'BF16');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('header validation: every corruption is a UserError naming the file, the tensor and the fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-st-bad-'));
  const file = (name: string, bytes: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const expectErr = (p: string, re: RegExp) =>
    assert.throws(() => readSafetensors(p), (e: unknown) => isUserError(e) && re.test(e.message) && e.message.includes(p) && /fix:/.test(e.message), re.source);
  try {
    expectErr(file('short', Buffer.from([1, 2])), /too short/);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(1000n);
    expectErr(file('len', huge), /header length is impossible/);
    const notJson = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{x}')]);
    expectErr(file('json', notJson), /not valid JSON/);
    expectErr(file('dtype', handmade({ a: { dtype: 'I8', shape: [1], data_offsets: [0, 1] } }, [0])), /tensor "a"\.dtype: unsupported dtype[\s\S]*received: I8/);
    expectErr(file('shape', handmade({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, [0, 0, 0, 0])), /tensor "a"\.shape: invalid shape/);
    expectErr(file('size', handmade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0])), /do not match the shape and dtype[\s\S]*expected: 8 bytes/);
    expectErr(file('gap', handmade({ a: { dtype: 'F16', shape: [1], data_offsets: [2, 4] } }, [0, 0, 0, 0])), /a gap between tensors/);
    expectErr(
      file('overlap', handmade({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'F16', shape: [1], data_offsets: [2, 4] } }, [0, 0, 0, 0])),
      /tensors overlap/,
    );
    expectErr(file('trunc', handmade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, [0, 0, 0, 0])), /truncated/);
    expectErr(file('long', handmade({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, [0, 0, 0, 0])), /longer than its header/);
    expectErr(file('meta', handmade({ __metadata__: { a: 1 } }, [])), /__metadata__\.a: metadata values must be strings/);
    expectErr(file('array', handmade([1, 2] as unknown as object, [])), /header is not a JSON object/);
    expectErr(file('metaobj', handmade({ __metadata__: 'x' }, [])), /__metadata__ is not an object/);
    expectErr(file('entry', handmade({ a: 7 }, [])), /tensor "a": the tensor entry is not an object/);
    expectErr(file('offsets', handmade({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, [0, 0, 0, 0])), /tensor "a"\.data_offsets: invalid data_offsets/);
    assert.throws(() => serializeSafetensors(new Map([['x', { shape: [1], data: new Float32Array(1) }]]), { dtype: 'I8' as never }), (e: unknown) => isUserError(e) && /unsupported dtype "I8"/.test(e.message) && /serializeSafetensors\(x\)/.test(e.message));
    assert.throws(() => readSafetensors(join(dir, 'missing.safetensors')), (e: unknown) => isUserError(e) && /cannot open/.test(e.message) && /ENOENT/.test(e.message));
    assert.throws(
      () => serializeSafetensors(new Map([['x', { shape: [2, 2], data: new Float32Array(3) }]])),
      (e: unknown) => isUserError(e) && /tensor "x" has 3 values but shape \[2, 2\]/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
