// How a reward model sees a (prompt, response): one token sequence whose last token's hidden state
// the head reads.
//   char (the toy world):  <bos><user>prompt<assistant>response<eos>     (src/text/char.ts)
//   text (llama2.c / HF tokenizers): the HH-RLHF transcript
//       "\n\nHuman: u₁\n\nAssistant: a₁ … \n\nHuman: uₙ\n\nAssistant: response" + eos
// Sequences longer than maxLength keep their LAST maxLength tokens: the head reads the end.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { CharTokenizer, formatExample, type ChatTurn } from '../text/char.js';
import { loadTokenizer, type TextTokenizer } from '../text/tokenizer.js';
import type { Prompt } from '../data/helpsteer2.js';

export type { Prompt } from '../data/helpsteer2.js';
export type TextFormat = 'char-chat' | 'transcript';

export interface RewardEncoder {
  readonly format: TextFormat;
  readonly vocabSize: number;
  readonly padId: number;
  /** Token ids of one (prompt, response), not truncated. */
  encode(prompt: Prompt, response: string): number[];
  /** What a saved model directory needs to rebuild this encoder. */
  files(): { tokenizerFrom?: string; extraFiles?: Record<string, string> };
}

/** The toy world's char tokenizer and chat format. */
export class CharRewardEncoder implements RewardEncoder {
  readonly format = 'char-chat' as const;
  readonly vocabSize: number;
  readonly padId: number;
  constructor(readonly tok: CharTokenizer = new CharTokenizer()) {
    this.vocabSize = tok.vocabSize;
    this.padId = tok.padId;
  }
  encode(prompt: Prompt, response: string): number[] {
    const turns: ChatTurn[] | string = typeof prompt === 'string' ? prompt : prompt.filter((t) => t.role !== 'system').map((t) => ({ role: t.role as 'user' | 'assistant', content: t.content }));
    return this.tok.encode(formatExample(turns, response), { unknown: 'unk' });
  }
  files() {
    return { extraFiles: { 'tokenizer.json': JSON.stringify(this.tok.toJSON(), null, 2) + '\n' } };
  }
}

/** The HH-RLHF transcript as one text, tokenised by a llama2.c or Hugging Face tokenizer. */
export function transcript(prompt: Prompt, response: string): string {
  const turns = typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : prompt;
  let s = '';
  for (const t of turns) {
    if (t.role === 'system') s += t.content + '\n';
    else s += `\n\n${t.role === 'user' ? 'Human' : 'Assistant'}: ${t.content}`;
  }
  return `${s}\n\nAssistant: ${response}`;
}

export class TextRewardEncoder implements RewardEncoder {
  readonly format = 'transcript' as const;
  readonly vocabSize: number;
  readonly padId: number;
  constructor(readonly tok: TextTokenizer, readonly source: string) {
    this.vocabSize = tok.vocabSize;
    this.padId = tok.padId ?? tok.eosIds[0] ?? 0;
  }
  encode(prompt: Prompt, response: string): number[] {
    const ids = this.tok.encode(transcript(prompt, response), { bos: true });
    if (this.tok.eosIds.length > 0) ids.push(this.tok.eosIds[0]);
    return ids;
  }
  files() {
    return { tokenizerFrom: this.source };
  }
}

/** Is this tokenizer.json the toy world's char tokenizer? */
function charSpecAt(path: string): unknown | null {
  if (!existsSync(path)) return null;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { type?: unknown };
    return v && v.type === 'steer-char' ? v : null;
  } catch {
    return null;
  }
}

/**
 * The encoder for a tokenizer path: a steer char tokenizer.json (or a directory holding one), a
 * llama2.c tokenizer .bin, a Hugging Face tokenizer.json, or a model directory with either.
 */
export function loadRewardEncoder(path: string, vocabSize?: number): RewardEncoder {
  if (!existsSync(path)) {
    throw new UserError({ what: 'the tokenizer path does not exist', where: path, fix: 'pass --tokenizer: a tokenizer.json (steer char or Hugging Face), a llama2.c tokenizer .bin, or a model directory holding one' });
  }
  const jsonPath = statSync(path).isDirectory() ? join(path, 'tokenizer.json') : path;
  const spec = charSpecAt(jsonPath);
  if (spec !== null) return new CharRewardEncoder(CharTokenizer.fromJSON(spec, jsonPath));
  return new TextRewardEncoder(loadTokenizer(path, vocabSize), path);
}

/** Keep the last maxLength tokens (the head reads the final one). */
export function truncateLeft(ids: number[], maxLength: number): number[] {
  return ids.length > maxLength ? ids.slice(ids.length - maxLength) : ids;
}
