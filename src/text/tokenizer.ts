// One tokenizer interface for the rest of steer, and the loader that picks the implementation
// from what the user points at: a llama2.c tokenizer .bin, a tokenizer.json, or a model directory.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { HfTokenizer } from './hf.js';
import { Llama2cTokenizer } from './llama2c.js';
import { CharTokenizer } from './char.js';

export interface TextTokenizer {
  readonly kind: 'llama2c' | 'hf' | 'char';
  readonly vocabSize: number;
  readonly bosId: number | null;
  /** tokens that end a text */
  readonly eosIds: number[];
  readonly padId: number | null;
  /** `bos` (default true): add the tokenizer's start-of-text token(s). */
  encode(text: string, opts?: { bos?: boolean }): number[];
  /** Special tokens are dropped. */
  decode(ids: readonly number[]): string;
}

/**
 * Load a tokenizer: a file ending in .bin is llama2.c's format; a .json file is HF tokenizer.json
 * (tokenizer_config.json beside it is read too); a directory must hold tokenizer.json (or
 * tokenizer.bin). `vocabSize`, when given, is the model's and bounds a llama2.c tokenizer.
 */
export function loadTokenizer(path: string, vocabSize?: number): TextTokenizer {
  if (!existsSync(path)) {
    throw new UserError({ what: 'the tokenizer path does not exist', where: path, fix: 'pass a tokenizer.json, a llama2.c tokenizer .bin, or a model directory holding one' });
  }
  const char = steerCharTokenizer(statSync(path).isDirectory() ? join(path, 'tokenizer.json') : path);
  if (char) return char;
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, 'tokenizer.json'))) return HfTokenizer.load(path);
    if (existsSync(join(path, 'tokenizer.bin'))) return Llama2cTokenizer.read(join(path, 'tokenizer.bin'), vocabSize);
    throw new UserError({ what: 'no tokenizer in the directory', where: path, expected: 'tokenizer.json (Hugging Face) or tokenizer.bin (llama2.c)', fix: 'copy the model\'s tokenizer files into the directory, or pass --tokenizer' });
  }
  if (path.endsWith('.json')) return HfTokenizer.load(path);
  return Llama2cTokenizer.read(path, vocabSize);
}

/**
 * The toy world's character tokenizer (a tokenizer.json of type "steer-char", as `steer sft --init
 * toy` saves it) as a text tokenizer, or null when `file` is not one. Characters outside its
 * alphabet become <unk>; special tokens written literally (`<user>`) are kept.
 */
function steerCharTokenizer(file: string): TextTokenizer | null {
  if (!file.endsWith('.json') || !existsSync(file) || !statSync(file).isFile()) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null; // the HF loader reports what is wrong with it
  }
  if (json === null || typeof json !== 'object' || (json as { type?: unknown }).type !== 'steer-char') return null;
  const tok = CharTokenizer.fromJSON(json, file);
  return {
    kind: 'char',
    vocabSize: tok.vocabSize,
    bosId: tok.bosId,
    eosIds: [tok.eosId],
    padId: tok.padId,
    encode: (text, opts = {}) => [...(opts.bos === false ? [] : [tok.bosId]), ...tok.encode(text, { unknown: 'unk' })],
    decode: (ids) => tok.decode(ids, { skipSpecial: true }),
  };
}
