import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CharTokenizer, formatPrompt, formatExample, CHAR_ALPHABET } from '../../src/text/char.js';
import { UserError } from '../../src/util/errors.js';

test('vocabulary: 6 specials then the alphabet, well under 100 symbols', () => {
  const tok = new CharTokenizer();
  // 6 specials + 26 lower + 26 upper + 10 digits + space + newline + 14 punctuation = 84
  assert.equal(tok.vocabSize, 84);
  assert.deepEqual([tok.padId, tok.bosId, tok.eosId, tok.userId, tok.assistantId, tok.unkId], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(tok.encode('a'), [6]);
  assert.deepEqual(tok.encode('A'), [6 + 26]);
  assert.deepEqual(tok.encode('0'), [6 + 52]);
  assert.deepEqual(tok.encode(' '), [6 + 62]);
});

test('chat format and encode/decode round trip, special tokens parsed literally', () => {
  const tok = new CharTokenizer();
  assert.equal(formatPrompt('How many r in strawberry?'), '<bos><user>How many r in strawberry?<assistant>');
  assert.equal(formatExample('Spell cat.', 'c-a-t'), '<bos><user>Spell cat.<assistant>c-a-t<eos>');
  assert.equal(
    formatPrompt([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }, { role: 'user', content: 'ok?' }]),
    '<bos><user>hi<assistant>yo<user>ok?<assistant>',
  );
  const text = formatExample('What is 3+4?', 'it is 7.');
  const ids = tok.encode(text);
  // <bos>=1 <user>=3 then 12 chars, <assistant>=4, 8 chars, <eos>=2
  assert.equal(ids.length, 1 + 1 + 12 + 1 + 8 + 1);
  assert.deepEqual(ids.slice(0, 2), [1, 3]);
  assert.equal(ids[ids.length - 1], 2);
  assert.equal(tok.decode(ids), text);
  assert.equal(tok.decode(ids, { skipSpecial: true }), 'What is 3+4?it is 7.');
  // every alphabet character round-trips on its own
  for (const ch of CHAR_ALPHABET) assert.equal(tok.decode(tok.encode(ch)), ch);
  // a "<" that does not start a special token is not in the alphabet
  assert.equal(tok.canEncode('a<b'), false);
});

test('unknown characters: a clear error naming the character, offset and fix; or <unk>', () => {
  const tok = new CharTokenizer();
  assert.throws(() => tok.encode('naïve', { where: 'sft.jsonl:3 field response' }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /^sft\.jsonl:3 field response: character "ï" \(U\+00EF\) at offset 2 is not in the char tokenizer's alphabet/);
    assert.match(e.message, /fix: .*unk/);
    return true;
  });
  assert.deepEqual(tok.encode('aï', { unknown: 'unk' }), [6, tok.unkId]);
  assert.throws(() => tok.decode([999]), /token id 999 at position 0 is outside the vocabulary/);
  assert.throws(() => formatPrompt([{ role: 'assistant', content: 'x' }]), /must end with a user turn/);
  assert.throws(() => formatPrompt([{ role: 'system', content: 'be nice' }, { role: 'user', content: 'x' }]), /no system turn[\s\S]*fix: /);
});

test('spec round trip through JSON; a foreign tokenizer.json is rejected with the fix', () => {
  const tok = new CharTokenizer();
  const again = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
  assert.equal(again.vocabSize, tok.vocabSize);
  assert.deepEqual(again.encode('Spell cat.'), tok.encode('Spell cat.'));
  assert.throws(() => CharTokenizer.fromJSON({ model: { type: 'BPE' } }, 'ckpt/tokenizer.json'), /ckpt\/tokenizer\.json: not a steer char tokenizer/);
});
