// What the server needs from a policy's tokenizer: prompts → token ids (chat through the codec's
// template, plain text as is), generated ids → text, and the text of one token in context.
// Text of a completion is decoded together with its prompt and the prompt's text cut off, as
// `steer generate` does, so word boundaries (SentencePiece's leading spaces) come out right.
// While streaming, CompletionText gives the same text decoding only the tokens since its last
// settled point after a few tokens of context, not the whole sequence at every step.
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

  /** ids → text, special tokens dropped */
  decode(ids: readonly number[]): string {
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

/** tokens of context decoded before a window (a decoder's rules reach back at most this far) */
const ANCHOR = 4;
/** tokens a window grows to before it settles */
const SETTLE = 8;

/**
 * The text of a growing completion, ServedText.completion(prompt, tokens) at each length, decoded
 * incrementally: the text of tokens[0, k) is settled, and a call decodes tokens[k, n) after the
 * ANCHOR tokens before them, keeping what follows the context's own text. The window settles
 * once it holds SETTLE tokens and decodes to whole characters (no U+FFFD: a character's bytes split
 * across tokens stay in one window), so a multi-byte character never straddles a settled point.
 * Decoders whose output for a token depends on more than ANCHOR tokens before it are not handled:
 * the window's text would differ from the whole decode (test/serve/text.test.ts checks the three
 * tokenizer kinds against ServedText.completion).
 */
export class CompletionText {
  private settled = '';
  private k = 0;

  constructor(
    private readonly text: ServedText,
    private readonly prompt: readonly number[],
  ) {}

  /** the text of `tokens` (all generated so far; a final stop token dropped) */
  of(tokens: readonly number[]): string {
    const stops = this.text.codec.stopTokens;
    const n = tokens.length > 0 && stops.includes(tokens[tokens.length - 1]) ? tokens.length - 1 : tokens.length;
    if (n < this.k) return this.text.completion(this.prompt, tokens); // not a continuation of what was settled
    const ctx = [...this.prompt.slice(-ANCHOR), ...tokens.slice(Math.max(0, this.k - ANCHOR), this.k)].slice(-ANCHOR); // the ANCHOR tokens before k
    const before = this.text.decode(ctx);
    const both = this.text.decode([...ctx, ...tokens.slice(this.k, n)]);
    if (!both.startsWith(before)) return this.text.completion(this.prompt, tokens);
    const tail = both.slice(before.length);
    const full = this.settled + tail;
    if (n - this.k >= SETTLE && !tail.includes('\uFFFD')) {
      this.settled = full;
      this.k = n;
    }
    return full;
  }
}
