// Scoring: token sequences → head slots [n, N] → rewards [n] (reward = Σ_a w_a · slot_a).
// Sequences are sorted by length, grouped into length buckets (src/train/batches.ts lengthBucket;
// one compiled graph per bucket length T, static shapes), and run `rows` at a time; a short last chunk is filled with 1-token
// dummy rows whose scores are dropped. A row's score does not depend on its neighbours or padding
// (the model masks padding), so the order and grouping never change a reward.
import { UserError } from '../util/errors.js';
import { Graph } from '../graph/index.js';
import { compile, type Executable } from '../runtime/index.js';
import { ShapeCache } from '../runtime/cache.js';
import { lengthBucket } from '../train/batches.js';
import type { LlamaConfig } from '../nn/config.js';
import { padBatch } from '../nn/llama.js';
import { buildRewardForward, loadRewardModel, rewardParamArrays, type RewardModel } from './model.js';
import { mergeSlots } from './head.js';
import { truncateLeft, type Prompt } from './encode.js';

export interface ScorerOptions {
  /** Rows per run (default 32). */
  rows?: number;
  threads?: number;
  /** Bucket width in tokens (default 32). */
  bucketWidth?: number;
  maxLength: number;
  padId: number;
  /** Idle engine threads spin (default true); false on shared cores. */
  spinning?: boolean;
}

/** Forward-only scoring with the parameters fed on every call (so a trainer can score its live state). */
export class SequenceScorer {
  private readonly exes = new ShapeCache<{ exe: Executable; names: string[] }>();
  readonly rows: number;
  constructor(readonly config: LlamaConfig, readonly slots: number, readonly opts: ScorerOptions) {
    this.rows = opts.rows ?? 32;
  }

  private executable(T: number) {
    return this.exes.get(String(T), async () => {
      const g = new Graph();
      const f = buildRewardForward(g, this.config, this.slots, this.rows, T);
      const exe = await compile(g, { inputs: [f.ids, f.positions, f.mask, f.last, ...f.params], outputs: { scores: f.scores }, threads: this.opts.threads ?? 2, spinning: this.opts.spinning, name: `reward_scores_${this.rows}x${T}` });
      return { exe, names: f.params.map((t) => t.attrs.name as string) };
    });
  }

  /** Free the compiled graphs (a later score() compiles again). */
  release(): Promise<void> {
    return this.exes.release();
  }

  /** Slot scores [seqs.length · N] (row-major), in the order given. */
  async score(params: Readonly<Record<string, Float32Array>>, seqs: readonly (readonly number[])[]): Promise<Float32Array> {
    const N = this.slots;
    const out = new Float32Array(seqs.length * N);
    const order = seqs.map((s, i) => i).sort((a, b) => seqs[a].length - seqs[b].length);
    const buckets = new Map<number, number[]>();
    for (const i of order) {
      if (seqs[i].length === 0) throw new UserError({ what: `sequence ${i} is empty`, where: 'reward scoring', fix: 'score non-empty (prompt, response) texts' });
      const T = lengthBucket(seqs[i].length, this.opts.bucketWidth ?? 32, this.opts.maxLength);
      if (seqs[i].length > T) throw new UserError({ what: `sequence ${i} has ${seqs[i].length} tokens, more than the model's maxLength ${this.opts.maxLength}`, where: 'reward scoring', fix: 'truncate sequences with truncateLeft first' });
      (buckets.get(T) ?? buckets.set(T, []).get(T)!).push(i);
    }
    for (const [T, idx] of buckets) {
      const { exe, names } = await this.executable(T);
      const feeds: Record<string, Float32Array | BigInt64Array> = {};
      for (const n of names) feeds[n] = params[n];
      for (let s = 0; s < idx.length; s += this.rows) {
        const chunk = idx.slice(s, s + this.rows);
        const rowsSeqs = chunk.map((i) => seqs[i]);
        while (rowsSeqs.length < this.rows) rowsSeqs.push([this.opts.padId]);
        const pb = padBatch(rowsSeqs, { side: 'right', padId: this.opts.padId, length: T });
        const r = await exe.run({ ...feeds, ids: pb.ids, positions: pb.positions, mask: pb.mask, last: pb.lastIndex });
        const sc = r.scores as Float32Array;
        chunk.forEach((i, k) => out.set(sc.subarray(k * N, (k + 1) * N), i * N));
      }
    }
    return out;
  }
}

export interface ScoredResponse {
  /** The merged reward Σ w_a · slot_a. */
  reward: number;
  /** Per-slot scores, by slot name. */
  slots: Record<string, number>;
}

/** A loaded reward model ready to score (prompt, response) rows repeatedly (REINFORCE, evaluation, serving). */
export class RewardScorer {
  private readonly scorer: SequenceScorer;
  private readonly params: Record<string, Float32Array>;
  private readonly source: string;
  constructor(readonly model: RewardModel, opts: { threads?: number; rows?: number; spinning?: boolean; source?: string } = {}) {
    this.source = opts.source ?? 'the reward model';
    this.params = rewardParamArrays(model);
    // A diverged training run's model scores everything NaN: refuse it before any work.
    for (const [name, a] of Object.entries(this.params)) {
      for (let i = 0; i < a.length; i++) {
        if (!Number.isFinite(a[i])) {
          throw new UserError({ what: `the reward model's weights hold NaN or infinite values (${name}[${i}] = ${a[i]})`, where: this.source, expected: 'finite weights', fix: 'the training run that wrote it diverged: retrain it with a lower --lr' });
        }
      }
    }
    this.scorer = new SequenceScorer(model.config, model.info.attributes.length, { ...opts, maxLength: model.info.maxLength, padId: model.encoder.padId });
  }

  static load(dir: string, opts: { threads?: number; rows?: number; spinning?: boolean } = {}): RewardScorer {
    return new RewardScorer(loadRewardModel(dir), { ...opts, source: dir });
  }

  /** Token ids the model scores for a row (truncated to the model's maxLength, keeping the end). */
  encode(prompt: Prompt, response: string): number[] {
    return truncateLeft(this.model.encoder.encode(prompt, response), this.model.info.maxLength);
  }

  /** Slot scores [n · N] of token sequences; a non-finite score is an error, never a reward. */
  async scoreIds(seqs: readonly (readonly number[])[]): Promise<Float32Array> {
    const s = await this.scorer.score(this.params, seqs);
    const N = this.model.info.attributes.length;
    for (let i = 0; i < s.length; i++) {
      if (!Number.isFinite(s[i])) {
        throw new UserError({ what: `the reward model scored row ${Math.floor(i / N) + 1} ${s[i]} (slot ${this.model.info.attributes[i % N]})`, where: this.source, expected: 'finite scores', fix: 'the model or its input overflows float32: check the model (retrain with a lower --lr) and the row' });
      }
    }
    return s;
  }

  /** Merged rewards of (prompt, response) rows. */
  async rewards(rows: readonly { prompt: Prompt; response: string }[]): Promise<number[]> {
    return mergeSlots(await this.scoreIds(rows.map((r) => this.encode(r.prompt, r.response))), this.model.info.rewardWeights);
  }

  /** Free the compiled graphs; call when done scoring. */
  release(): Promise<void> {
    return this.scorer.release();
  }

  /** Rewards and per-slot scores of (prompt, response) rows. */
  async score(rows: readonly { prompt: Prompt; response: string }[]): Promise<ScoredResponse[]> {
    const N = this.model.info.attributes.length;
    const s = await this.scoreIds(rows.map((r) => this.encode(r.prompt, r.response)));
    const rewards = mergeSlots(s, this.model.info.rewardWeights);
    return rewards.map((reward, i) => {
      const slots: Record<string, number> = {};
      this.model.info.attributes.forEach((a, k) => (slots[a] = s[i * N + k]));
      return { reward, slots };
    });
  }
}

/** Score (prompt, response) rows with a reward model directory (or a loaded model). */
export async function scoreRewardModel(model: string | RewardModel, rows: readonly { prompt: Prompt; response: string }[], opts: { threads?: number; rows?: number } = {}): Promise<ScoredResponse[]> {
  const scorer = typeof model === 'string' ? RewardScorer.load(model, opts) : new RewardScorer(model, opts);
  try {
    return await scorer.score(rows);
  } finally {
    await scorer.release();
  }
}
