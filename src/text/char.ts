// A character-level tokenizer for the toy world: one id per character of a fixed alphabet, plus
// special tokens for padding, sequence boundaries and a tiny chat format:
//
//   <bos><user>How many r in strawberry?<assistant>3<eos>
//
// formatPrompt renders what the policy sees before it answers; formatExample appends the
// response and <eos> (the stop token). Multi-turn prompts alternate <user> … <assistant> …;
// only the final response is closed by <eos>.
import { UserError, describeValue } from '../util/errors.js';

export const CHAR_SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<user>', '<assistant>', '<unk>'] as const;
export type CharSpecialToken = (typeof CHAR_SPECIAL_TOKENS)[number];

/** The printable alphabet: letters, digits, space, newline and the punctuation the toy world uses. */
export const CHAR_ALPHABET =
  'abcdefghijklmnopqrstuvwxyz' + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' + '0123456789' + ' \n' + `.,?!'"-+=:()*/`;

export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface CharTokenizerSpec {
  type: 'steer-char';
  version: 1;
  specials: string[];
  alphabet: string;
}

export interface EncodeOptions {
  /** What to do with a character outside the alphabet: throw (default) or map to <unk>. */
  unknown?: 'error' | 'unk';
  /** Text name for error messages (e.g. "prompts.jsonl:12 field prompt"). */
  where?: string;
}

export class CharTokenizer {
  readonly specials: readonly string[];
  readonly alphabet: string;
  readonly vocabSize: number;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly userId: number;
  readonly assistantId: number;
  readonly unkId: number;
  private readonly charToId = new Map<string, number>();
  private readonly idToText: string[] = [];
  private readonly specialToId = new Map<string, number>();

  constructor(spec: Partial<CharTokenizerSpec> = {}) {
    this.specials = spec.specials ?? [...CHAR_SPECIAL_TOKENS];
    this.alphabet = spec.alphabet ?? CHAR_ALPHABET;
    for (const s of CHAR_SPECIAL_TOKENS) {
      if (!this.specials.includes(s)) {
        throw new UserError({ what: `the char tokenizer spec lacks the special token ${s}`, expected: CHAR_SPECIAL_TOKENS.join(' '), received: describeValue(this.specials), fix: 'use a tokenizer.json written by steer' });
      }
    }
    for (const s of this.specials) {
      this.specialToId.set(s, this.idToText.length);
      this.idToText.push(s);
    }
    for (const ch of this.alphabet) {
      if (this.charToId.has(ch) || ch === '<') {
        throw new UserError({ what: `the char tokenizer alphabet repeats or reserves ${JSON.stringify(ch)}`, fix: 'list each character once; "<" is reserved for special tokens' });
      }
      this.charToId.set(ch, this.idToText.length);
      this.idToText.push(ch);
    }
    this.vocabSize = this.idToText.length;
    const id = (s: CharSpecialToken) => this.specialToId.get(s)!;
    this.padId = id('<pad>');
    this.bosId = id('<bos>');
    this.eosId = id('<eos>');
    this.userId = id('<user>');
    this.assistantId = id('<assistant>');
    this.unkId = id('<unk>');
  }

  /** Serialisable description (saved beside a checkpoint as tokenizer.json). */
  toJSON(): CharTokenizerSpec {
    return { type: 'steer-char', version: 1, specials: [...this.specials], alphabet: this.alphabet };
  }

  static fromJSON(value: unknown, where = 'tokenizer.json'): CharTokenizer {
    const v = value as Partial<CharTokenizerSpec> | null;
    if (v === null || typeof v !== 'object' || v.type !== 'steer-char' || v.version !== 1 || !Array.isArray(v.specials) || typeof v.alphabet !== 'string') {
      throw new UserError({
        what: 'not a steer char tokenizer',
        where,
        expected: '{"type": "steer-char", "version": 1, "specials": [...], "alphabet": "..."}',
        received: describeValue(value),
        fix: 'point at the tokenizer.json that `steer data toy` or a steer checkpoint wrote',
      });
    }
    return new CharTokenizer(v);
  }

  /**
   * Text → ids. Special tokens are written literally (`<eos>`); every other character must be in
   * the alphabet (or becomes <unk> with {unknown: 'unk'}).
   */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      if (ch === '<') {
        const end = text.indexOf('>', i);
        const name = end >= 0 ? text.slice(i, end + 1) : '';
        const sid = this.specialToId.get(name);
        if (sid !== undefined) {
          ids.push(sid);
          i = end + 1;
          continue;
        }
      } else {
        const cid = this.charToId.get(ch);
        if (cid !== undefined) {
          ids.push(cid);
          i++;
          continue;
        }
      }
      if (opts.unknown === 'unk') {
        ids.push(this.unkId);
        i += ch.length;
        continue;
      }
      const cp = text.codePointAt(i)!;
      throw new UserError({
        what: `character ${JSON.stringify(String.fromCodePoint(cp))} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}) at offset ${i} is not in the char tokenizer's alphabet`,
        where: opts.where,
        expected: `one of ${JSON.stringify(this.alphabet)} or a special token ${this.specials.join(' ')}`,
        received: describeValue(text),
        fix: 'remove the character, or encode with {unknown: "unk"} to map it to <unk>',
      });
    }
    return ids;
  }

  /** Ids → text. Special tokens are rendered literally unless skipSpecial is set. */
  decode(ids: ArrayLike<number>, opts: { skipSpecial?: boolean } = {}): string {
    let s = '';
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      const t = this.idToText[id];
      if (t === undefined || !Number.isInteger(id)) {
        throw new UserError({ what: `token id ${id} at position ${k} is outside the vocabulary`, expected: `an integer in [0, ${this.vocabSize})`, received: String(id), fix: 'decode ids produced by this tokenizer' });
      }
      if (opts.skipSpecial && id < this.specials.length) continue;
      s += t;
    }
    return s;
  }

  /** True when every character of `text` is in the alphabet (special tokens allowed). */
  canEncode(text: string): boolean {
    try {
      this.encode(text);
      return true;
    } catch {
      return false;
    }
  }

  isSpecial(id: number): boolean {
    return id >= 0 && id < this.specials.length;
  }
}

/** A turn as data files hold it; the toy chat format has no system role. */
export interface AnyTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Normalise a prompt (a user message or alternating turns that end with a user turn). */
export function promptTurns(prompt: string | readonly AnyTurn[]): ChatTurn[] {
  if (typeof prompt === 'string') return [{ role: 'user', content: prompt }];
  if (prompt.length === 0 || prompt[prompt.length - 1].role !== 'user') {
    throw new UserError({ what: 'a prompt must end with a user turn', received: describeValue(prompt), fix: 'drop the trailing assistant turn (it is the response)' });
  }
  return prompt.map((t) => {
    if (t.role === 'system') {
      throw new UserError({ what: 'the char chat format has no system turn', received: describeValue(t), fix: 'drop the system turn, or use a tokenizer whose chat template has one' });
    }
    return { role: t.role, content: t.content };
  });
}

/** The chat format the policy sees: `<bos><user>…<assistant>…<user>…<assistant>`. */
export function formatPrompt(prompt: string | readonly AnyTurn[]): string {
  let s = '<bos>';
  for (const t of promptTurns(prompt)) s += (t.role === 'user' ? '<user>' : '<assistant>') + t.content;
  return s + '<assistant>';
}

/** A full training sequence: the prompt, the response, then the stop token. */
export function formatExample(prompt: string | readonly AnyTurn[], response: string): string {
  return formatPrompt(prompt) + response + '<eos>';
}

/**
 * The same tokenizer as Hugging Face files (tokenizer.json + tokenizer_config.json), for engines
 * that load tokenizers with transformers' AutoTokenizer (steer's exports to TRL & co.): a BPE model
 * without merges over the same ids (every character its own token), the specials as added special
 * tokens (written literally, as encode() reads them), unknown characters → <unk>, and a Fuse
 * decoder (tokens joined without spaces). transformers' encode of formatExample(p, r) gives the ids
 * of encode(formatExample(p, r)), checked by test/scale/tokenizer.test.ts with transformers itself.
 */
export function charTokenizerHfFiles(tok: CharTokenizer, modelMaxLength: number): Record<string, string> {
  const vocab: Record<string, number> = {};
  for (let id = 0; id < tok.vocabSize; id++) vocab[tok.decode([id])] = id;
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: tok.specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
  };
  const config = { tokenizer_class: 'PreTrainedTokenizerFast', bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', unk_token: '<unk>', model_max_length: modelMaxLength, clean_up_tokenization_spaces: false };
  return { 'tokenizer.json': JSON.stringify(tokenizer) + '\n', 'tokenizer_config.json': JSON.stringify(config, null, 2) + '\n' };
}
