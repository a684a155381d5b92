// Real third-party data lives in ../shared beside the checkout (never copied into the repo).
// Tests that need it call sharedFile(); when it is absent (a user's clone) the test is skipped
// with a visible message instead of failing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const sharedRoot = join(repoRoot, '..', 'shared');

/** Absolute path of ../shared/<rel>, or null when it is not there. */
export function sharedPath(rel: string): string | null {
  const p = join(sharedRoot, rel);
  return existsSync(p) ? p : null;
}

/**
 * For use inside a test: returns the path, or marks the test skipped (with the reason printed by
 * the runner) and returns null; under CI (CI=true) an absent file fails the test instead. Usage: `const p = sharedFile(t, 'data/hh-rlhf/x.jsonl.gz'); if (!p) return;`
 */
export function sharedFile(t: TestContext, rel: string): string | null {
  const p = sharedPath(rel);
  if (p === null && process.env.CI) throw new Error(`../shared/${rel} is absent; CI must run this test with ../shared beside the checkout`);
  if (p === null) t.skip(`../shared/${rel} is absent (real data is only beside CI and developer checkouts)`);
  return p;
}
