// The plumbing every steer command shares: common options, a typed config validated once
// (defaults < --config file < command-line flags), the start-of-run announcement, and error
// handling that turns a UserError into one clear message.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { parseConfig, formatConfig } from '../util/config.js';
import { UserError } from '../util/errors.js';

export const commonSchema = {
  seed: z.coerce.number().int().min(0),
  threads: z.coerce.number().int().min(1).max(256),
  quiet: z.boolean(),
};

/** Options every command that does real work takes. */
export function addCommonOptions(cmd: Command, opts: { out?: string } = {}): Command {
  cmd
    .option('--seed <n>', 'random seed; the same seed gives the same results', '0')
    .option('--threads <n>', 'CPU threads for the engine (physical cores is fastest)', String(defaultThreads()))
    .option('--quiet', 'no progress bars or announcements (errors and results still print)', false)
    .option('--config <file>', 'JSON file of options; flags given on the command line win');
  if (opts.out !== undefined) cmd.option('--out <dir>', 'directory for outputs', opts.out);
  return cmd;
}

export function defaultThreads(): number {
  return 2;
}

/**
 * Merge commander's option values (defaults < --config file < flags) and validate them with
 * `schema`. Unknown keys (from the config file) are rejected by a strict schema.
 */
export function resolveConfig<S extends z.ZodType>(cmd: Command, schema: S): z.output<S> {
  const values = cmd.opts() as Record<string, unknown>;
  const merged: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (k === 'config') continue;
    if (cmd.getOptionValueSource(k) === 'default') merged[k] = v;
  }
  let source = 'command line';
  const file = values.config as string | undefined;
  if (file !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserError({
        what: `cannot read the config file: ${(e as Error).message}`,
        where: file,
        expected: 'a JSON object of option names (camelCase) to values',
        fix: 'check the path and that the file is valid JSON',
      });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UserError({ what: 'the config file is not a JSON object', where: file, fix: 'write {"option": value, ...}' });
    }
    Object.assign(merged, parsed);
    source = `${file} and command line`;
  }
  for (const [k, v] of Object.entries(values)) {
    if (k === 'config') continue;
    const src = cmd.getOptionValueSource(k);
    if (src !== undefined && src !== 'default') merged[k] = v;
  }
  return parseConfig(schema, merged, source);
}

/** Announce a command's resolved config on stderr (unless quiet). */
export function announce(name: string, config: Record<string, unknown>, quiet = false): void {
  if (quiet) return;
  process.stderr.write(`steer ${name}\n${formatConfig(config)}\n`);
}

export { Option };
