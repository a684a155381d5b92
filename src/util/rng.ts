// PCG32 (XSH-RR): state ← state·6364136223846793005 + inc (mod 2^64);
// out = rotr32(((old ⊕ (old ≫ 18)) ≫ 27) mod 2^32, old ≫ 59).
// Source: M. E. O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically Good
// Algorithms for Random Number Generation" (2014), and pcg-c-basic's pcg32_random_r /
// pcg32_srandom_r, whose seeding this follows exactly (so pcg32-demo's published outputs are
// test vectors). The 64-bit arithmetic is done on two unsigned 32-bit halves (fast path);
// `pcg32Reference` below is the obvious BigInt twin the tests compare against.
//
// Every random choice steer makes (the toy world, shuffles, splits, sampling) draws from an
// Rng so that a seed reproduces a run exactly.

const MUL_HI = 0x5851f42d;
const MUL_LO = 0x4c957f2d;
const TWO_32 = 4294967296;

/** Full 64-bit product of two unsigned 32-bit integers, as [hi, lo]. */
function mul32x32(a: number, b: number): [number, number] {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const lo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const hi = (p11 + (p01 >>> 16) + (p10 >>> 16) + Math.floor(mid / 65536)) >>> 0;
  return [hi, lo];
}

/** 32-bit FNV-1a of a string's UTF-16 code units (stable stream ids for named sub-streams). */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export interface RngState {
  /** 64-bit state and increment as 16-digit hex strings. */
  state: string;
  inc: string;
}

export class Rng {
  private sHi = 0;
  private sLo = 0;
  private iHi = 0;
  private iLo = 1;

  /**
   * pcg32_srandom_r(initstate = seed, initseq = stream). `seed` is a non-negative integer up to
   * 2^53; `stream` selects one of 2^63 independent sequences (a number, or a name hashed to one).
   */
  constructor(seed: number, stream: number | string = 54) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Rng seed must be a non-negative safe integer, got ${seed}`);
    const seq = typeof stream === 'string' ? fnv1a32(stream) : stream;
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`Rng stream must be a non-negative safe integer, got ${stream}`);
    // inc = (initseq << 1) | 1, on 64 bits
    const seqHi = Math.floor(seq / TWO_32) >>> 0;
    const seqLo = seq >>> 0;
    this.iHi = ((seqHi << 1) | (seqLo >>> 31)) >>> 0;
    this.iLo = ((seqLo << 1) | 1) >>> 0;
    this.sHi = 0;
    this.sLo = 0;
    this.nextUint32();
    const lo = (this.sLo + (seed >>> 0)) >>> 0;
    const carry = lo < this.sLo ? 1 : 0;
    this.sHi = (this.sHi + (Math.floor(seed / TWO_32) >>> 0) + carry) >>> 0;
    this.sLo = lo;
    this.nextUint32();
  }

  /** A generator for a named purpose, independent of how many numbers this one has drawn. */
  static derive(seed: number, name: string): Rng {
    return new Rng(seed, fnv1a32(name));
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    const oh = this.sHi;
    const ol = this.sLo;
    // state = state * MUL + inc  (mod 2^64)
    const [ph, pl] = mul32x32(ol, MUL_LO);
    const hi = (ph + Math.imul(oh, MUL_LO) + Math.imul(ol, MUL_HI)) >>> 0;
    const lo = (pl + this.iLo) >>> 0;
    const carry = lo < pl ? 1 : 0;
    this.sHi = (hi + this.iHi + carry) >>> 0;
    this.sLo = lo;
    // output from the old state: xorshifted = ((old >> 18) ^ old) >> 27; rot = old >> 59
    const xh = oh ^ (oh >>> 18);
    const xl = ol ^ ((ol >>> 18) | (oh << 14));
    const xs = ((xl >>> 27) | (xh << 5)) >>> 0;
    const rot = oh >>> 27;
    return ((xs >>> rot) | (xs << ((-rot) & 31))) >>> 0;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [lo, hi) (unbiased: rejection of the short last bucket). */
  int(lo: number, hi: number): number {
    const n = hi - lo;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || n <= 0 || n > TWO_32) {
      throw new RangeError(`Rng.int needs integers lo < hi with hi - lo <= 2^32, got [${lo}, ${hi})`);
    }
    const limit = TWO_32 - (TWO_32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return lo + (x % n);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.float() < p;
  }

  /** Standard normal draw (Box–Muller, one value per call, no cached second value). */
  normal(mean = 0, std = 1): number {
    let u = this.float();
    while (u === 0) u = this.float();
    const v = this.float();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.choice of an empty array');
    return items[this.int(0, items.length)];
  }

  /** Index drawn with probability proportional to weights[i] (non-negative, not all zero). */
  weightedIndex(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0)) throw new RangeError(`Rng.weightedIndex: weights must be >= 0, got ${w}`);
      total += w;
    }
    if (!(total > 0)) throw new RangeError('Rng.weightedIndex: weights sum to 0');
    let r = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    // float rounding: fall back to the last index with positive weight
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
    return weights.length - 1;
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /** The generator's exact position (for checkpoints); restore with Rng.fromState. */
  getState(): RngState {
    const hex = (hi: number, lo: number) => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
    return { state: hex(this.sHi, this.sLo), inc: hex(this.iHi, this.iLo) };
  }

  static fromState(s: RngState): Rng {
    const ok = (h: string) => /^[0-9a-f]{16}$/.test(h);
    if (!ok(s.state) || !ok(s.inc) || (parseInt(s.inc.slice(15), 16) & 1) !== 1) {
      throw new RangeError(`invalid Rng state ${JSON.stringify(s)} (expected 16 hex digits each, odd inc)`);
    }
    const r = new Rng(0);
    r.sHi = parseInt(s.state.slice(0, 8), 16) >>> 0;
    r.sLo = parseInt(s.state.slice(8), 16) >>> 0;
    r.iHi = parseInt(s.inc.slice(0, 8), 16) >>> 0;
    r.iLo = parseInt(s.inc.slice(8), 16) >>> 0;
    return r;
  }
}

/**
 * The slow, obvious twin: pcg32 with BigInt arithmetic, exactly as pcg-c-basic writes it.
 * Returns the first `count` outputs for (initstate, initseq). Used by tests only.
 */
export function pcg32Reference(initstate: bigint, initseq: bigint, count: number): number[] {
  const M = (1n << 64n) - 1n;
  const MUL = 6364136223846793005n;
  let state = 0n;
  const inc = ((initseq << 1n) | 1n) & M;
  const step = (): number => {
    const old = state;
    state = (old * MUL + inc) & M;
    const xorshifted = Number((((old >> 18n) ^ old) >> 27n) & 0xffffffffn);
    const rot = Number(old >> 59n);
    return ((xorshifted >>> rot) | (xorshifted << ((-rot) & 31))) >>> 0;
  };
  step();
  state = (state + initstate) & M;
  step();
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(step());
  return out;
}
