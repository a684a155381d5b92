// Where REINFORCE gets its rewards: anything that scores (prompt, response) pairs.
//   RewardSource.score(items) → one number per item, in order.
// Implementations:
//   httpRewardSource(url)    an HTTP reward endpoint. Request (POST, application/json):
//                              {"prompts": [prompt, …], "responses": ["…", …]}
//                            (a prompt is a string or [{"role", "content"}, …] turns); response:
//                              {"rewards": [number, …]}   one finite number per item, same order.
//   rewardModelSource(dir)   a steer reward model (src/reward): its merged reward Σ_a w_a·slot_a
//   functionRewardSource     wraps any function
//   toyCorrectnessReward     the toy world's ground truth: 1 when the final answer is right, else 0
//                            (an oracle for tests and for checking what an RM-trained policy learnt)
import { UserError, describeValue } from '../util/errors.js';
import { scorePromptAnswer } from '../data/toy/tasks.js';
import { RewardScorer } from '../reward/score.js';
import type { RewardModel } from '../reward/model.js';
import type { Prompt } from '../data/helpsteer2.js';

export interface RewardItem {
  prompt: Prompt;
  response: string;
}

export interface RewardSource {
  /** Shown in announcements and metrics. */
  readonly name: string;
  score(items: readonly RewardItem[]): Promise<number[]>;
  /** Free what the source holds (a reward model's compiled graphs); whoever made the source calls it. */
  release?(): Promise<void>;
}

function checkRewards(name: string, rewards: unknown, n: number, where: string): number[] {
  if (!Array.isArray(rewards) || rewards.length !== n || !rewards.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new UserError({
      what: `the reward scorer ${name} returned an unusable answer`,
      where,
      expected: `${n} finite numbers, one per (prompt, response), in order`,
      received: describeValue(rewards),
      fix: 'make the scorer return {"rewards": [number, ...]} with one finite number per item',
    });
  }
  return rewards as number[];
}

/** A scorer from a function (its result is checked: one finite number per item). */
export function functionRewardSource(name: string, fn: (items: readonly RewardItem[]) => Promise<number[]> | number[]): RewardSource {
  return {
    name,
    async score(items) {
      return checkRewards(name, await fn(items), items.length, `reward scorer ${name}`);
    },
  };
}

/** An HTTP reward endpoint (request/response shapes in the file header). */
export function httpRewardSource(url: string, opts: { timeoutMs?: number; headers?: Record<string, string> } = {}): RewardSource {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError({ what: 'the reward endpoint is not a URL', where: '--reward-url', received: describeValue(url), fix: 'pass e.g. http://localhost:8000/reward' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UserError({ what: 'the reward endpoint must be http or https', where: '--reward-url', received: describeValue(url), fix: 'pass e.g. http://localhost:8000/reward' });
  }
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return {
    name: url,
    async score(items) {
      if (items.length === 0) return [];
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...opts.headers },
          body: JSON.stringify({ prompts: items.map((i) => i.prompt), responses: items.map((i) => i.response) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        throw new UserError({ what: `cannot reach the reward endpoint (${(e as Error).message})`, where: url, fix: 'start the reward server at that address, correct --reward-url, or score in-process with --reward-model DIR' });
      }
      const text = await res.text();
      if (!res.ok) {
        throw new UserError({ what: `the reward endpoint answered HTTP ${res.status}`, where: url, received: describeValue(text, 200), fix: 'check the server log; it must accept {"prompts": [...], "responses": [...]}' });
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new UserError({ what: 'the reward endpoint did not answer JSON', where: url, expected: '{"rewards": [number, ...]}', received: describeValue(text, 120) });
      }
      const rewards = body !== null && typeof body === 'object' ? (body as { rewards?: unknown }).rewards : undefined;
      return checkRewards(url, rewards, items.length, `${url} field rewards`);
    },
  };
}

/** The toy world's ground truth as a reward: 1 if the response's final answer is right, else 0. */
export function toyCorrectnessReward(): RewardSource {
  return functionRewardSource('toy ground truth', (items) =>
    items.map((it) => {
      if (typeof it.prompt !== 'string') throw new UserError({ what: 'toy-world prompts are single user messages', received: describeValue(it.prompt), fix: 'score toy-world prompts only' });
      return scorePromptAnswer(it.prompt, it.response).correct ? 1 : 0;
    }),
  );
}

/** A steer reward model directory (or a loaded one): the reward is its merged score. */
export function rewardModelSource(model: string | RewardModel, opts: { threads?: number; rows?: number } = {}): RewardSource {
  const scorer = typeof model === 'string' ? RewardScorer.load(model, opts) : new RewardScorer(model, opts);
  const name = typeof model === 'string' ? model : 'reward model';
  return { ...functionRewardSource(name, (items) => scorer.rewards(items)), release: () => scorer.release() };
}
