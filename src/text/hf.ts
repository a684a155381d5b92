// Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) through @huggingface/tokenizers, the
// maintained pure-JS port of the Rust `tokenizers` library (normalizer → pre-tokenizer → model →
// post-processor → decoder, as the file specifies). Special tokens and the chat template come from
// tokenizer_config.json, as transformers' PreTrainedTokenizerFast reads them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../util/errors.js';
import type { TextTokenizer } from './tokenizer.js';

type TokenSpec = string | { content: string } | null | undefined;

export interface HfTokenizerConfig {
  bos_token?: TokenSpec;
  eos_token?: TokenSpec;
  pad_token?: TokenSpec;
  chat_template?: string | { name: string; template: string }[];
  [k: string]: unknown;
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError({ what: `cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, where: path, fix: 'check the path: a model directory holds tokenizer.json and tokenizer_config.json' });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError({ what: `${what} is not valid JSON (${(e as Error).message})`, where: path, fix: `repair or re-download ${what}` });
  }
}

export class HfTokenizer implements TextTokenizer {
  readonly kind = 'hf' as const;
  readonly bosId: number | null;
  readonly eosIds: number[];
  readonly padId: number | null;
  readonly vocabSize: number;
  private readonly tok: Tokenizer;

  constructor(
    readonly tokenizerJson: Record<string, unknown>,
    readonly config: HfTokenizerConfig,
    readonly source = '<memory>',
  ) {
    try {
      this.tok = new Tokenizer(tokenizerJson, config);
    } catch (e) {
      throw new UserError({ what: `cannot build the tokenizer (${(e as Error).message})`, where: source, expected: 'a tokenizer.json written by the Hugging Face tokenizers library', fix: 'use the tokenizer.json shipped with the model' });
    }
    const id = (spec: TokenSpec, field: string): number | null => {
      if (spec === null || spec === undefined) return null;
      const content = typeof spec === 'string' ? spec : spec.content;
      const i = this.tok.token_to_id(content);
      if (i === undefined) {
        throw new UserError({ what: `${field} ${JSON.stringify(content)} is not in the vocabulary`, where: `${source}: tokenizer_config.json ${field}`, expected: 'a token of tokenizer.json', fix: `correct ${field} in tokenizer_config.json` });
      }
      return i;
    };
    this.bosId = id(config.bos_token, 'bos_token');
    const eos = id(config.eos_token, 'eos_token');
    this.eosIds = eos === null ? [] : [eos];
    this.padId = id(config.pad_token, 'pad_token');
    let max = -1;
    for (const v of this.tok.get_vocab(true).values()) if (v > max) max = v;
    this.vocabSize = max + 1;
  }

  /** Load from a model directory (tokenizer.json + optional tokenizer_config.json) or a tokenizer.json path. */
  static load(path: string): HfTokenizer {
    const isFile = path.endsWith('.json');
    const tjPath = isFile ? path : join(path, 'tokenizer.json');
    const cfgPath = isFile ? join(path, '..', 'tokenizer_config.json') : join(path, 'tokenizer_config.json');
    const tj = readJson(tjPath, 'tokenizer.json');
    if (tj === null || typeof tj !== 'object' || !('model' in tj)) {
      throw new UserError({ what: 'tokenizer.json has no "model" section', where: tjPath, expected: 'a Hugging Face tokenizers file ({"model": {...}, ...})', fix: 'use the tokenizer.json shipped with the model' });
    }
    const cfg = existsSync(cfgPath) ? (readJson(cfgPath, 'tokenizer_config.json') as HfTokenizerConfig) : {};
    return new HfTokenizer(tj as Record<string, unknown>, cfg, tjPath);
  }

  /**
   * Token ids. `bos` (default true) adds special tokens as transformers does: the tokenizer.json
   * post-processor decides (e.g. TemplateProcessing prepends <|begin_of_text|>), and
   * tokenizer_config.json `add_bos_token: true` (LlamaTokenizer's flag) prepends BOS if it did not.
   */
  encode(text: string, opts: { bos?: boolean } = {}): number[] {
    const bos = opts.bos ?? true;
    const ids = this.tok.encode(text, { add_special_tokens: bos }).ids;
    if (bos && this.config.add_bos_token === true && this.bosId !== null && ids[0] !== this.bosId) ids.unshift(this.bosId);
    return ids;
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.tok.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? true, clean_up_tokenization_spaces: false });
  }

  /** The tokenizer_config.json chat template (the "default" one when several are named), or null. */
  get chatTemplate(): string | null {
    const t = this.config.chat_template;
    if (t === undefined || t === null) return null;
    if (typeof t === 'string') return t;
    return t.find((x) => x.name === 'default')?.template ?? null;
  }

  tokenString(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }
}
