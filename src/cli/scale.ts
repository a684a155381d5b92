// The scale-out commands: export, launch, jobs, import (src/scale).
import type { Command } from 'commander';
import { registerExport } from './export.js';
import { registerImport } from './import.js';
import { registerLaunch } from './launch.js';
import { registerRecipe } from './recipe.js';

export function registerScale(program: Command): void {
  registerExport(program);
  registerLaunch(program);
  registerImport(program);
  registerRecipe(program);
}
