// The reward endpoints, over the reward models' worker (worker.ts: requests that arrive while the
// model is busy are scored together in the next run).
//
// POST /v1/rewards (steer's): {"model"?, one of
//     "items": [{"prompt": text | [{role, content}…], "response": text}, …]
//     "prompts": [...], "responses": [...]          (what `steer rl reinforce --reward-url` sends)
//     "messages": [[{role, content}…, {"role": "assistant", …}], …]   (whole chats, last turn scored)
//   , "weights"?: "nemotron" | slot name | {slot: weight}}
//   → {"object": "list", "model", "attributes": [slot…], "weights": [w…], "rewards": [r…],
//      "data": [{"index", "reward", "attributes": {slot: score}}…], "usage": {"prompt_tokens"}}
//   reward = Σ_a w_a · slot_a with the request's weights, else the model's own (steer.json).
// POST /get_reward (OpenRLHF's remote reward model, openrlhf/utils/remote_rm_utils.py remote_rm_fn):
//   {"query": [prompt + response, …], "prompts": [prompt, …], "labels": [...]}
//   → {"rewards": [r…], "scores": [r…], "extra_logs": {slot: [score…]}}
//   The response is the query with its prompt cut off; labels are accepted and unused (a reward model
//   needs none); fields OpenRLHF's variants add (datasources, metadata, …) are ignored.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isUserError } from '../util/errors.js';
import { mergeSlots, rewardWeights, type RewardWeighting } from '../reward/head.js';
import type { Prompt } from '../reward/encode.js';
import type { ModelWorker } from './client.js';
import type { ServerMetrics } from './metrics.js';
import { ApiError } from './openai.js';

export interface RewardModelInfo {
  attributes: string[];
  rewardWeights: number[];
  maxLength: number;
}

const turn = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() }).strict();
const prompt = z.union([z.string(), z.array(turn).min(1)]);
const MAX_ITEMS = 4096;

export const RewardRequest = z
  .object({
    model: z.string().optional(),
    items: z.array(z.object({ prompt, response: z.string() }).strict()).min(1).max(MAX_ITEMS).optional(),
    prompts: z.array(prompt).min(1).max(MAX_ITEMS).optional(),
    responses: z.array(z.string()).min(1).max(MAX_ITEMS).optional(),
    messages: z.array(z.array(turn).min(2)).min(1).max(MAX_ITEMS).optional(),
    weights: z.union([z.string(), z.record(z.string(), z.number())]).optional(),
  })
  .strict();

export const OpenRlhfRequest = z.object({
  query: z.array(z.string()).min(1).max(MAX_ITEMS),
  prompts: z.array(z.string()).min(1).max(MAX_ITEMS),
  labels: z.unknown().optional(),
});

type Row = { prompt: Prompt; response: string };

export class RewardRoutes {
  constructor(
    private readonly worker: ModelWorker<Record<string, RewardModelInfo>>,
    private readonly info: Record<string, RewardModelInfo>,
    private readonly metrics: ServerMetrics,
  ) {}

  names(): string[] {
    return Object.keys(this.info);
  }

  private model(name: string | undefined): string {
    const n = name ?? this.names()[0];
    if (!(n in this.info)) throw new ApiError(404, `The reward model \`${n}\` does not exist. This server has ${this.names().map((x) => `\`${x}\``).join(', ')}.`, 'model', 'model_not_found');
    return n;
  }

  /** Slot scores [rows · N] and token counts from the worker. */
  private score(model: string, rows: Row[]): Promise<{ slots: number[]; tokens: number[] }> {
    const id = `rm-${randomUUID()}`;
    return new Promise((resolve, reject) => {
      this.worker.on(id, (m) => {
        this.worker.off(id);
        if (m.type === 'error') return reject(new ApiError(500, 'The reward model worker stopped; see the server log.', null, 'internal_error'));
        if (typeof m.error === 'string') return reject(new ApiError(Number(m.status), m.error, null, Number(m.status) === 400 ? 'invalid_value' : 'internal_error'));
        this.metrics.rewardItems += rows.length;
        resolve({ slots: m.slots as number[], tokens: m.tokens as number[] });
      });
      this.worker.post({ type: 'score', id, model, rows });
    });
  }

  async native(body: unknown) {
    const r = RewardRequest.parse(body);
    const model = this.model(r.model);
    const given = [r.items, r.prompts ?? r.responses, r.messages].filter((x) => x !== undefined).length;
    if (given !== 1) throw new ApiError(400, 'Give exactly one of "items", "prompts" with "responses", or "messages".', null, 'invalid_value');
    let rows: Row[];
    if (r.items) rows = r.items;
    else if (r.messages) {
      rows = r.messages.map((m, i) => {
        const last = m[m.length - 1];
        if (last.role !== 'assistant') throw new ApiError(400, `messages[${i}] must end with the assistant turn to score.`, `messages[${i}]`, 'invalid_value');
        return { prompt: m.slice(0, -1), response: last.content };
      });
    } else {
      if (!r.prompts || !r.responses || r.prompts.length !== r.responses.length) throw new ApiError(400, `"prompts" and "responses" must have the same length (got ${r.prompts?.length ?? 0} and ${r.responses?.length ?? 0}).`, 'responses', 'invalid_value');
      rows = r.prompts.map((p, i) => ({ prompt: p, response: r.responses![i] }));
    }
    const info = this.info[model];
    let weights = info.rewardWeights;
    if (r.weights !== undefined) {
      try {
        weights = rewardWeights(info.attributes, r.weights as RewardWeighting);
      } catch (e) {
        if (isUserError(e)) throw new ApiError(400, e.message.split('\n').join('; '), 'weights', 'invalid_value');
        throw e;
      }
    }
    const { slots, tokens } = await this.score(model, rows);
    const N = info.attributes.length;
    const rewards = mergeSlots(slots, weights);
    return {
      object: 'list',
      model,
      attributes: info.attributes,
      weights,
      rewards,
      data: rewards.map((reward, index) => ({ index, reward, attributes: Object.fromEntries(info.attributes.map((a, k) => [a, slots[index * N + k]])) })),
      usage: { prompt_tokens: tokens.reduce((a, b) => a + b, 0) },
    };
  }

  async openrlhf(body: unknown) {
    const r = OpenRlhfRequest.parse(body);
    if (r.prompts.length !== r.query.length) throw new ApiError(400, `"prompts" must have one prompt per query (got ${r.prompts.length} prompts for ${r.query.length} queries).`, 'prompts', 'invalid_value');
    const rows = r.query.map((q, i) => {
      const p = r.prompts[i];
      if (!q.startsWith(p)) throw new ApiError(400, `query[${i}] does not start with prompts[${i}]: OpenRLHF sends the prompt followed by the response.`, `query[${i}]`, 'invalid_value');
      return { prompt: p, response: q.slice(p.length) };
    });
    const model = this.model(undefined);
    const info = this.info[model];
    const { slots } = await this.score(model, rows);
    const rewards = mergeSlots(slots, info.rewardWeights);
    const N = info.attributes.length;
    const extra = Object.fromEntries(info.attributes.map((a, k) => [a, rewards.map((_, i) => slots[i * N + k])]));
    return { rewards, scores: rewards, extra_logs: extra };
  }
}
