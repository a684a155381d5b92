// How a policy turns prompts and responses into tokens (and back), chat-template aware:
//   char  the toy world's format  <bos><user>prompt<assistant>response<eos>   (src/text/char.ts)
//   hf    tokenizer_config.json's Jinja chat template with add_generation_prompt, then the response
//         tokens and the tokenizer's eos (transformers' apply_chat_template, as TRL's SFT/DPO do)
//   plain a tokenizer without a chat template (llama2.c): BOS + the user text, then the response
// A training sequence is always encodePrompt(p) ++ encodeResponse(r): the prompt tokens are exactly
// what generation is conditioned on, so the response tokens of a rollout and of a data row line up.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, describeValue } from '../util/errors.js';
import { CharTokenizer, formatPrompt, type ChatTurn } from '../text/char.js';
import { renderChatTemplate } from '../text/chat-template.js';
import { HfTokenizer } from '../text/hf.js';
import { loadTokenizer, type TextTokenizer } from '../text/tokenizer.js';
import { splitHelpSteer2Prompt, type Turn } from '../data/helpsteer2.js';

/** A prompt: a user message, or turns ending with a user turn (optionally a leading system turn). */
import type { Prompt } from '../data/helpsteer2.js';

export interface PolicyCodec {
  readonly kind: 'char' | 'hf' | 'plain';
  readonly vocabSize: number;
  /** Token used for padding (never trained on: padding is masked). */
  readonly padId: number;
  /** Generation ends at any of these; encodeResponse closes a response with the first. */
  readonly stopTokens: readonly number[];
  /**
   * Tokens the policy sees before it answers (chat formatting and BOS included). `unknown: 'unk'`
   * maps characters a char tokenizer lacks to <unk> (benchmark prompts) instead of failing.
   */
  encodePrompt(prompt: Prompt, opts?: { unknown?: 'unk' }): number[];
  /** Response tokens followed by the stop token (set `stop` false for an unfinished response). */
  encodeResponse(response: string, stop?: boolean): number[];
  /** Response text of generated tokens; a final stop token is dropped. */
  decodeResponse(tokens: readonly number[]): string;
  /** Files that describe the tokenizer, to save beside weights (name → contents), or a path to copy from. */
  readonly save: { files: Record<string, string> } | { copyFrom: string };
}

/** A HelpSteer2-style joined prompt ("…\n<extra_id_1>Assistant\n…") as turns; other strings stay one user turn. */
export function promptTurnsOf(prompt: Prompt): Turn[] {
  if (typeof prompt === 'string') return prompt.includes('\n<extra_id_1>') ? splitHelpSteer2Prompt(prompt) : [{ role: 'user', content: prompt }];
  if (!Array.isArray(prompt) || prompt.length === 0 || prompt[prompt.length - 1].role !== 'user') {
    throw new UserError({ what: 'a prompt must be a string or turns ending with a user turn', received: describeValue(prompt), expected: '"text" or [{"role": "user", "content": "..."}, ...]', fix: 'drop a trailing assistant turn (it is the response)' });
  }
  return [...prompt];
}

/** A stable key for grouping samples of one prompt. */
export function promptKey(prompt: Prompt): string {
  return typeof prompt === 'string' ? prompt : JSON.stringify(prompt);
}

export class CharCodec implements PolicyCodec {
  readonly kind = 'char' as const;
  readonly vocabSize: number;
  readonly padId: number;
  readonly stopTokens: readonly number[];
  readonly save: { files: Record<string, string> };

  constructor(readonly tokenizer: CharTokenizer = new CharTokenizer()) {
    this.vocabSize = tokenizer.vocabSize;
    this.padId = tokenizer.padId;
    this.stopTokens = [tokenizer.eosId];
    this.save = { files: { 'tokenizer.json': JSON.stringify(tokenizer.toJSON(), null, 2) + '\n' } };
  }

  encodePrompt(prompt: Prompt, opts: { unknown?: 'unk' } = {}): number[] {
    const turns = promptTurnsOf(prompt);
    if (turns.some((t) => t.role === 'system')) {
      throw new UserError({ what: 'the toy char format has no system turn', received: describeValue(prompt), fix: 'drop the system turn' });
    }
    return this.tokenizer.encode(formatPrompt(turns as ChatTurn[]), { where: 'prompt', unknown: opts.unknown });
  }

  encodeResponse(response: string, stop = true): number[] {
    const ids = this.tokenizer.encode(response, { where: 'response' });
    return stop ? [...ids, this.tokenizer.eosId] : ids;
  }

  decodeResponse(tokens: readonly number[]): string {
    const t = tokens.length > 0 && this.stopTokens.includes(tokens[tokens.length - 1]) ? tokens.slice(0, -1) : tokens;
    return this.tokenizer.decode(t, { skipSpecial: true });
  }
}

export class TextCodec implements PolicyCodec {
  readonly kind: 'hf' | 'plain';
  readonly vocabSize: number;
  readonly padId: number;
  readonly stopTokens: readonly number[];
  readonly save: { copyFrom: string };
  private readonly template: string | null;

  constructor(readonly tokenizer: TextTokenizer, source: string, eosIds?: readonly number[]) {
    this.template = tokenizer instanceof HfTokenizer ? tokenizer.chatTemplate : null;
    this.kind = this.template ? 'hf' : 'plain';
    this.vocabSize = tokenizer.vocabSize;
    this.stopTokens = [...(eosIds && eosIds.length > 0 ? eosIds : tokenizer.eosIds)];
    if (this.stopTokens.length === 0) {
      throw new UserError({ what: 'the tokenizer has no end-of-sequence token', where: source, fix: 'set eos_token in tokenizer_config.json (or eos_token_id in config.json)' });
    }
    this.padId = tokenizer.padId ?? this.stopTokens[0];
    this.save = { copyFrom: source };
  }

  encodePrompt(prompt: Prompt): number[] {
    const turns = promptTurnsOf(prompt);
    if (this.template) {
      const tok = this.tokenizer as HfTokenizer;
      const name = (id: number | null) => (id === null ? '' : (tok.tokenString(id) ?? ''));
      const text = renderChatTemplate(this.template, turns, { addGenerationPrompt: true, bosToken: name(tok.bosId), eosToken: name(this.stopTokens[0]) });
      // the template writes BOS itself: encode without adding special tokens (transformers does the same)
      return this.tokenizer.encode(text, { bos: false });
    }
    const text = turns.filter((t) => t.role !== 'assistant').map((t) => t.content).join('\n');
    return this.tokenizer.encode(text, { bos: true });
  }

  encodeResponse(response: string, stop = true): number[] {
    const ids = response === '' ? [] : this.tokenizer.encode(response, { bos: false });
    return stop ? [...ids, this.stopTokens[0]] : ids;
  }

  decodeResponse(tokens: readonly number[]): string {
    const t = tokens.length > 0 && this.stopTokens.includes(tokens[tokens.length - 1]) ? tokens.slice(0, -1) : tokens;
    return this.tokenizer.decode([...t]);
  }
}

/** True when `path` (a directory or a .json file) holds the toy world's char tokenizer. */
function charTokenizerAt(path: string): CharTokenizer | null {
  const file = path.endsWith('.json') ? path : join(path, 'tokenizer.json');
  if (!existsSync(file)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null; // not JSON: let the generic loader report it
  }
  if (json !== null && typeof json === 'object' && (json as { type?: unknown }).type === 'steer-char') return CharTokenizer.fromJSON(json, file);
  return null;
}

/**
 * The codec for a tokenizer at `path` (a model directory, a tokenizer.json, or a llama2.c .bin).
 * `eosIds` (from the model's config.json) override the tokenizer's when given.
 */
export function loadCodec(path: string, opts: { vocabSize?: number; eosIds?: readonly number[] } = {}): PolicyCodec {
  const char = charTokenizerAt(path);
  if (char) return new CharCodec(char);
  const tok = loadTokenizer(path, opts.vocabSize);
  return new TextCodec(tok, path, opts.eosIds);
}
