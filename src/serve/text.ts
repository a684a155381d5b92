// What the server needs from a policy's tokenizer: prompts → token ids (chat through the codec's
// template, plain text as is), generated ids → text, and the text of one token in context.
// Text of a completion is decoded together with its prompt and the prompt's text cut off, as
// `steer generate` does, so word boundaries (SentencePiece's leading spaces) come out right.
import { CharCodec, TextCodec, type PolicyCodec } from '../policy/codec.js';
import type { Turn } from '../data/helpsteer2.js';

export class ServedText {
  constructor(readonly codec: PolicyCodec) {}

  /** A conversation (turns ending with a user turn) through the model's chat format. */
  encodeChat(messages: readonly Turn[]): number[] {
    return this.codec.encodePrompt(messages);
  }

  /** Plain text, continued as is (BOS first, as the tokenizer adds it). */
  encodeText(text: string): number[] {
    const c = this.codec;
    if (c instanceof CharCodec) return c.tokenizer.encode('<bos>' + text, { unknown: 'unk' });
    return (c as TextCodec).tokenizer.encode(text, { bos: true });
  }

  private decode(ids: readonly number[]): string {
    const c = this.codec;
    if (c instanceof CharCodec) return c.tokenizer.decode(ids, { skipSpecial: true });
    return (c as TextCodec).tokenizer.decode(ids);
  }

  /** The text of `tokens` generated after `prompt` (a final stop token dropped). */
  completion(prompt: readonly number[], tokens: readonly number[]): string {
    const t = tokens.length > 0 && this.codec.stopTokens.includes(tokens[tokens.length - 1]) ? tokens.slice(0, -1) : tokens;
    if (t.length === 0) return '';
    const before = this.decode(prompt);
    const all = this.decode([...prompt, ...t]);
    return all.startsWith(before) ? all.slice(before.length) : this.decode(t);
  }

  /** The text token `id` adds after token `prev` (a stop token adds none). */
  tokenText(prev: number, id: number): string {
    if (this.codec.stopTokens.includes(id)) return '';
    const before = this.decode([prev]);
    const both = this.decode([prev, id]);
    return both.startsWith(before) ? both.slice(before.length) : this.decode([id]);
  }
}
