// MT19937 (Matsumoto & Nishimura 1998) with NumPy's legacy RandomState seeding and bounded
// integers, so a seeded bootstrap draws exactly the rows the official Python scripts draw:
//   seed:   mt[0] = s; mt[i] = 1812433253·(mt[i−1] ⊕ (mt[i−1] ≫ 30)) + i   (init_genrand)
//   randint(0, n): mask = 2^⌈log2 n⌉ − 1; draw u32 & mask until ≤ n − 1 (numpy's masked
//   rejection, random_bounded_uint64_fill with use_masked=True, used by the legacy RandomState).
// pandas' DataFrame.sample(frac=1, replace=True) and np.random.choice(k, k) both call
// RandomState.randint(0, n, size) on the global state, which `np.random.seed(42)` resets.
// Python's `random` module (CPython Modules/_randommodule.c and Lib/random.py, 3.11, version 2 seeding):
//   random.seed(n) for an int n: key = |n| as 32-bit words, least significant first ([0] for 0);
//   random.Random(s) for a str s: n = int.from_bytes(s.encode() + sha512(s.encode()).digest(), 'big'),
//   then as for an int; init_by_array(key) (MT 2002 reference);
//   random() = (a·2^26 + b)/2^53 with a = genrand ≫ 5, b = genrand ≫ 6;
//   choices(population) = population[⌊random()·len⌋];
//   getrandbits(k ≤ 32) = genrand ≫ (32 − k);
//   _randbelow(n): k = n.bit_length(); draw getrandbits(k) until < n (rejection, not masking);
//   choice(seq) = seq[_randbelow(len(seq))]; randint(a, b) = a + _randbelow(b − a + 1).
import { createHash } from 'node:crypto';

const N = 624;
const M = 397;

export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  /** RandomState(seed) / np.random.seed(seed) for an integer seed in [0, 2^32). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`MT19937 seed must be an integer in [0, 2^32), got ${seed}`);
    }
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 · prev + i  (mod 2^32), split to stay exact in doubles
      this.mt[i] = (Math.imul(prev, 1812433253) + i) >>> 0;
    }
    this.index = N;
  }

  /** init_by_array(key): how CPython seeds from an int (its 32-bit words, least significant first). */
  static fromKey(key: ArrayLike<number>): MT19937 {
    const g = new MT19937(19650218);
    const mt = g.mt;
    const n = Math.max(1, key.length);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, n); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + (key.length ? key[j] >>> 0 : 0) + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= n) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
    g.index = N;
    return g;
  }

  /** Python's random.Random(s) for a str seed (version 2: the UTF-8 bytes followed by their SHA-512). */
  static fromPythonString(seed: string): MT19937 {
    const text = Buffer.from(seed, 'utf8');
    const bytes = Buffer.concat([text, createHash('sha512').update(text).digest()]);
    // big-endian integer → 32-bit words, least significant first; high zero words dropped (_PyLong_NumBits)
    const words: number[] = [];
    for (let end = bytes.length; end > 0; end -= 4) {
      let w = 0;
      for (let b = Math.max(0, end - 4); b < end; b++) w = (w * 256 + bytes[b]) >>> 0;
      words.push(w);
    }
    while (words.length > 1 && words[words.length - 1] === 0) words.pop();
    return MT19937.fromKey(words);
  }

  /** random.random(): a double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Python's random.seed(n) for a non-negative safe integer n (|n| in 32-bit words, low first). */
  static fromPythonInt(seed: number): MT19937 {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Python seed must be a safe integer, got ${seed}`);
    let n = Math.abs(seed);
    const key: number[] = [];
    while (n > 0) {
      key.push(n % 0x100000000);
      n = Math.floor(n / 0x100000000);
    }
    return MT19937.fromKey(key.length ? key : [0]);
  }

  /** Python's random.getrandbits(k) for 1 ≤ k ≤ 32: the top k bits of one 32-bit draw. */
  getrandbits(k: number): number {
    if (!Number.isInteger(k) || k < 1 || k > 32) throw new RangeError(`getrandbits: k must be an integer in [1, 32], got ${k}`);
    return this.nextUint32() >>> (32 - k);
  }

  /** Python's Random._randbelow(n) for 1 ≤ n < 2^32: getrandbits(n.bit_length()) until < n. */
  randbelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new RangeError(`randbelow: n must be an integer in [1, 2^32), got ${n}`);
    const k = 32 - Math.clz32(n); // n.bit_length()
    for (;;) {
      const r = this.getrandbits(k);
      if (r < n) return r;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let k = 0; k < N; k++) {
      const y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
      let v = mt[(k + M) % N] ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[k] = v >>> 0;
    }
    this.index = 0;
  }

  /** genrand_int32: uniform integer in [0, 2^32). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** RandomState.randint(0, n) for 1 ≤ n ≤ 2^32 (masked rejection sampling, as numpy does). */
  randint(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000) throw new RangeError(`randint: n must be an integer in [1, 2^32], got ${n}`);
    const rng = n - 1;
    if (rng === 0) return 0;
    if (rng === 0xffffffff) return this.nextUint32();
    let mask = rng;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.nextUint32() & mask) >>> 0;
      if (v <= rng) return v;
    }
  }

  /** RandomState.randint(0, n, size=count) (also np.random.choice(n, count) with replacement). */
  randintArray(n: number, count: number): Int32Array {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.randint(n);
    return out;
  }
}

/** alpaca_eval utils.random_seeded_choice(seed, choices): random.Random(seed).choices(choices, k=1)[0], as an index. */
export function pythonSeededChoiceIndex(seed: string, n: number): number {
  return Math.floor(MT19937.fromPythonString(seed).random() * n);
}
