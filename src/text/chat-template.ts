// Chat templates: the Jinja template of tokenizer_config.json rendered with @huggingface/jinja
// (the implementation transformers.js uses), with the variables transformers'
// apply_chat_template passes: messages, bos_token, eos_token, add_generation_prompt.
import { Template } from '@huggingface/jinja';
import { UserError } from '../util/errors.js';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface ChatTemplateOptions {
  /** end with the header that opens the assistant's turn */
  addGenerationPrompt?: boolean;
  bosToken?: string;
  eosToken?: string;
  /** further template variables (e.g. tools, date_string) */
  extra?: Record<string, unknown>;
  /** where the template came from, for error messages */
  source?: string;
}

export function renderChatTemplate(template: string, messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string {
  const where = opts.source ?? 'chat template';
  messages.forEach((m, i) => {
    if (m === null || typeof m !== 'object' || typeof m.role !== 'string' || typeof m.content !== 'string') {
      throw new UserError({ what: 'a chat message is malformed', where: `messages[${i}]`, expected: '{"role": string, "content": string}', received: JSON.stringify(m), fix: 'give every message a role and a text content' });
    }
  });
  let t: Template;
  try {
    t = new Template(template);
  } catch (e) {
    throw new UserError({ what: `the chat template does not parse (${(e as Error).message})`, where, fix: 'correct the chat_template in tokenizer_config.json (it is Jinja)' });
  }
  try {
    return t.render({
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: opts.addGenerationPrompt ?? false,
      bos_token: opts.bosToken ?? '',
      eos_token: opts.eosToken ?? '',
      ...opts.extra,
    });
  } catch (e) {
    throw new UserError({ what: `the chat template failed while rendering (${(e as Error).message})`, where, fix: 'check the messages (roles the template accepts, e.g. alternating user/assistant) or the template' });
  }
}
