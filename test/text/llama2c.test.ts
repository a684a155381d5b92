import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sharedFile } from '../helpers/shared.js';
import { Llama2cTokenizer } from '../../src/text/llama2c.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import { isUserError } from '../../src/util/errors.js';

/** A tokenizer .bin in llama2.c's layout: int32 max_len, then (float32 score, int32 len, bytes). */
function tokenizerBin(pieces: [string, number][]): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(4);
  head.writeInt32LE(Math.max(...pieces.map(([p]) => Buffer.byteLength(p, 'latin1'))));
  parts.push(head);
  for (const [p, s] of pieces) {
    const b = Buffer.from(p, 'latin1');
    const e = Buffer.alloc(8);
    e.writeFloatLE(s, 0);
    e.writeInt32LE(b.length, 4);
    parts.push(e, b);
  }
  return Buffer.concat(parts);
}

/** <unk>, <s>, </s>, the 256 byte tokens, then `extra` (ids from 259). */
function smallVocab(extra: [string, number][]): Llama2cTokenizer {
  const pieces: [string, number][] = [['<unk>', 0], ['\n<s>\n', 0], ['\n</s>\n', 0]];
  for (let b = 0; b < 256; b++) pieces.push([`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, 0]);
  pieces.push(...extra);
  const dir = mkdtempSync(join(tmpdir(), 'steer-tok512-'));
  try {
    writeFileSync(join(dir, 't.bin'), tokenizerBin(pieces));
    return Llama2cTokenizer.read(join(dir, 't.bin'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('merges by score, as run.c: the best-scoring adjacent pair first, leftmost on ties', () => {
  // ids: 259 " ", 260 "a", 261 "b", 262 "c", 263 "ab" (score -5), 264 "bc" (score -1), 265 "abc" (-3), 266 " a" (-4)
  const tok = smallVocab([[' ', 0], ['a', 0], ['b', 0], ['c', 0], ['ab', -5], ['bc', -1], ['abc', -3], [' a', -4]]);
  // "abc" → [" ", a, b, c]; candidates " a"(-4), ab(-5), bc(-1) → bc wins: [" ", a, bc];
  // then " a"(-4) vs "abc"(-3) → abc wins: [" ", abc]; " abc" is not a piece → done.
  assert.deepEqual(tok.encode('abc'), [1, 259, 265]);
  // "ab": " a"(-4) beats ab(-5) → [" a", b]; " ab" is not a piece → [266, 261]
  assert.deepEqual(tok.encode('ab', { bos: false }), [266, 261]);
  // "cbc" → [" ", c, b, c]: only bc (-1) merges: [" ", c, bc]; eos appends </s>
  assert.deepEqual(tok.encode('cbc', { bos: false, eos: true }), [259, 262, 264, 2]);
  // ties: 259 " ", 260 "a", 261 "b", 262 "ab" (-2), 263 "ba" (-2): "aba" → [" ", a, b, a];
  // ab and ba both score -2, the leftmost (ab) merges → [" ", ab, a]; nothing else merges.
  const ties = smallVocab([[' ', 0], ['a', 0], ['b', 0], ['ab', -2], ['ba', -2]]);
  assert.deepEqual(ties.encode('aba', { bos: false }), [259, 262, 260]);
  // empty text: no dummy prefix
  assert.deepEqual(tok.encode(''), [1]);
  // byte fallback: "é" (0xC3 0xA9) is not a piece → ids 0xC3+3, 0xA9+3
  assert.deepEqual(tok.encode('é', { bos: false }), [259, 0xc3 + 3, 0xa9 + 3]);
  assert.equal(tok.decode([1, 259, 0xc3 + 3, 0xa9 + 3]), 'é');
});

test('tok512: "Once upon a time" encodes as run.c does and decodes back', (t) => {
  const p = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!p) return;
  const tok = Llama2cTokenizer.read(p, 512);
  assert.equal(tok.vocabSize, 512);
  assert.equal(tok.maxTokenLength, 7); // header of tok512.bin
  const ids = tok.encode('Once upon a time');
  // the dummy-prefixed words are whole pieces of tok512
  assert.deepEqual(ids.slice(1).map((i) => Buffer.from(tok.piece(i)).toString('utf8')), [' Once', ' upon', ' a', ' time']);
  assert.deepEqual(ids, [1, 403, 407, 261, 378]);
  assert.equal(tok.decode(ids), 'Once upon a time'); // BOS dropped, the dummy space stripped
});

test('tok512 round-trips text: ASCII, punctuation, newlines, accents, emoji (byte fallback)', (t) => {
  const p = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!p) return;
  const tok = loadTokenizer(p, 512);
  assert.equal(tok.kind, 'llama2c');
  const texts = [
    'Lily and Ben went to the park. They saw a big, red ball!',
    'Tom said, "Can I play?"\nMom said: "Yes, you can."\n\nThe end.',
    '  two leading spaces, trailing ones  ',
    'Crème brûlée for Zoë — 3.14 × 2 ≈ 6.28',
    'emoji 😀🦙 and CJK 你好',
    'a',
  ];
  for (const text of texts) {
    const ids = tok.encode(text);
    assert.equal(ids[0], 1);
    assert.equal(tok.decode(ids), text, JSON.stringify(text));
    assert.equal(tok.decode(tok.encode(text, { bos: false })), text);
  }
  // byte fallback was exercised: the emoji is not a piece of tok512
  const emoji = tok.encode('😀', { bos: false });
  assert.deepEqual(emoji.slice(-4), [0xf0 + 3, 0x9f + 3, 0x98 + 3, 0x80 + 3]);
});

test('llama2.c tokenizer errors name the file and the fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-tokerr-'));
  try {
    assert.throws(() => Llama2cTokenizer.read(join(dir, 'none.bin')), (e: unknown) => isUserError(e) && /cannot read the tokenizer/.test(e.message) && e.message.includes('none.bin'));
    writeFileSync(join(dir, 'short.bin'), Buffer.from([1, 0]));
    assert.throws(() => Llama2cTokenizer.read(join(dir, 'short.bin')), (e: unknown) => isUserError(e) && /short\.bin: byte 0/.test(e.message) && /too short/.test(e.message) && /fix:/.test(e.message));
    const bad = tokenizerBin([['<unk>', 0], ['ab', 0]]);
    bad.writeInt32LE(99, 4 + 8 + 5 + 4); // second token's length runs past the end
    writeFileSync(join(dir, 'bad.bin'), bad);
    assert.throws(() => Llama2cTokenizer.read(join(dir, 'bad.bin')), (e: unknown) => isUserError(e) && /bad\.bin: byte 21/.test(e.message) && /token 1 has length 99/.test(e.message));
    writeFileSync(join(dir, 'tiny.bin'), tokenizerBin([['<unk>', 0], ['a', 0]]));
    assert.throws(() => Llama2cTokenizer.read(join(dir, 'tiny.bin')), (e: unknown) => isUserError(e) && /too small/.test(e.message) && /259 tokens/.test(e.message));
    assert.throws(() => Llama2cTokenizer.read(join(dir, 'tiny.bin'), 512), (e: unknown) => isUserError(e) && /fewer tokens than the model/.test(e.message) && /512 tokens/.test(e.message));
    const tok = smallVocab([]);
    assert.throws(() => tok.decode([5, 999]), (e: unknown) => isUserError(e) && /token id 999 is outside the vocabulary/.test(e.message) && /\[0, 259\)/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
