// `steer generate`: continue prompts with a model (a steer/HF model directory or a llama2.c
// file). Prints each prompt followed by its continuation; --out also writes JSON lines with the
// tokens and their log-probabilities. A thin shell over src/policy/generate.ts.
import { Command } from 'commander';
import { z } from 'zod';
import { addCommonOptions, announce, commonSchema, resolveConfig } from './command.js';
import { generateText, loadTextPolicy, readTextPrompts, type PromptInput } from '../policy/generate.js';
import { writeLinesAtomic } from '../io/atomic.js';
import { checkOutputFile } from '../io/output.js';
import { startProgress } from '../util/progress.js';
import { UserError } from '../util/errors.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerGenerate(program: Command): void {
  const cmd = program
    .command('generate')
    .description('continue prompts with a Llama-family model: greedy or sampled (temperature, top-k, top-p), batched, with a KV cache')
    .requiredOption('--model <path>', 'model directory (config.json + model.safetensors + tokenizer) or llama2.c .bin file')
    .option('--tokenizer <path>', 'tokenizer.json, llama2.c tokenizer .bin, or a directory holding one (default: the model directory\'s)')
    .option('--prompt <text>', 'a prompt (repeatable)', collect, [])
    .option('--prompts <file>', 'prompts file: .txt (one per line) or .jsonl ({"prompt": ...} or {"messages": [...]})')
    .option('--max-new-tokens <n>', 'new tokens per prompt at most', '128')
    .option('--temperature <t>', 'sampling temperature; 0 = greedy', '1')
    .option('--top-k <k>', 'sample from the k most likely tokens (0 = off)', '0')
    .option('--top-p <p>', 'nucleus sampling: the smallest set of tokens with probability above p (1 = off)', '1')
    .option('--stop-token <id>', 'token id that ends a completion (repeatable; default: the model\'s EOS)', collect, [])
    .option('--batch-size <n>', 'prompts generated together', '16')
    .option('--chat', 'apply the tokenizer\'s chat template (prompts become user turns)', false)
    .option('--system <text>', 'system message for --chat')
    .option('--out <file>', 'also write one JSON line per prompt: prompt, completion, tokens, logprobs, finish_reason')
    .addHelpText('after', '\nExample:\n  steer generate --model stories260K.bin --tokenizer tok512.bin --prompt "Once upon a time" --max-new-tokens 90 --temperature 0');
  addCommonOptions(cmd);
  cmd.action(async () => {
    const cfg = resolveConfig(
      cmd,
      z.strictObject({
        ...commonSchema,
        model: z.string().min(1),
        tokenizer: z.string().min(1).optional(),
        prompt: z.array(z.string()),
        prompts: z.string().min(1).optional(),
        maxNewTokens: z.coerce.number().int().min(1),
        temperature: z.coerce.number().min(0),
        topK: z.coerce.number().int().min(0),
        topP: z.coerce.number().gt(0).max(1),
        stopToken: z.array(z.coerce.number().int().min(0)),
        batchSize: z.coerce.number().int().min(1),
        chat: z.boolean(),
        system: z.string().optional(),
        out: z.string().min(1).optional(),
      }),
    );
    if (cfg.prompt.length === 0 && cfg.prompts === undefined) {
      throw new UserError({ what: 'no prompt given', where: 'steer generate', expected: '--prompt TEXT (repeatable) or --prompts FILE', fix: 'add --prompt "Once upon a time" or --prompts prompts.txt' });
    }
    if (cfg.out) checkOutputFile(cfg.out);
    announce('generate', cfg, cfg.quiet);
    const policy = loadTextPolicy(cfg.model, cfg.tokenizer);
    const prompts: PromptInput[] = [...cfg.prompt, ...(cfg.prompts ? await readTextPrompts(cfg.prompts) : [])];
    const progress = startProgress('generate', prompts.length, { quiet: cfg.quiet });
    const t0 = performance.now();
    const results = await generateText(policy, prompts, {
      maxNewTokens: cfg.maxNewTokens,
      temperature: cfg.temperature,
      topK: cfg.topK,
      topP: cfg.topP,
      stopTokens: cfg.stopToken.length ? cfg.stopToken : undefined,
      seed: cfg.seed,
      threads: cfg.threads,
      batchSize: cfg.batchSize,
      chat: cfg.chat,
      system: cfg.system,
      onProgress: (done) => progress.update(done),
    });
    progress.stop();
    const seconds = (performance.now() - t0) / 1000;
    for (const r of results) process.stdout.write(r.text + '\n');
    if (cfg.out) {
      writeLinesAtomic(
        cfg.out,
        results.map((r) => JSON.stringify({ prompt: r.prompt, completion: r.completion, prompt_tokens: r.promptTokens, tokens: r.tokens, logprobs: r.logprobs, finish_reason: r.finishReason })),
      );
    }
    if (!cfg.quiet) {
      const n = results.reduce((a, r) => a + r.tokens.length, 0);
      process.stderr.write(`${results.length} completion(s), ${n} tokens in ${seconds.toFixed(2)} s (${(n / seconds).toFixed(1)} tokens/s)${cfg.out ? `; written to ${cfg.out}` : ''}\n`);
    }
  });
}
