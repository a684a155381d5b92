// The model side of `steer serve`, in a worker thread: the policy's DecodeEngine, or the reward
// models' batching scorer. ONNX Runtime's session.run holds the thread it runs on for a whole
// step; here that is this worker's thread, so the server's event loop keeps answering.
// Messages in:  {type: 'submit', job} | {type: 'cancel', id} | {type: 'score', id, model, rows} | {type: 'close'}
// Messages out: {type: 'ready', info} | {type: 'fatal', message} | EngineEvent | {type: 'scored', id, …} | {type: 'closed'}
import { parentPort, workerData } from 'node:worker_threads';
import { isUserError } from '../util/errors.js';
import { loadPolicy } from '../policy/model.js';
import { RewardScorer } from '../reward/score.js';
import { loadRewardModel } from '../reward/model.js';
import { powerOfTwoBucket } from '../nn/generate.js';
import { DecodeEngine, type CompletionJob, type EngineEvent, type EngineOptions } from './engine.js';
import type { Prompt } from '../reward/encode.js';

export type WorkerSpec =
  | { kind: 'policy'; model: string; tokenizer?: string; engine: EngineOptions; warmup: boolean }
  | { kind: 'reward'; models: { name: string; dir: string }[]; rows: number; threads?: number };

export interface ScoreRequest {
  type: 'score';
  id: string;
  model: string;
  rows: { prompt: Prompt; response: string }[];
}

const port = parentPort!;
const spec = workerData as WorkerSpec;

function fatal(e: unknown): void {
  port.postMessage({ type: 'fatal', message: isUserError(e) ? e.message : String((e as Error).stack ?? e) });
}

async function servePolicy(s: Extract<WorkerSpec, { kind: 'policy' }>): Promise<void> {
  const policy = loadPolicy(s.model, { tokenizer: s.tokenizer });
  // a step's events (one per row) go out as one message, posted once the step's synchronous work is done
  let pending: EngineEvent[] = [];
  const flush = () => {
    port.postMessage({ type: 'events', events: pending });
    pending = [];
  };
  const engine = new DecodeEngine(policy, (e) => {
    if (pending.push(e) === 1) queueMicrotask(flush);
  }, s.engine);
  if (s.warmup) await engine.warmup();
  const loop = engine.start();
  port.on('message', (m: { type: string; job?: CompletionJob; id?: string }) => {
    if (m.type === 'submit') engine.submit(m.job!);
    else if (m.type === 'cancel') engine.cancel(m.id!);
    else if (m.type === 'close') void engine.close().then(() => port.postMessage({ type: 'closed' }));
  });
  port.postMessage({ type: 'ready', info: { context: engine.context, maxBatch: engine.maxBatch, vocabSize: policy.config.vocabSize } });
  await loop;
}

async function serveRewards(s: Extract<WorkerSpec, { kind: 'reward' }>): Promise<void> {
  const models = new Map(s.models.map((m) => [m.name, loadRewardModel(m.dir)]));
  // one scorer per (model, rows): a run pads to its row count, so a lone item runs 1 row, not s.rows
  const scorers = new Map<string, RewardScorer>();
  const scorerFor = (name: string, n: number) => {
    const rows = powerOfTwoBucket(n, 1, s.rows);
    const key = `${name}|${rows}`;
    let sc = scorers.get(key);
    if (!sc) scorers.set(key, (sc = new RewardScorer(models.get(name)!, { rows, threads: s.threads })));
    return sc;
  };
  const pending: ScoreRequest[] = [];
  let busy = false;
  let closing = false;
  // every request waiting when the scorer frees up is scored in one call (one model at a time)
  const drain = async () => {
    if (busy) return;
    busy = true;
    while (pending.length > 0) {
      const model = pending[0].model;
      const batch = pending.filter((p) => p.model === model);
      for (const b of batch) pending.splice(pending.indexOf(b), 1);
      const rows = batch.flatMap((b) => b.rows);
      const scorer = scorerFor(model, rows.length);
      try {
        const encoded = rows.map((r) => scorer.encode(r.prompt, r.response));
        const slots = await scorer.scoreIds(encoded);
        const N = scorer.model.info.attributes.length;
        let at = 0;
        for (const b of batch) {
          port.postMessage({ type: 'scored', id: b.id, slots: Array.from(slots.subarray(at * N, (at + b.rows.length) * N)), tokens: encoded.slice(at, at + b.rows.length).map((e) => e.length) });
          at += b.rows.length;
        }
      } catch (e) {
        const user = isUserError(e);
        if (!user) console.error(`steer serve: reward scoring failed: ${(e as Error).stack ?? e}`);
        for (const b of batch) port.postMessage({ type: 'scored', id: b.id, error: user ? (e as Error).message : 'the reward model failed; see the server log', status: user ? 400 : 500 });
      }
    }
    busy = false;
    if (closing) port.postMessage({ type: 'closed' });
  };
  port.on('message', (m: ScoreRequest | { type: 'close' }) => {
    if (m.type === 'score') {
      pending.push(m);
      void drain();
    } else if (m.type === 'close') {
      closing = true;
      if (!busy) port.postMessage({ type: 'closed' });
    }
  });
  const info = Object.fromEntries([...models].map(([name, m]) => [name, { attributes: m.info.attributes, rewardWeights: m.info.rewardWeights, maxLength: m.info.maxLength }]));
  port.postMessage({ type: 'ready', info });
}

try {
  await (spec.kind === 'policy' ? servePolicy(spec) : serveRewards(spec));
} catch (e) {
  fatal(e);
}
