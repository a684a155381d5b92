// Something that answers chat requests for a benchmark: a steer policy on this machine (its chat
// template, else the text as is, through the policy sampler's fixed-shape batches on src/nn's
// KV-cache generator) or an OpenAI-compatible endpoint (through the cached, retrying chat client
// of judge.ts). The same shape as the answer policies of the MT-Bench / Arena-Hard / AlpacaEval
// answer generation, so one can stand in for the other.
import { UserError } from '../util/errors.js';
import { LlamaGenerator } from '../nn/generate.js';
import { generateFixed, promptBudget } from '../policy/sample.js';
import type { PolicyModel } from '../policy/model.js';
import type { ChatMessage, JudgeClient } from './judge.js';

export interface AnswerRequest {
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
}

export interface PolicyAnswer {
  text: string;
  /** tokens generated (a final stop token excluded) */
  tokens: number;
}

export interface AnswerPolicy {
  /** the model's name in result files */
  readonly name: string;
  answer(requests: readonly AnswerRequest[], seed: number): Promise<PolicyAnswer[]>;
  /** prompts cut (their first tokens dropped) to fit a local model's context so far */
  readonly truncatedPrompts: number;
  close(): Promise<void>;
}

/** A steer policy answering on this machine, in fixed-shape batches (one temperature per call). */
export class LocalAnswerPolicy implements AnswerPolicy {
  truncatedPrompts = 0;
  private readonly gen: LlamaGenerator;

  constructor(
    private readonly policy: PolicyModel,
    readonly name: string,
    private readonly opts: { threads?: number; batchSize?: number } = {},
  ) {
    // frozen weights: baked into the decode graph (faster decoding, see GeneratorOptions)
    this.gen = new LlamaGenerator(policy.config, policy.weights, { threads: opts.threads ?? 2, bakeDecodeWeights: true });
  }

  async answer(requests: readonly AnswerRequest[], seed: number): Promise<PolicyAnswer[]> {
    const out: PolicyAnswer[] = new Array(requests.length);
    const groups = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const k = `${r.temperature}|${r.maxTokens}`;
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(i);
    });
    for (const idx of groups.values()) {
      const { temperature, maxTokens } = requests[idx[0]];
      const budget = promptBudget(this.policy, maxTokens);
      if (budget < 1) {
        throw new UserError({ what: `the model's context (${this.policy.config.maxPositionEmbeddings} tokens) leaves no room for a prompt with ${maxTokens} new tokens`, where: '--max-new-tokens', fix: `pass --max-new-tokens below ${this.policy.config.maxPositionEmbeddings}` });
      }
      const ids = idx.map((i) => {
        const p = this.policy.codec.encodePrompt(requests[i].messages.map((m) => ({ role: m.role, content: m.content })));
        if (p.length <= budget) return p;
        this.truncatedPrompts++;
        return p.slice(p.length - budget); // keep the question and the answer cue
      });
      const gens = await generateFixed(this.gen, ids, { maxNewTokens: maxTokens, temperature, seed, batchSize: Math.min(this.opts.batchSize ?? 16, ids.length), stopTokens: this.policy.codec.stopTokens, promptLength: Math.max(...ids.map((p) => p.length)) });
      gens.forEach((g, j) => {
        out[idx[j]] = { text: this.policy.codec.decodeResponse(g.tokens), tokens: g.tokens.length - (g.finishReason === 'stop' ? 1 : 0) };
      });
    }
    return out;
  }

  close(): Promise<void> {
    return this.gen.release();
  }
}

/** An OpenAI-compatible chat endpoint (vLLM, steer serve, an API) through the cached chat client. */
export class EndpointAnswerPolicy implements AnswerPolicy {
  readonly truncatedPrompts = 0;

  constructor(
    private readonly client: JudgeClient,
    readonly name: string,
  ) {}

  answer(requests: readonly AnswerRequest[]): Promise<PolicyAnswer[]> {
    return Promise.all(
      requests.map(async (r) => {
        const c = await this.client.complete({ messages: r.messages, temperature: r.temperature, maxTokens: r.maxTokens });
        return { text: c.text, tokens: c.completionTokens };
      }),
    );
  }

  async close(): Promise<void> {}
}
