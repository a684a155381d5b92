// Streaming record readers for the formats datasets ship in: JSON lines (plain or gzip), a JSON
// array (LLMBar), and parquet (HF's converted datasets). Every record carries `where`
// ("file:line", "file row N", "file item N") so that validation errors name the exact place.
import { createReadStream, existsSync, statSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, gunzipSync, brotliDecompressSync } from 'node:zlib';
import { UserError } from '../util/errors.js';

export interface SourceRecord {
  /** The parsed JSON value (an object for every format steer reads). */
  value: Record<string, unknown>;
  /** 1-based line (jsonl), row (parquet) or item (JSON array) number. */
  index: number;
  /** Human-readable location: "data/x.jsonl:12", "x.parquet row 12", "Natural.json item 3". */
  where: string;
}

export type RecordFormat = 'jsonl' | 'jsonl.gz' | 'json' | 'parquet';

/** The format implied by a file name. */
export function detectFormat(path: string): RecordFormat {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.jsonl.gz') || name.endsWith('.ndjson.gz') || name.endsWith('.json.gz')) return 'jsonl.gz';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.parquet')) return 'parquet';
  throw new UserError({
    what: 'cannot tell the file format from its name',
    where: path,
    expected: 'a name ending in .jsonl, .jsonl.gz, .json or .parquet',
    fix: 'rename the file to its format (e.g. data.jsonl), or convert it to JSON lines',
  });
}

function checkReadable(path: string): void {
  if (!existsSync(path)) {
    throw new UserError({ what: 'file not found', where: path, fix: 'check the path (relative paths are resolved from the current directory)' });
  }
  if (!statSync(path).isFile()) {
    throw new UserError({ what: 'not a regular file', where: path, fix: 'give the path of a data file, not a directory' });
  }
}

/** A line for a message: JSON-quoted (control bytes such as NUL escaped), at most `max` characters. */
function preview(s: string, max = 80): string {
  return s.length > max ? JSON.stringify(s.slice(0, max - 1)) + '…' : JSON.stringify(s);
}

const BOM = '\uFEFF';

/** Why a line is not JSON, in words: binary bytes and byte-order marks are named, not echoed. */
function jsonProblem(text: string, e: Error): string {
  if (text.includes('\u0000')) return 'the text holds NUL bytes (a binary or UTF-16 file?)';
  // V8 quotes the text raw; escape control characters so the terminal shows them
  return e.message.replace(/[\u0000-\u001f\u007f-\u009f\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function parseLine(text: string, where: string, lineNo: number): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UserError({
      what: `invalid JSON: ${jsonProblem(text, e as Error)}`,
      where,
      expected: 'one JSON object per line (UTF-8 text)',
      received: preview(text),
      fix: `correct or remove line ${lineNo}`,
    });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new UserError({
      what: 'a line is not a JSON object',
      where,
      expected: 'one JSON object per line ({"field": value, ...})',
      received: preview(text),
      fix: `make line ${lineNo} a JSON object`,
    });
  }
  return v as Record<string, unknown>;
}

async function* readJsonLines(path: string, gz: boolean): AsyncGenerator<SourceRecord> {
  const raw = createReadStream(path);
  const input = gz ? raw.pipe(createGunzip()) : raw;
  let streamError: Error | null = null;
  const onError = (e: Error) => {
    streamError = e;
  };
  raw.on('error', onError);
  input.on('error', onError);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      // a UTF-8 byte-order mark (Windows editors write one) is not part of the first record
      const text = lineNo === 1 && line.startsWith(BOM) ? line.slice(1) : line;
      if (text.trim() === '') continue;
      const where = `${path}:${lineNo}`;
      yield { value: parseLine(text, where, lineNo), index: lineNo, where };
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    streamError = e as Error;
  } finally {
    lines.close();
    raw.destroy();
  }
  if (streamError !== null) {
    const err: Error = streamError;
    throw new UserError({
      what: gz ? `cannot decompress: ${err.message}` : `cannot read: ${err.message}`,
      where: `${path}:${lineNo + 1}`,
      expected: gz ? 'a complete gzip file of JSON lines' : 'a readable JSON lines file',
      fix: gz ? 'the file is truncated or not gzip: download it again, or gunzip it and pass the .jsonl' : 'check the file permissions',
    });
  }
}

function readJsonArray(path: string): SourceRecord[] {
  let text = readFileSync(path, 'utf8');
  if (text.startsWith(BOM)) text = text.slice(1);
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('[')) {
    // A .json file holding JSON lines is common; read it as such.
    const out: SourceRecord[] = [];
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${path}:${i + 1}`;
      out.push({ value: parseLine(line, where, i + 1), index: i + 1, where });
    });
    return out;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const line = m ? text.slice(0, Number(m[1])).split('\n').length : undefined;
    throw new UserError({
      what: `invalid JSON: ${jsonProblem(text, e as Error)}`,
      where: line !== undefined ? `${path}:${line}` : path,
      expected: 'a JSON array of objects',
      fix: 'correct the JSON (a validator such as `node -e "JSON.parse(require(\'fs\').readFileSync(process.argv[1]))" FILE` points at the error)',
    });
  }
  return (v as unknown[]).map((item, i) => {
    const where = `${path} item ${i + 1}`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new UserError({ what: 'an array item is not a JSON object', where, expected: 'a JSON object', received: preview(JSON.stringify(item)), fix: `make item ${i + 1} an object` });
    }
    return { value: item as Record<string, unknown>, index: i + 1, where };
  });
}

// Parquet codecs beyond hyparquet's built-in SNAPPY/UNCOMPRESSED, from Node's zlib.
const parquetCompressors = {
  GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliDecompressSync(input)),
  // parquet's deprecated "LZ4"/"ZSTD" codecs are not in Node 20's zlib; hyparquet reports them.
};

function toPlainJson(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(toPlainJson);
  if (v instanceof Date) return v.toISOString();
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toPlainJson(x);
    return o;
  }
  return v;
}

async function* readParquet(path: string): AsyncGenerator<SourceRecord> {
  const hp = await import('hyparquet');
  const file = await hp.asyncBufferFromFile(path);
  let metadata;
  try {
    metadata = await hp.parquetMetadataAsync(file);
  } catch (e) {
    throw new UserError({ what: `not a readable parquet file: ${(e as Error).message}`, where: path, fix: 'check that the file is complete parquet (it ends with the magic bytes PAR1)' });
  }
  let start = 0;
  for (const group of metadata.row_groups) {
    const n = Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = (await hp.parquetReadObjects({ file, metadata, rowStart: start, rowEnd: start + n, compressors: parquetCompressors })) as Record<string, unknown>[];
    } catch (e) {
      throw new UserError({
        what: `cannot decode parquet rows ${start + 1}–${start + n}: ${(e as Error).message}`,
        where: path,
        fix: 'rewrite the file with SNAPPY, GZIP, BROTLI or no compression, or convert it to JSON lines',
      });
    }
    for (let i = 0; i < rows.length; i++) {
      const index = start + i + 1;
      yield { value: toPlainJson(rows[i]) as Record<string, unknown>, index, where: `${path} row ${index}` };
    }
    start += n;
  }
}

/** Stream the records of a data file, whatever its format. */
export async function* readRecords(path: string, format?: RecordFormat): AsyncGenerator<SourceRecord> {
  checkReadable(path); // before the name: a directory is "not a regular file", not "an unknown format"
  switch (format ?? detectFormat(path)) {
    case 'jsonl':
      yield* readJsonLines(path, false);
      return;
    case 'jsonl.gz':
      yield* readJsonLines(path, true);
      return;
    case 'json':
      yield* readJsonArray(path);
      return;
    case 'parquet':
      yield* readParquet(path);
      return;
  }
}

/** All records of a file in memory (for small files and tests). */
export async function readAllRecords(path: string, format?: RecordFormat): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of readRecords(path, format)) out.push(r);
  return out;
}
