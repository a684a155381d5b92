// `steer convert`: a llama2.c checkpoint (or any model directory) → a steer / Hugging Face model
// directory (config.json, model.safetensors, tokenizer files, steer.json). A thin shell over
// convertModel in src/io/checkpoint.ts.
import { Command } from 'commander';
import { z } from 'zod';
import { addCommonOptions, announce, commonSchema, resolveConfig } from './command.js';
import { convertModel } from '../io/checkpoint.js';

export function registerConvert(program: Command): void {
  const cmd = program
    .command('convert')
    .description('convert a llama2.c checkpoint (or re-save a model directory) as a steer / Hugging Face safetensors model directory')
    .requiredOption('--from <path>', 'llama2.c .bin file or model directory')
    .option('--tokenizer <path>', 'tokenizer to copy in: tokenizer.json, llama2.c tokenizer .bin (saved as tokenizer.bin), or a directory')
    .option('--dtype <dtype>', 'weight dtype on disk: F32, F16, BF16, or source (each tensor as it was stored)', 'F32')
    .option('--max-shard-size <MB>', 'split the weights into shards of at most this many MB (model-0000k-of-0000n.safetensors + model.safetensors.index.json)', '5000')
    .addHelpText('after', '\nExample:\n  steer convert --from stories260K.bin --tokenizer tok512.bin --out stories260k');
  addCommonOptions(cmd, { out: 'model' });
  cmd.action(() => {
    const cfg = resolveConfig(
      cmd,
      z.strictObject({ ...commonSchema, out: z.string().min(1), from: z.string().min(1), tokenizer: z.string().min(1).optional(), dtype: z.enum(['F32', 'F16', 'BF16', 'source']), maxShardSize: z.coerce.number().positive() }),
    );
    announce('convert', cfg, cfg.quiet);
    const r = convertModel({ from: cfg.from, tokenizer: cfg.tokenizer, out: cfg.out, dtype: cfg.dtype, maxShardBytes: Math.round(cfg.maxShardSize * 1e6) });
    const c = r.config;
    process.stdout.write(
      `wrote ${r.dir}: ${r.tensors} tensors, ${r.parameters} parameters (${cfg.dtype}); ` +
        `${c.numLayers} layers, hidden ${c.hiddenSize}, heads ${c.numHeads}/${c.numKvHeads} kv, vocab ${c.vocabSize}, ${c.tieWordEmbeddings ? 'tied' : 'untied'} head\n`,
    );
  });
}
