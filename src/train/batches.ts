// Which items a step trains on, and at what padded length — one rule for every trainer:
//   epochs     item order of epoch e = a seeded shuffle of 0…n−1, keyed by (seed, stream, e) and
//              recomputed on resume (no RNG state in checkpoints); a batch takes the next `size`
//              items and crosses into the next epoch when one runs out (no item is ever skipped)
//   step seed  a 32-bit FNV-1a hash of (seed, stage, step): sampling of step s is the same on resume
//   buckets    a padded length T = ⌈len / width⌉ · width, capped at `max`: static graph shapes, so
//              only a few compiled steps (one per bucket) serve a whole run
import { Rng } from '../util/rng.js';

/** Position in a stream of shuffled epochs: the next item is order(epoch)[index]. */
export interface EpochCursor {
  epoch: number;
  index: number;
}

export const FIRST_ITEM: EpochCursor = Object.freeze({ epoch: 0, index: 0 });

const orderCache = new Map<string, number[]>();

/**
 * The shuffled order of epoch `epoch` of n items (seeded; the same on every call). `stream` names
 * the sequence of epochs (e.g. "sft/epoch", "rm/order"): two trainers with one seed draw different orders.
 */
export function epochOrder(n: number, seed: number, stream: string, epoch: number): number[] {
  const key = `${n}/${seed}/${stream}/${epoch}`;
  let o = orderCache.get(key);
  if (!o) {
    o = Rng.derive(seed, `${stream}/${epoch}`).shuffle(Array.from({ length: n }, (_, i) => i));
    if (orderCache.size > 64) orderCache.clear();
    orderCache.set(key, o);
  }
  return o;
}

/** The next `size` item indices from the cursor (crossing into the next epoch when one runs out). */
export function nextBatch(n: number, size: number, cursor: EpochCursor, seed: number, stream: string): { indices: number[]; cursor: EpochCursor } {
  const indices: number[] = [];
  let { epoch, index } = cursor;
  while (indices.length < size) {
    if (index >= n) {
      epoch++;
      index = 0;
    }
    indices.push(epochOrder(n, seed, stream, epoch)[index++]);
  }
  return { indices, cursor: { epoch, index } };
}

/** A per-step seed for sampling: a 32-bit hash of (seed, stage, step) — exact resume needs no RNG state. */
export function stepSeed(seed: number, stage: string, step: number): number {
  let h = 0x811c9dc5;
  const s = `${seed}/${stage}/${step}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Round a length up to a multiple of `width` (capped at `max`): few distinct shapes, few compiled graphs. */
export function lengthBucket(length: number, width: number, max: number): number {
  return Math.min(max, Math.ceil(Math.max(1, length) / width) * width);
}
