// Metrics as JSON lines with fixed names: one object per event, appended and flushed at once so
// that an interrupted run keeps everything it reported.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileSystemError } from './errors.js';

export type MetricRecord = Record<string, string | number | boolean | null | number[]>;

export class MetricsWriter {
  constructor(readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (e) {
      throw fileSystemError(e, path);
    }
  }
  write(record: MetricRecord): void {
    try {
      appendFileSync(this.path, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
    } catch (e) {
      throw fileSystemError(e, this.path);
    }
  }
}
