// The scale-out commands: export, launch, jobs, import (src/scale).
import type { Command } from 'commander';
import { registerExport } from './export.js';
import { registerImport } from './import.js';

export function registerScale(program: Command): void {
  registerExport(program);
  registerImport(program);
}
