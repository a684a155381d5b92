// One typed config per command: a zod schema with defaults, unknown keys rejected, validated once
// at the boundary. Errors name the field, what was expected and what was received.
import { z } from 'zod';
import { UserError, describeValue } from './errors.js';

/**
 * Validate `input` against a strict object schema. `source` names where the values came from
 * (a file path, "command line") so the error says where to fix them.
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, source: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : '(root)';
    // a top-level key is a command-line option too: name its flag, as the user typed it
    const flag = issue.path.length === 1 && typeof issue.path[0] === 'string' && source.includes('command line') ? ` (option --${issue.path[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)})` : '';
    const received = issue.path.reduce<unknown>(
      (v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined),
      input,
    );
    if (issue.code === 'unrecognized_keys') {
      return `${path}: unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    }
    return `${path}: ${issue.message} (received ${describeValue(received)})${flag}`;
  });
  throw new UserError({
    what: `invalid configuration\n  ${lines.join('\n  ')}`,
    where: source,
    fix: 'correct the listed fields; `steer <command> --help` lists each option with its default',
  });
}

/** Render a config for the start-of-run announcement: one `key = value` per line. */
export function formatConfig(config: Record<string, unknown>): string {
  const width = Math.max(0, ...Object.keys(config).map((k) => k.length));
  return Object.entries(config)
    .map(([k, v]) => `  ${k.padEnd(width)} = ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
}
