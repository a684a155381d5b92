// ShapeCache: compiled executables (or anything holding native memory) built once per key — in
// practice a shape such as `${kind}|${B}|${T}` — and released together. The one place a trainer,
// a scorer or a generator keeps "one compiled graph per shape": get(key, build) builds on the
// first call and shares the pending promise with concurrent callers; a build that fails is
// forgotten (the next get retries); release() frees every built value that has a release().

export interface Releasable {
  release(): Promise<void> | void;
}

export class ShapeCache<V> {
  private readonly entries = new Map<string, Promise<V>>();

  /** The value for `key`, built by `build()` on first use. */
  get(key: string, build: () => Promise<V>): Promise<V> {
    let p = this.entries.get(key);
    if (!p) {
      p = build();
      this.entries.set(key, p);
      p.catch(() => {
        if (this.entries.get(key) === p) this.entries.delete(key);
      });
    }
    return p;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Release every built value (those with a release() method, or an `exe` field that has one) and forget all keys. */
  async release(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const p of all) {
      let v: unknown;
      try {
        v = await p;
      } catch {
        continue; // a failed build holds nothing
      }
      await releaseValue(v);
    }
  }
}

async function releaseValue(v: unknown): Promise<void> {
  if (v === null || typeof v !== 'object') return;
  const r = v as Partial<Releasable> & { exe?: unknown };
  if (typeof r.release === 'function') await r.release();
  else if (r.exe !== undefined) await releaseValue(r.exe);
}
