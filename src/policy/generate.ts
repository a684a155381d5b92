// Text in, text out: load a policy (model + tokenizer + chat template), turn prompts into token
// ids (optionally through the chat template), generate in batches with src/nn/generate.ts, and
// decode. What `steer generate` and the samplers of REINFORCE/evaluation call.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { loadModel, type LoadedModel } from '../io/checkpoint.js';
import { LlamaGenerator, type GeneratorOptions, type SamplingOptions } from '../nn/generate.js';
import { renderChatTemplate, type ChatMessage } from '../text/chat-template.js';
import { HfTokenizer } from '../text/hf.js';
import { loadTokenizer, type TextTokenizer } from '../text/tokenizer.js';
import { readAllRecords } from '../data/read.js';

export interface TextPolicy {
  model: LoadedModel;
  tokenizer: TextTokenizer;
  /** Jinja chat template from tokenizer_config.json, when the tokenizer has one */
  chatTemplate: string | null;
}

/**
 * Load a model (directory or llama2.c file) and its tokenizer: `tokenizerPath`, else the one in
 * the model directory, else tokenizer.bin / tok*.bin beside a llama2.c file.
 */
export function loadTextPolicy(modelPath: string, tokenizerPath?: string | null): TextPolicy {
  const model = loadModel(modelPath);
  let tp = tokenizerPath ?? model.tokenizerPath;
  if (!tp && model.kind === 'llama2c') {
    const beside = join(dirname(modelPath), 'tokenizer.bin');
    if (existsSync(beside)) tp = beside;
  }
  if (!tp) {
    throw new UserError({
      what: 'no tokenizer for the model',
      where: modelPath,
      expected: model.kind === 'llama2c' ? 'a llama2.c tokenizer .bin (e.g. tok512.bin for stories260K)' : 'tokenizer.json in the model directory',
      fix: 'pass --tokenizer PATH (a tokenizer.json, a llama2.c tokenizer .bin, or a directory holding one)',
    });
  }
  const tokenizer = loadTokenizer(tp, model.config.vocabSize);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    throw new UserError({
      what: 'the tokenizer has more tokens than the model',
      where: tp,
      expected: `at most ${model.config.vocabSize} tokens (the model's vocab_size)`,
      received: `${tokenizer.vocabSize} tokens`,
      fix: 'pass the tokenizer made for this model',
    });
  }
  return { model, tokenizer, chatTemplate: tokenizer instanceof HfTokenizer ? tokenizer.chatTemplate : null };
}

/** A prompt: plain text (continued as is) or a conversation (rendered with the chat template). */
export type PromptInput = string | { messages: ChatMessage[] };

export interface TextGenerationOptions extends SamplingOptions, GeneratorOptions {
  /** rows per generation batch (default 16) */
  batchSize?: number;
  /** wrap plain-text prompts as one user turn and apply the chat template */
  chat?: boolean;
  /** system message for chat prompts */
  system?: string;
  /** called after each batch with the number of prompts done */
  onProgress?: (done: number, total: number) => void;
}

export interface TextCompletion {
  /** the prompt as given (plain text), or the rendered chat prompt */
  prompt: string;
  /** the generated text alone */
  completion: string;
  /** the decoded prompt ids followed by the completion: what a reader sees */
  text: string;
  promptTokens: number[];
  tokens: number[];
  logprobs: number[];
  finishReason: 'stop' | 'length';
}

/** The token ids for a prompt: chat-rendered when asked, with BOS as the tokenizer adds it. */
export function encodePrompt(policy: TextPolicy, prompt: PromptInput, opts: { chat?: boolean; system?: string } = {}): { text: string; ids: number[] } {
  const chat = typeof prompt !== 'string' || opts.chat;
  if (!chat) return { text: prompt as string, ids: policy.tokenizer.encode(prompt as string) };
  if (!policy.chatTemplate) {
    throw new UserError({
      what: 'the tokenizer has no chat template',
      where: policy.model.path,
      expected: 'a chat_template in tokenizer_config.json',
      fix: 'drop --chat (and pass plain-text prompts) or use an instruction-tuned model whose tokenizer_config.json has a chat_template',
    });
  }
  const messages: ChatMessage[] = typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : prompt.messages;
  const all = opts.system !== undefined && messages[0]?.role !== 'system' ? [{ role: 'system', content: opts.system }, ...messages] : messages;
  const tok = policy.tokenizer as HfTokenizer;
  const str = (id: number | null) => (id === null ? '' : (tok.tokenString(id) ?? ''));
  const text = renderChatTemplate(policy.chatTemplate, all, { addGenerationPrompt: true, bosToken: str(tok.bosId), eosToken: str(tok.eosIds[0] ?? null), source: `${policy.model.path}: tokenizer_config.json chat_template` });
  // the template writes BOS itself
  return { text, ids: tok.encode(text, { bos: false }) };
}

/** Generate completions for `prompts`, in order, in batches. */
export async function generateText(policy: TextPolicy, prompts: readonly PromptInput[], opts: TextGenerationOptions): Promise<TextCompletion[]> {
  const { config, weights } = policy.model;
  const batchSize = opts.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UserError({ what: 'invalid batch size', where: 'generateText(batchSize)', expected: 'an integer ≥ 1', received: String(batchSize), fix: 'pass --batch-size 1 or more' });
  }
  const stopTokens = opts.stopTokens ?? [...new Set([...config.eosTokenIds, ...policy.tokenizer.eosIds])];
  const encoded = prompts.map((p) => encodePrompt(policy, p, opts));
  const gen = new LlamaGenerator(config, weights, { threads: opts.threads, device: opts.device, spinning: opts.spinning, bakeDecodeWeights: opts.bakeDecodeWeights ?? true }); // frozen weights
  const out: TextCompletion[] = [];
  try {
    for (let i = 0; i < encoded.length; i += batchSize) {
      const batch = encoded.slice(i, i + batchSize);
      const gens = await gen.generate(batch.map((e) => e.ids), { ...opts, stopTokens });
      gens.forEach((g, j) => {
        const e = batch[j];
        const promptText = policy.tokenizer.decode(e.ids);
        const text = policy.tokenizer.decode([...e.ids, ...g.tokens]);
        // decoding prompt and completion together keeps word boundaries (SentencePiece spaces)
        const completion = text.startsWith(promptText) ? text.slice(promptText.length) : policy.tokenizer.decode(g.tokens);
        out.push({ prompt: e.text, completion, text, promptTokens: e.ids, tokens: g.tokens, logprobs: g.logprobs, finishReason: g.finishReason });
      });
      opts.onProgress?.(Math.min(i + batchSize, encoded.length), encoded.length);
    }
  } finally {
    await gen.release();
  }
  return out;
}

/**
 * Prompts from a file: .jsonl / .json / .parquet records with "prompt" (text) or "messages"
 * (a conversation); any other file is plain text, one prompt per non-empty line.
 */
export async function readTextPrompts(path: string): Promise<PromptInput[]> {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new UserError({ what: 'prompts file not found', where: path, fix: 'pass a .txt (one prompt per line) or .jsonl ({"prompt": ...} per line) file' });
  }
  const name = basename(path).toLowerCase();
  if (!/\.(jsonl|ndjson|json|parquet)(\.gz)?$/.test(name)) {
    const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
    if (lines.length === 0) throw new UserError({ what: 'the prompts file is empty', where: path, fix: 'write one prompt per line' });
    return lines;
  }
  const out: PromptInput[] = [];
  for (const r of await readAllRecords(path)) {
    const v = r.value;
    if (typeof v.prompt === 'string') out.push(v.prompt);
    else if (Array.isArray(v.messages) && v.messages.every((m) => m && typeof m === 'object' && typeof (m as ChatMessage).role === 'string' && typeof (m as ChatMessage).content === 'string')) {
      out.push({ messages: v.messages as ChatMessage[] });
    } else {
      throw new UserError({ what: 'a prompt record has neither "prompt" nor "messages"', where: r.where, expected: '{"prompt": "text"} or {"messages": [{"role": "user", "content": "..."}]}', received: JSON.stringify(v).slice(0, 80), fix: 'give every record a prompt string or a messages list' });
    }
  }
  if (out.length === 0) throw new UserError({ what: 'the prompts file has no records', where: path, fix: 'add at least one prompt' });
  return out;
}
