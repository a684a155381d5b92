// Readers for the evaluation inputs (JSONL answers and judgments, JSON annotations, the official
// CSV side files). Every malformed input is a UserError naming the file, line and field.
import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { UserError, describeValue } from '../util/errors.js';

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError({ what: `cannot read the file: ${(e as Error).message}`, where: path, fix: 'check the path' });
  }
}

/** One JSON object per non-empty line; returns each with its 1-based line number. */
export function readJsonlObjects(path: string): { line: number; value: Record<string, unknown> }[] {
  const lines = readText(path).split('\n');
  const out: { line: number; value: Record<string, unknown> }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i].trim();
    if (!s) continue;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      throw new UserError({ what: `invalid JSON: ${(e as Error).message}`, where: `${path}:${i + 1}`, fix: 'each line must be one JSON object (JSONL)' });
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new UserError({ what: 'each line must be a JSON object', where: `${path}:${i + 1}`, received: describeValue(v), fix: 'write one {...} object per line' });
    }
    out.push({ line: i + 1, value: v as Record<string, unknown> });
  }
  return out;
}

export function readJson(path: string): unknown {
  const text = readText(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError({ what: `invalid JSON: ${(e as Error).message}`, where: path, fix: 'the file must be one JSON document' });
  }
}

/** A CSV with a header row, as records keyed by column name (values are strings). */
export function readCsvRecords(path: string): { columns: string[]; records: Record<string, string>[] } {
  const text = readText(path);
  let rows: string[][];
  try {
    rows = parseCsv(text, { relax_column_count: false, skip_empty_lines: true }) as string[][];
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new UserError({ what: `invalid CSV: ${err.message}`, where: err.lines ? `${path}:${err.lines}` : path, fix: 'the file must be comma-separated with a header row' });
  }
  if (rows.length === 0) throw new UserError({ what: 'the CSV file is empty', where: path, expected: 'a header row and data rows', fix: 'pass the official file' });
  const columns = rows[0];
  const records = rows.slice(1).map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])));
  return { columns, records };
}

/** Parse a CSV cell as a float the way pandas does ("" / "nan" → NaN). */
export function csvNumber(s: string | undefined, where: string, column: string): number {
  if (s === undefined || s === '' || /^(nan|NaN|NA|null)$/.test(s)) return NaN;
  const v = Number(s);
  if (Number.isNaN(v)) throw new UserError({ what: `column "${column}" must be a number`, where, received: describeValue(s), fix: 'pass the official file unmodified' });
  return v;
}

/**
 * Python's json.dumps(value) with its defaults (ensure_ascii=True, separators ", " and ": "), so
 * files the official scripts write byte for byte look the same when steer writes them. Numbers are
 * written as Python writes them, except that an integral float (time.time() = 1.0) prints as an int.
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
    if (Number.isInteger(value)) return String(BigInt(value));
    // float repr: the same shortest digits; Python switches to an exponent below 1e-4 and writes it with two digits
    const [mantissa, e] = value.toExponential().split('e');
    const exp = Number(e);
    return exp < -4 ? `${mantissa}e-${String(-exp).padStart(2, '0')}` : JSON.stringify(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return '[' + value.map(pythonJsonDumps).join(', ') + ']';
  const o = value as Record<string, unknown>;
  return '{' + Object.keys(o).filter((k) => o[k] !== undefined).map((k) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(o[k])}`).join(', ') + '}';
}
