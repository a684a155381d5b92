// AlpacaEval's side files, in the official CSV form (what alpaca_eval downloads from the HF
// dataset tatsu-lab/alpaca_eval) or in the JSON shapes of ../shared/conformance/alpacaeval_lc.json:
//   df_gamed.csv: columns model,index,preference,std_delta_len,instruction_difficulty[,not_gamed_baseline]
//                 or {"index": [...], "preference": [...], "std_delta_len": [...], "instruction_difficulty": [...]}
//   instruction_difficulty.csv: first column the index, a column "instruction_difficulty" (or the
//                 last column) — or a JSON array of difficulties in eval-set order.
import { UserError, describeValue } from '../util/errors.js';
import type { GamedRows } from './alpacaeval.js';
import { csvNumber, readCsvRecords, readJson } from './files.js';

const isJsonPath = (p: string) => /\.json$/i.test(p);

export function readGamedRows(path: string): GamedRows {
  if (isJsonPath(path)) {
    const v = readJson(path) as Record<string, unknown>;
    const arr = (k: string): number[] => {
      const a = v?.[k];
      if (!Array.isArray(a) || !a.every((x) => typeof x === 'number' || x === null)) {
        throw new UserError({ what: `field "${k}" must be an array of numbers`, where: `${path} field ${k}`, received: describeValue(a), fix: 'use the shape {"index": [...], "preference": [...], "std_delta_len": [...], "instruction_difficulty": [...]} or the official df_gamed.csv' });
      }
      return a.map((x) => (x === null ? NaN : (x as number)));
    };
    const rows: GamedRows = { index: arr('index'), preference: arr('preference'), stdDeltaLen: arr('std_delta_len'), instructionDifficulty: arr('instruction_difficulty') };
    checkLengths(rows, path);
    return rows;
  }
  const { columns, records } = readCsvRecords(path);
  for (const c of ['index', 'preference', 'std_delta_len', 'instruction_difficulty']) {
    if (!columns.includes(c)) {
      throw new UserError({ what: `the gamed-rows CSV has no column "${c}"`, where: `${path}:1`, expected: 'columns model,index,preference,std_delta_len,instruction_difficulty (df_gamed.csv)', received: columns.join(','), fix: "pass alpaca_eval's df_gamed.csv unmodified" });
    }
  }
  const rows: GamedRows = { index: [], preference: [], stdDeltaLen: [], instructionDifficulty: [], notGamedBaseline: [] };
  records.forEach((r, i) => {
    const where = `${path}:${i + 2}`;
    const idx = csvNumber(r.index, where, 'index');
    if (!Number.isInteger(idx) || idx < 0) throw new UserError({ what: 'column "index" must be a non-negative integer', where, received: describeValue(r.index), fix: "pass alpaca_eval's df_gamed.csv unmodified" });
    rows.index.push(idx);
    rows.preference.push(csvNumber(r.preference, where, 'preference'));
    rows.stdDeltaLen.push(csvNumber(r.std_delta_len, where, 'std_delta_len'));
    rows.instructionDifficulty.push(csvNumber(r.instruction_difficulty, where, 'instruction_difficulty'));
    const ng = r.not_gamed_baseline;
    if (ng !== undefined && !/^(True|False|true|false|1|0|1\.0|0\.0)$/.test(ng)) {
      throw new UserError({ what: 'column "not_gamed_baseline" must be True or False', where, received: describeValue(ng), fix: "pass alpaca_eval's df_gamed.csv unmodified" });
    }
    rows.notGamedBaseline!.push(ng !== undefined && /^(True|true|1|1\.0)$/.test(ng));
  });
  return rows;
}

function checkLengths(rows: GamedRows, path: string): void {
  const n = rows.index.length;
  for (const [k, a] of [['preference', rows.preference], ['std_delta_len', rows.stdDeltaLen], ['instruction_difficulty', rows.instructionDifficulty]] as const) {
    if (a.length !== n) throw new UserError({ what: `field "${k}" has ${a.length} entries but "index" has ${n}`, where: `${path} field ${k}`, fix: 'every column of the gamed rows must have one entry per row' });
  }
}

export function readInstructionDifficulty(path: string): number[] {
  if (isJsonPath(path)) {
    const v = readJson(path);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) {
      throw new UserError({ what: 'instruction difficulties must be a JSON array of numbers in eval-set order', where: path, received: describeValue(v), fix: 'pass a JSON array like [0.0, -0.10, ...] or the official instruction_difficulty.csv' });
    }
    return v as number[];
  }
  const { columns, records } = readCsvRecords(path);
  const col = columns.includes('instruction_difficulty') ? 'instruction_difficulty' : columns[columns.length - 1];
  if (columns.length < 2) throw new UserError({ what: 'the difficulty CSV needs an index column and a difficulty column', where: `${path}:1`, received: columns.join(','), fix: "pass alpaca_eval's instruction_difficulty.csv unmodified" });
  return records.map((r, i) => csvNumber(r[col], `${path}:${i + 2}`, col));
}

/** The difficulty vector must describe the same instructions as the gamed rows (first row per index). */
export function checkDifficultyMatchesGamed(difficulty: readonly number[], gamed: GamedRows, where: string): void {
  const first = new Map<number, number>();
  gamed.index.forEach((idx, i) => (first.has(idx) ? undefined : first.set(idx, gamed.instructionDifficulty[i])));
  if (first.size !== difficulty.length) {
    throw new UserError({ what: `the instruction difficulties cover ${difficulty.length} instructions but the gamed rows cover ${first.size}`, where, fix: 'pass instruction_difficulty.csv and df_gamed.csv from the same AlpacaEval release' });
  }
  for (const [idx, v] of first) {
    const d = difficulty[idx];
    if (d === undefined || Math.abs(d - v) > 1e-9 * (1 + Math.abs(v))) {
      throw new UserError({ what: `instruction ${idx} has difficulty ${d} here but ${v} in the gamed rows`, where, fix: 'pass instruction_difficulty.csv and df_gamed.csv from the same AlpacaEval release' });
    }
  }
}
