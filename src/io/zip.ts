// Zip archives (PKWARE APPNOTE 6.3.x), read and written; CRC-32 is node:zlib's.
// Reading: the end-of-central-directory
// record (signature 0x06054b50, within the last 64 KiB + 22 bytes) points at the central directory;
// each central entry (0x02014b50) gives a member's method, sizes, CRC-32 and local header offset;
// the local header (0x04034b50) is followed by the data, stored (method 0) or raw deflate (8).
// Enough for the archives evaluation results ship in (MMLU-Pro's eval_results/*.zip); ZIP64,
// encryption and multi-disk archives are refused with a message.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { UserError } from '../util/errors.js';

export interface ZipMember {
  name: string;
  data: Buffer;
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

// ---- writing -------------------------------------------------------------------------------------
// A directory as a zip archive (what Ray's working_dir packages are): deflated entries, UTF-8
// names, Unix permissions kept, paths relative to the directory (Ray unpacks a gcs:// package as is).
// PKWARE APPNOTE 6.3: local header + data per file, then the central directory and its end record.
// No zip64: an archive (or a file) past 4 GiB is refused — such a job should read its model from
// shared storage, not from its package.
const LIMIT = 0xffffffff;

export interface ZipEntry {
  /** '/'-separated path inside the archive */
  name: string;
  data: Uint8Array;
  /** Unix mode bits (e.g. 0o644) */
  mode: number;
}

/** Files under `dir` (sorted, so the same tree gives the same archive), skipping `exclude` top-level names. */
export function directoryEntries(dir: string, exclude: readonly string[] = []): ZipEntry[] {
  const out: ZipEntry[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (!rel && exclude.includes(name)) continue;
      const st = statSync(join(dir, r));
      if (st.isDirectory()) walk(r);
      else if (st.isFile()) out.push({ name: r, data: readFileSync(join(dir, r)), mode: st.mode & 0o777 });
    }
  };
  walk('');
  return out;
}

/** Serialise entries as a zip archive. Timestamps are fixed (1980-01-01) so equal trees hash equal. */
export function zipEntries(entries: readonly ZipEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const DOS_TIME = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const deflated = deflateRawSync(e.data);
    const stored = deflated.length >= e.data.length;
    const body = stored ? Buffer.from(e.data) : deflated;
    const crc = crc32(e.data);
    if (e.data.length > LIMIT || offset > LIMIT) {
      throw new UserError({ what: `the job directory is too large to package (${e.name}: zip64 is not supported)`, where: e.name, fix: 'keep files under 4 GiB: point the job at a model on shared storage instead of copying it in' });
    }
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(stored ? 0 : 8, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(stored ? 0 : 8, 10);
    cd.writeUInt16LE(DOS_TIME, 12);
    cd.writeUInt16LE(DOS_DATE, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(e.data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(((0o100000 | e.mode) << 16) >>> 0, 38); // regular file + permissions
    cd.writeUInt32LE(offset, 42);
    parts.push(local, name, body);
    central.push(cd, name);
    offset += local.length + name.length + body.length;
  }
  const cdBytes = Buffer.concat(central);
  if (offset > LIMIT || entries.length > 0xffff) throw new UserError({ what: 'the job directory is too large to package (zip64 is not supported)', fix: 'keep the job directory under 4 GiB and 65,535 files' });
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBytes, end]);
}
