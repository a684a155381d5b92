// safetensors read/write: [u64 LE header length N][N bytes JSON header][raw little-endian data].
// Header: {"name": {"dtype": "F32"|"F16"|"BF16"|…, "shape": [...], "data_offsets": [begin, end]},
// "__metadata__": {string: string}}; offsets are relative to the data start, and the tensors
// must tile the data exactly (no gaps, no overlap). Spec: huggingface/safetensors README "Format".
// steer computes in float32: F16 and BF16 are widened on read and rounded (nearest-even) on write.
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError, describeValue } from '../util/errors.js';
import { writeFileAtomic } from './atomic.js';
import type { HostTensor } from '../nn/weights.js';

export type SafeDType = 'F32' | 'F16' | 'BF16';
const BYTES: Record<SafeDType, number> = { F32: 4, F16: 2, BF16: 2 };
/** Header limit of the reference implementation (100 MB): larger means a corrupt file. */
const MAX_HEADER = 100_000_000;

export interface SafetensorsContents {
  tensors: Map<string, HostTensor>;
  /** the dtype each tensor had on disk */
  dtypes: Map<string, SafeDType>;
  metadata: Record<string, string>;
}

function fail(where: string, what: string, expected: string, received: unknown, fix: string): never {
  throw new UserError({ what, where, expected, received: typeof received === 'string' ? received : describeValue(received), fix });
}

/** Parse and validate a header; `dataBytes` is the file length after the header. */
function parseHeader(json: string, dataBytes: number, where: string): { entries: SafetensorsEntry[]; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(json);
  } catch (e) {
    fail(where, `the safetensors header is not valid JSON (${(e as Error).message})`, 'a JSON object after the 8-byte length', json.slice(0, 60), 'the file is corrupt or not a .safetensors file: re-download or re-save it');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail(where, 'the safetensors header is not a JSON object', 'an object of tensor entries', header, 're-save the file');
  }
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(where, '__metadata__ is not an object', 'an object of string values', raw, 're-save the file');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`${where}: __metadata__.${k}`, 'metadata values must be strings', 'a string', v, 're-save the file with string metadata');
        metadata[k] = v;
      }
      continue;
    }
    const at = `${where}: tensor "${name}"`;
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object') fail(at, 'the tensor entry is not an object', '{dtype, shape, data_offsets}', raw, 're-save the file');
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) {
      fail(`${at}.dtype`, 'unsupported dtype', 'F32, F16 or BF16', e.dtype, 'convert the checkpoint to a float dtype (e.g. save it with torch_dtype=float16 or bfloat16); quantised weights are not supported');
    }
    if (!Array.isArray(e.shape) || !e.shape.every((s) => Number.isInteger(s) && s >= 0)) {
      fail(`${at}.shape`, 'invalid shape', 'an array of non-negative integers', e.shape, 're-save the file');
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && o >= 0) || off[0] > off[1]) {
      fail(`${at}.data_offsets`, 'invalid data_offsets', '[begin, end] with 0 ≤ begin ≤ end', off, 're-save the file');
    }
    const dtype = e.dtype as SafeDType;
    const shape = e.shape as number[];
    const [begin, end] = off as [number, number];
    const bytes = shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
    if (end - begin !== bytes) {
      fail(`${at}.data_offsets`, 'data_offsets do not match the shape and dtype', `${bytes} bytes (${dtype} [${shape.join(', ')}])`, `${end - begin} bytes`, 'the file is corrupt: re-save it');
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  // The tensors must tile [0, dataBytes) exactly.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of entries) {
    if (e.begin !== pos) {
      fail(`${where}: tensor "${e.name}".data_offsets`, e.begin < pos ? 'tensors overlap' : 'a gap between tensors', `begin = ${pos}`, `begin = ${e.begin}`, 'the file is corrupt: re-save it');
    }
    pos = e.end;
  }
  if (pos !== dataBytes) {
    fail(where, pos < dataBytes ? 'the file is longer than its header describes' : 'the file is truncated', `${pos} data bytes after the header`, `${dataBytes} bytes`, 'the file is corrupt or incompletely downloaded: re-download or re-save it');
  }
  return { entries, metadata };
}

/** One tensor's place in a safetensors file (offsets relative to the data start). */
export interface SafetensorsEntry {
  name: string;
  dtype: SafeDType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * An open .safetensors file whose header is parsed and validated and whose tensors are read one
 * at a time, on request (node has no mmap: each read is one pread into a buffer of that tensor's
 * size). Peak memory of reading every tensor once is the float32 copies kept by the caller plus
 * one tensor's raw bytes.
 */
export class SafetensorsFile {
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Record<string, string>;
  /** data bytes after the header */
  readonly dataBytes: number;
  private fd: number | null;
  private readonly dataStart: number;

  constructor(readonly path: string) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new UserError({ what: `cannot open the safetensors file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, where: path, fix: 'check the path' });
    }
    try {
      const size = fstatSync(fd).size;
      const lenBuf = Buffer.alloc(8);
      if (size < 8 || readSync(fd, lenBuf, 0, 8, 0) !== 8) {
        fail(path, 'the file is too short to be safetensors', 'at least 8 bytes (the header length)', `${size} bytes`, 'the file is corrupt: re-download or re-save it');
      }
      const n = Number(lenBuf.readBigUInt64LE(0));
      if (n > MAX_HEADER || 8 + n > size) {
        fail(path, 'the safetensors header length is impossible', `at most ${Math.min(MAX_HEADER, size - 8)} bytes`, `${n} bytes`, 'the file is corrupt or not a .safetensors file');
      }
      const hbuf = Buffer.alloc(n);
      readSync(fd, hbuf, 0, n, 8);
      const { entries, metadata } = parseHeader(hbuf.toString('utf8'), size - 8 - n, path);
      this.entries = new Map(entries.map((e) => [e.name, e]));
      this.metadata = metadata;
      this.dataStart = 8 + n;
      this.dataBytes = size - 8 - n;
      this.fd = fd;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** The on-disk bytes of one tensor (little-endian, its file dtype). */
  readRaw(name: string): Uint8Array {
    const e = this.entry(name);
    if (this.fd === null) throw new Error(`SafetensorsFile(${this.path}) is closed`);
    // An 8-byte-aligned allocation, so a float32 view of it is always legal.
    const raw = new Uint8Array(new ArrayBuffer(e.end - e.begin));
    let got = 0;
    while (got < raw.length) {
      const r = readSync(this.fd, raw, got, raw.length - got, this.dataStart + e.begin + got);
      if (r === 0) fail(this.path, 'the file ended while reading a tensor', `${raw.length} bytes of "${name}"`, `${got} bytes`, 'the file changed or is truncated: re-download it');
      got += r;
    }
    return raw;
  }

  /** Elements [start, start + count) of a tensor (row-major), widened to float32: for reading a tensor in chunks. */
  readSlice(name: string, start: number, count: number): Float32Array {
    const e = this.entry(name);
    const size = BYTES[e.dtype];
    const total = (e.end - e.begin) / size;
    if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= total)) {
      throw new RangeError(`readSlice(${name}): [${start}, ${start + count}) outside [0, ${total})`);
    }
    if (this.fd === null) throw new Error(`SafetensorsFile(${this.path}) is closed`);
    const raw = new Uint8Array(new ArrayBuffer(count * size));
    let got = 0;
    while (got < raw.length) {
      const r = readSync(this.fd, raw, got, raw.length - got, this.dataStart + e.begin + start * size + got);
      if (r === 0) fail(this.path, 'the file ended while reading a tensor', `${raw.length} bytes of "${name}"`, `${got} bytes`, 'the file changed or is truncated: re-download it');
      got += r;
    }
    return decodeOwned(raw, e.dtype);
  }

  /** One tensor widened to float32 (F32 is not copied a second time). */
  read(name: string): HostTensor {
    const e = this.entry(name);
    return { shape: [...e.shape], data: decodeOwned(this.readRaw(name), e.dtype) };
  }

  entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new UserError({ what: `no tensor "${name}" in the file`, where: this.path, expected: name, received: `${this.entries.size} tensors, e.g. ${[...this.entries.keys()].slice(0, 3).join(', ')}`, fix: 'the file does not belong to this model: check the directory' });
    return e;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Read a .safetensors file; every tensor is widened to float32. */
export function readSafetensors(path: string): SafetensorsContents {
  const f = new SafetensorsFile(path);
  try {
    const tensors = new Map<string, HostTensor>();
    const dtypes = new Map<string, SafeDType>();
    for (const e of [...f.entries.values()].sort((a, b) => a.begin - b.begin)) {
      tensors.set(e.name, f.read(e.name));
      dtypes.set(e.name, e.dtype);
    }
    return { tensors, dtypes, metadata: f.metadata };
  } finally {
    f.close();
  }
}

/** Parse safetensors bytes already in memory. */
export function parseSafetensors(bytes: Uint8Array, where = '<bytes>'): SafetensorsContents {
  if (bytes.length < 8) fail(where, 'too short to be safetensors', 'at least 8 bytes', `${bytes.length} bytes`, 're-save it');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > bytes.length) fail(where, 'the safetensors header length is impossible', `at most ${bytes.length - 8} bytes`, `${n} bytes`, 'the data is corrupt');
  const { entries, metadata } = parseHeader(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'), bytes.length - 8 - n, where);
  const tensors = new Map<string, HostTensor>();
  const dtypes = new Map<string, SafeDType>();
  for (const e of entries) {
    tensors.set(e.name, { shape: e.shape, data: decode(bytes.subarray(8 + n + e.begin, 8 + n + e.end), e.dtype) });
    dtypes.set(e.name, e.dtype);
  }
  return { tensors, dtypes, metadata };
}

export interface SerializeOptions {
  /** on-disk dtype: one for all tensors, or per tensor name (default F32) */
  dtype?: SafeDType | ((name: string) => SafeDType);
  metadata?: Record<string, string>;
}

/** The header bytes (JSON padded with spaces to a multiple of 8, as the reference does) and the data length. */
export function safetensorsHeader(entries: readonly { name: string; dtype: SafeDType; shape: readonly number[] }[], metadata?: Record<string, string>): { header: Uint8Array; dataBytes: number } {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let pos = 0;
  for (const e of entries) {
    if (!(e.dtype in BYTES)) throw new UserError({ what: `unsupported dtype ${describeValue(e.dtype)}`, where: `serializeSafetensors(${e.name})`, expected: 'F32, F16 or BF16', fix: 'choose one of those' });
    const bytes = e.shape.reduce((a, b) => a * b, 1) * BYTES[e.dtype];
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [pos, pos + bytes] };
    pos += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const hbytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hbytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  return { header: out, dataBytes: pos };
}

/** Bytes of one tensor stored as `dtype`. */
export function storedBytes(shape: readonly number[], dtype: SafeDType): number {
  return shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
}

function checkCount(name: string, t: HostTensor, where: string): void {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) {
    throw new UserError({ what: `tensor "${name}" has ${t.data.length} values but shape [${t.shape.join(', ')}]`, where, expected: `${count} values`, received: `${t.data.length}`, fix: 'pass data matching the shape' });
  }
}

/** Serialise tensors to safetensors bytes (names sorted, header padded to 8 bytes as the reference does). */
export function serializeSafetensors(tensors: Map<string, HostTensor>, opts: SerializeOptions = {}): Uint8Array {
  const dtypeOf = (name: string): SafeDType => (typeof opts.dtype === 'function' ? opts.dtype(name) : (opts.dtype ?? 'F32'));
  const names = [...tensors.keys()].sort();
  for (const name of names) checkCount(name, tensors.get(name)!, 'serializeSafetensors');
  const { header, dataBytes } = safetensorsHeader(names.map((name) => ({ name, dtype: dtypeOf(name), shape: tensors.get(name)!.shape })), opts.metadata);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  let off = header.length;
  for (const name of names) {
    const enc = encode(tensors.get(name)!.data, dtypeOf(name));
    out.set(enc, off);
    off += enc.length;
  }
  return out;
}

/** Write tensors to a .safetensors file atomically. */
export function writeSafetensors(path: string, tensors: Map<string, HostTensor>, opts: SerializeOptions = {}): void {
  writeFileAtomic(path, serializeSafetensors(tensors, opts));
}

/**
 * A .safetensors file written one tensor at a time, in the order of `entries` (the header is
 * written first, so every name, dtype and shape is known up front). Memory: one tensor's encoded
 * bytes. The file is written to a temporary name and renamed into place by finish(); abort()
 * (or an error) removes it.
 */
export class SafetensorsStreamWriter {
  private fd: number | null;
  private next = 0;
  /** values of entries[next] written so far (a tensor may arrive in several parts) */
  private partial = 0;
  private readonly tmp: string;
  private readonly order: { name: string; dtype: SafeDType; shape: number[] }[];

  constructor(readonly path: string, entries: readonly { name: string; dtype: SafeDType; shape: readonly number[] }[], metadata?: Record<string, string>) {
    this.order = entries.map((e) => ({ name: e.name, dtype: e.dtype, shape: [...e.shape] }));
    const { header } = safetensorsHeader(this.order, metadata);
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
    this.fd = openSync(this.tmp, 'w');
    this.writeAll(header);
  }

  /** Append the next tensor, whole or in consecutive parts (entries in order; a part may not run past its tensor). */
  write(name: string, data: Float32Array): void {
    const e = this.order[this.next];
    if (!e || e.name !== name) throw new Error(`SafetensorsStreamWriter(${this.path}): expected tensor ${e ? e.name : '(none: all written)'}, got ${name}`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (this.partial + data.length > count) checkCount(name, { shape: e.shape, data }, `SafetensorsStreamWriter(${this.path})`);
    this.writeAll(encode(data, e.dtype));
    this.partial += data.length;
    if (this.partial === count) {
      this.next++;
      this.partial = 0;
    }
  }

  /** fsync and rename into place; every entry must have been written. */
  finish(): void {
    // a trailing empty tensor needs no write call
    while (this.next < this.order.length && this.order[this.next].shape.reduce((a, b) => a * b, 1) === 0) this.next++;
    if (this.next !== this.order.length) throw new Error(`SafetensorsStreamWriter(${this.path}): ${this.order.length - this.next} tensors not written`);
    fsyncSync(this.fd!);
    closeSync(this.fd!);
    this.fd = null;
    renameSync(this.tmp, this.path);
  }

  abort(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.tmp, { force: true });
  }

  private writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd!, bytes, off, bytes.length - off);
  }
}

// ---- dtype conversion -------------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function decode(raw: Uint8Array, dtype: SafeDType): Float32Array {
  // Copy into an aligned buffer so typed views are legal whatever the source offset.
  const aligned = new Uint8Array(raw.length);
  aligned.set(raw);
  return decodeOwned(aligned, dtype);
}

/** Decode bytes that start at offset 0 of their own buffer (F32: a view, no copy). */
function decodeOwned(aligned: Uint8Array, dtype: SafeDType): Float32Array {
  const n = aligned.length / BYTES[dtype];
  if (dtype === 'F32') return new Float32Array(aligned.buffer, 0, n);
  const src = new Uint16Array(aligned.buffer, 0, n);
  const out = new Float32Array(n);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = src[i] << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(src[i]);
  }
  return out;
}

function encode(data: Float32Array, dtype: SafeDType): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint16Array(data.length);
  if (dtype === 'BF16') {
    // floatToBfloat16 inlined over the float32 bits (the hot loop of writing a bf16 checkpoint)
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < data.length; i++) {
      const b = bits[i];
      out[i] = (b & 0x7f800000) === 0x7f800000 && b & 0x7fffff ? (b >>> 16) | 0x40 : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
    }
  } else for (let i = 0; i < data.length; i++) out[i] = floatToHalf(data[i]);
  return new Uint8Array(out.buffer);
}

/** IEEE binary16 bits → number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal: frac · 2^-10 · 2^-14
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → IEEE binary16 bits, rounding to nearest even (overflow → ±Inf, NaN kept). */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // subnormal half (or zero): shift the implicit-1 mantissa right, round to nearest even
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e; // 24-bit mantissa → 10-bit at 2^-24 units
    const half = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rem > half || (rem === half && (m & 1))) m++;
    return sign | m; // a carry into bit 10 correctly yields the smallest normal
  }
  const rem = mant & 0x1fff;
  let m = mant >>> 13;
  if (rem > 0x1000 || (rem === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** number → bfloat16 bits (the top 16 bits of float32), rounding to nearest even; NaN stays NaN. */
export function floatToBfloat16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff)) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}
