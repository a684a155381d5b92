// Loads ../shared/conformance/<name>.json for a test (skipping visibly when ../shared is absent).
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { sharedFile } from '../helpers/shared.js';

const cache = new Map<string, unknown>();

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the vectors are loosely typed JSON
export function conformance(t: TestContext, name: string): any | null {
  const p = sharedFile(t, `conformance/${name}.json`);
  if (!p) return null;
  if (!cache.has(p)) cache.set(p, JSON.parse(readFileSync(p, 'utf8')));
  return cache.get(p);
}
