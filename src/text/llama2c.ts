// The llama2.c tokenizer (tokenizer.bin / tok512.bin, written by llama2.c tokenizer.py):
// int32 max_token_length, then per token: float32 score, int32 byte length, the piece's bytes.
// Encoding is run.c's `encode`: optional BOS (1); a dummy-prefix " " token when the text is not
// empty; one token per UTF-8 code point found in the vocabulary, else its bytes as <0xXX> tokens
// (id = byte + 3); then repeatedly merge the adjacent pair whose concatenation is in the vocabulary
// with the highest score (first such pair on ties) until none remains; optional EOS (2).
// Decoding is run.c's `decode`: <0xXX> pieces are raw bytes, and a piece that opens the text (or
// follows BOS) loses its leading space (SentencePiece strips the dummy prefix).
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import type { TextTokenizer } from './tokenizer.js';

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

export class Llama2cTokenizer implements TextTokenizer {
  readonly kind = 'llama2c' as const;
  readonly bosId = 1;
  readonly eosIds = [2];
  readonly padId = null;
  /** pieces as byte strings (one char per byte, latin1) so lookups compare bytes as run.c does */
  private readonly pieces: string[];
  private readonly lookup = new Map<string, number>();

  constructor(
    pieces: Uint8Array[],
    readonly scores: Float32Array,
    readonly maxTokenLength: number,
    readonly source = '<memory>',
  ) {
    this.pieces = pieces.map((p) => Buffer.from(p).toString('latin1'));
    this.pieces.forEach((p, i) => {
      if (!this.lookup.has(p)) this.lookup.set(p, i);
    });
    if (pieces.length < 259) {
      throw new UserError({ what: 'the llama2.c tokenizer is too small', where: source, expected: 'at least 259 tokens (<unk>, <s>, </s> and the 256 byte tokens)', received: `${pieces.length} tokens`, fix: 'pass the tokenizer .bin made for the model (e.g. tok512.bin for stories260K)' });
    }
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  /** Read a tokenizer .bin; `vocabSize` (the model's) limits how many entries are read, as run.c does. */
  static read(path: string, vocabSize?: number): Llama2cTokenizer {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      throw new UserError({ what: `cannot read the tokenizer (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, where: path, fix: 'check the path (e.g. --tokenizer tok512.bin)' });
    }
    const corrupt = (what: string, at: number): never => {
      throw new UserError({ what: `not a llama2.c tokenizer: ${what}`, where: `${path}: byte ${at}`, expected: 'int32 max_token_length, then (float32 score, int32 length, bytes) per token', fix: 'pass the tokenizer .bin written by llama2.c tokenizer.py for this model' });
    };
    if (buf.length < 4) corrupt('too short', 0);
    const maxTokenLength = buf.readInt32LE(0);
    if (maxTokenLength <= 0 || maxTokenLength > 1024) corrupt(`max_token_length ${maxTokenLength} is implausible`, 0);
    const pieces: Uint8Array[] = [];
    const scores: number[] = [];
    let off = 4;
    while (off < buf.length && (vocabSize === undefined || pieces.length < vocabSize)) {
      if (off + 8 > buf.length) corrupt('truncated token entry', off);
      scores.push(buf.readFloatLE(off));
      const len = buf.readInt32LE(off + 4);
      if (len < 0 || len > maxTokenLength || off + 8 + len > buf.length) corrupt(`token ${pieces.length} has length ${len}`, off + 4);
      pieces.push(buf.subarray(off + 8, off + 8 + len));
      off += 8 + len;
    }
    if (vocabSize !== undefined && pieces.length < vocabSize) {
      throw new UserError({ what: 'the tokenizer has fewer tokens than the model', where: path, expected: `${vocabSize} tokens (the model's vocab_size)`, received: `${pieces.length} tokens`, fix: 'pass the tokenizer made for this model' });
    }
    return new Llama2cTokenizer(pieces, Float32Array.from(scores), maxTokenLength, path);
  }

  /** The piece of token `id` as bytes. */
  piece(id: number): Uint8Array {
    return Buffer.from(this.pieces[id], 'latin1');
  }

  encode(text: string, opts: { bos?: boolean; eos?: boolean } = {}): number[] {
    const { bos = true, eos = false } = opts;
    const tokens: number[] = [];
    if (bos) tokens.push(this.bosId);
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > 0) {
      const space = this.lookup.get(' ');
      if (space !== undefined) tokens.push(space);
    }
    // One token per code point, or its bytes (byte_fallback: id = byte + 3).
    let i = 0;
    while (i < bytes.length) {
      let j = i + 1;
      while (j < bytes.length && (bytes[j] & 0xc0) === 0x80 && j - i < 4) j++;
      const cp = bytes.toString('latin1', i, j);
      const id = this.lookup.get(cp);
      if (id !== undefined) tokens.push(id);
      else for (let b = i; b < j; b++) tokens.push(bytes[b] + 3);
      i = j;
    }
    // Merge the best-scoring adjacent pair until no pair is in the vocabulary.
    const start = bos ? 1 : 0;
    for (;;) {
      let bestScore = -1e10;
      let bestId = -1;
      let bestIdx = -1;
      for (let k = start; k < tokens.length - 1; k++) {
        const id = this.lookup.get(this.pieces[tokens[k]] + this.pieces[tokens[k + 1]]);
        if (id !== undefined && this.scores[id] > bestScore) {
          bestScore = this.scores[id];
          bestId = id;
          bestIdx = k;
        }
      }
      if (bestIdx === -1) break;
      tokens.splice(bestIdx, 2, bestId);
    }
    if (eos) tokens.push(this.eosIds[0]);
    return tokens;
  }

  /** Bytes of token `id` following `prev` (null at the start of the text), as run.c's decode. */
  decodeBytes(prev: number | null, id: number): Uint8Array {
    if (id === this.bosId || this.eosIds.includes(id)) return new Uint8Array(0);
    let piece = this.pieces[id];
    if ((prev === null || prev === this.bosId) && piece.startsWith(' ')) piece = piece.slice(1);
    const m = BYTE_PIECE.exec(piece);
    if (m) return Uint8Array.of(parseInt(m[1], 16));
    return Buffer.from(piece, 'latin1');
  }

  decode(ids: readonly number[]): string {
    for (const id of ids) this.checkId(id);
    const parts: Uint8Array[] = [];
    let prev: number | null = null;
    for (const id of ids) {
      parts.push(this.decodeBytes(prev, id));
      prev = id;
    }
    return Buffer.concat(parts).toString('utf8');
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.pieces.length) {
      throw new UserError({ what: `token id ${id} is outside the vocabulary`, where: this.source, expected: `an integer in [0, ${this.pieces.length})`, received: String(id), fix: 'use ids produced by this tokenizer (or a model with the same vocabulary)' });
    }
  }
}
