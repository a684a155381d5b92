// Metrics as JSON lines with fixed names: one object per event, appended and flushed at once so
// that an interrupted run keeps everything it reported.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type MetricRecord = Record<string, string | number | boolean | null | number[]>;

export class MetricsWriter {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }
  write(record: MetricRecord): void {
    appendFileSync(this.path, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
  }
}
