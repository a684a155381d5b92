// Reading the members of a .zip archive (PKWARE APPNOTE 6.3.x): the end-of-central-directory
// record (signature 0x06054b50, within the last 64 KiB + 22 bytes) points at the central directory;
// each central entry (0x02014b50) gives a member's method, sizes, CRC-32 and local header offset;
// the local header (0x04034b50) is followed by the data, stored (method 0) or raw deflate (8).
// Enough for the archives evaluation results ship in (MMLU-Pro's eval_results/*.zip); ZIP64,
// encryption and multi-disk archives are refused with a message.
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { UserError } from '../util/errors.js';

export interface ZipMember {
  name: string;
  data: Buffer;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, reflected, as zip and gzip use it). */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Every file in the archive at `path` (directories skipped), decompressed and CRC-checked. */
export function readZipMembers(path: string): ZipMember[] {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new UserError({ what: `cannot read the file: ${(e as Error).message}`, where: path, fix: 'check the path' });
  }
  const bad = (what: string): never => {
    throw new UserError({ what: `not a readable zip archive: ${what}`, where: path, expected: 'a complete .zip file (stored or deflated members, no ZIP64 or encryption)', fix: 'download the archive again, or unzip it and pass the file inside' });
  };
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad('no end-of-central-directory record');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || p === 0xffffffff) bad('ZIP64 archives are not supported');
  const out: ZipMember[] = [];
  for (let e = 0; e < count; e++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) bad(`central directory entry ${e} is damaged`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    if (flags & 1) bad(`member ${name} is encrypted`);
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50) bad(`the local header of ${name} is damaged`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + compressed);
    if (raw.length !== compressed) bad(`member ${name} is truncated`);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) {
      try {
        data = inflateRawSync(raw);
      } catch (err) {
        return bad(`member ${name} does not inflate (${(err as Error).message})`);
      }
    } else return bad(`member ${name} uses compression method ${method} (only stored and deflate are read)`);
    if (data.length !== size || crc32(data) !== crc) bad(`member ${name} fails its size or CRC-32 check`);
    out.push({ name, data });
  }
  return out;
}
