// The engines steer exports to, the stages it exports, and the engines' own option definitions at
// pinned versions (src/scale/specs/<engine>.json, written by scripts/extract-engine-specs.py): every
// option a generated config sets is checked against them, so an option the engine does not define
// is an error at export time, not a silent no-op on the cluster.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError, describeValue } from '../util/errors.js';

export const ENGINES = ['trl', 'openrlhf', 'nemo-rl', 'nemo-aligner'] as const;
export type Engine = (typeof ENGINES)[number];
export const STAGES = ['sft', 'rm', 'dpo', 'reinforce'] as const;
export type Stage = (typeof STAGES)[number];

/** Where the files steer ships beside its code live: src/scale/{python,specs}, from src/ (tsx) and dist/ alike. */
export function scaleAssetPath(...parts: string[]): string {
  // dist/scale/engines.js and src/scale/engines.ts both sit two levels below the package root.
  return fileURLToPath(new URL(['../../src/scale', ...parts].join('/'), import.meta.url));
}

export interface OptionSpec {
  type: string;
  default: unknown;
}

/** One configuration surface of an engine: a TRL *Config dataclass, an OpenRLHF CLI, a YAML tree. */
export interface ConfigSpec {
  /** e.g. "trl.RewardConfig", "openrlhf.cli.train_rm" */
  class: string;
  fields: Record<string, OptionSpec>;
}

export interface EngineSpec {
  engine: Engine;
  version: string;
  /** Where the definitions were read from (package, file, commit). */
  source: string;
  extractedBy: string;
  /** Config surfaces by name (for TRL: sft, rm, dpo, rloo). */
  configs: Record<string, ConfigSpec>;
}

const cache = new Map<Engine, EngineSpec>();

export function checkEngine(name: string): Engine {
  if (!(ENGINES as readonly string[]).includes(name)) {
    throw new UserError({ what: `unknown engine ${describeValue(name)}`, where: 'steer export <engine>', expected: ENGINES.join(' | '), fix: 'pick one of the engines listed' });
  }
  return name as Engine;
}

export function checkStage(name: string): Stage {
  if (!(STAGES as readonly string[]).includes(name)) {
    throw new UserError({ what: `unknown stage ${describeValue(name)}`, where: 'steer export <engine> <stage>', expected: STAGES.join(' | '), fix: 'pick one of the stages listed (`steer export --help` says what each exports)' });
  }
  return name as Stage;
}

/** The pinned definitions of an engine (read once). */
export function engineSpec(engine: Engine): EngineSpec {
  const hit = cache.get(engine);
  if (hit) return hit;
  const path = scaleAssetPath('specs', `${engine}.json`);
  if (!existsSync(path)) {
    throw new UserError({ what: `no pinned option definitions for ${engine}`, where: path, fix: `run \`.venv/bin/python scripts/extract-engine-specs.py ${engine}\`` });
  }
  const spec = JSON.parse(readFileSync(path, 'utf8')) as EngineSpec;
  cache.set(engine, spec);
  return spec;
}

/** Edit distance, for "did you mean" (options are short; the quadratic table is fine). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

export function closestOption(name: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const dd = distance(name, k);
    if (dd < bestD) {
      bestD = dd;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

/**
 * Check that every key of `options` is an option of `engine`'s config surface `surface` (dotted keys
 * are checked by their first part against the surface; a YAML surface lists dotted paths itself).
 * Throws one UserError listing every unknown option with a suggestion.
 */
export function validateEngineOptions(engine: Engine, surface: string, options: Record<string, unknown>, where: string): void {
  const spec = engineSpec(engine);
  const conf = spec.configs[surface];
  if (!conf) throw new Error(`internal: ${engine} spec has no config surface ${surface}`);
  const known = Object.keys(conf.fields);
  const bad = Object.keys(options).filter((k) => !(k in conf.fields));
  if (bad.length === 0) return;
  const lines = bad.map((k) => {
    const near = closestOption(k, known);
    return `${k}${near ? ` (did you mean ${near}?)` : ''}`;
  });
  throw new UserError({
    what: `${engine} ${spec.version} does not define ${bad.length === 1 ? 'the option' : 'the options'} ${lines.join(', ')} in ${conf.class}`,
    where,
    expected: `options of ${conf.class} at ${engine} ${spec.version} (${spec.source})`,
    fix: `correct the option name; src/scale/specs/${engine}.json lists all ${known.length}`,
  });
}

/**
 * `--set key=value` overrides: the value is parsed as JSON when it parses (numbers, booleans, lists),
 * else kept as a string.
 */
export function parseSetOptions(sets: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError({ what: `--set ${describeValue(s)} is not KEY=VALUE`, where: '--set', fix: 'write e.g. --set learning_rate=1e-5' });
    const key = s.slice(0, eq).trim();
    const raw = s.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* a plain string */
    }
    out[key] = value;
  }
  return out;
}
