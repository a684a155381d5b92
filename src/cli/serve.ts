// `steer serve`: a policy behind OpenAI's API and reward models behind steer's and OpenRLHF's
// reward endpoints, until SIGTERM / SIGINT (then it finishes what is in flight and exits).
// A thin shell over src/serve/server.ts.
import { Command } from 'commander';
import { z } from 'zod';
import { addCommonOptions, announce, commonSchema, resolveConfig } from './command.js';
import { modelNameOf, startServer } from '../serve/server.js';
import { UserError } from '../util/errors.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** `NAME=PATH` or `PATH` (named by its last path part). */
function rewardModelArg(v: string): { name: string; dir: string } {
  const eq = v.indexOf('=');
  return eq > 0 ? { name: v.slice(0, eq), dir: v.slice(eq + 1) } : { name: modelNameOf(v), dir: v };
}

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve a policy over OpenAI\'s API (chat and text completions, streaming, continuous batching) and reward models over HTTP (/v1/rewards, OpenRLHF /get_reward)')
    .option('--model <[name=]path>', 'a policy: a model directory or a llama2.c .bin file (repeatable: each in its own engine; the chat page compares them)', collect, [])
    .option('--tokenizer <path>', 'the policies\' tokenizer when not in the model directory (e.g. tok512.bin beside a llama2.c file)')
    .option('--model-name <name>', 'the policy\'s name in the API when one --model is given (default: the model path\'s last part, without .bin; or name=path)')
    .option('--reward-model <[name=]dir>', 'a steer reward model directory (repeatable; the first answers /get_reward)', collect, [])
    .option('--host <host>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', '8000')
    .option('--api-key <key>', 'require "Authorization: Bearer KEY" on /v1 and /get_reward (default: the STEER_API_KEY environment variable, else none)')
    .option('--max-batch <n>', 'sequences decoded together at most (continuous batching)', '64')
    .option('--max-queue <n>', 'requests waiting for a decode row at most; more get 429', '256')
    .option('--context <n>', 'tokens per sequence, prompt included (default: the model\'s max_position_embeddings)')
    .option('--body-limit <bytes>', 'largest request body; larger ones get 413', String(1 << 20))
    .option('--request-timeout <s>', 'a request running longer is stopped with 504', '600')
    .option('--no-warmup', 'skip compiling the decode graphs before listening (first requests then wait for them)')
    .addHelpText(
      'after',
      [
        '',
        'Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, POST /v1/rewards,',
        'POST /get_reward (OpenRLHF), GET /health, GET /metrics (Prometheus).',
        '',
        'Examples:',
        '  steer serve --model stories260K.bin --tokenizer tok512.bin --port 8000',
        '  curl -s localhost:8000/v1/chat/completions -H "content-type: application/json" \\',
        '    -d \'{"model": "stories260K", "messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 40, "temperature": 0}\'',
        '  steer serve --reward-model runs/demo/reward-models/seed0/scaled-bt-init-expo --port 8001     # then: steer rl reinforce --reward-url http://127.0.0.1:8001/v1/rewards',
      ].join('\n'),
    );
  addCommonOptions(cmd);
  cmd.action(async () => {
    const cfg = resolveConfig(
      cmd,
      z.strictObject({
        ...commonSchema,
        model: z.array(z.string().min(1)),
        tokenizer: z.string().min(1).optional(),
        modelName: z.string().min(1).optional(),
        rewardModel: z.array(z.string().min(1)),
        host: z.string().min(1),
        port: z.coerce.number().int().min(0).max(65535),
        apiKey: z.string().min(1).optional(),
        maxBatch: z.coerce.number().int().min(1).max(1024),
        maxQueue: z.coerce.number().int().min(0),
        context: z.coerce.number().int().min(2).optional(),
        bodyLimit: z.coerce.number().int().min(1024),
        requestTimeout: z.coerce.number().gt(0),
        warmup: z.boolean(),
      }),
    );
    if (cfg.model.length === 0 && cfg.rewardModel.length === 0) {
      throw new UserError({ what: 'nothing to serve', where: 'steer serve', expected: '--model PATH (a policy) and/or --reward-model DIR', fix: 'e.g. steer serve --model stories260K.bin --tokenizer tok512.bin' });
    }
    if (cfg.modelName !== undefined && cfg.model.length !== 1) throw new UserError({ what: '--model-name names one policy', where: '--model-name', received: `${cfg.model.length} --model options`, fix: 'name each policy in --model NAME=PATH instead' });
    const policies = cfg.model.map((m) => {
      const { name, dir } = rewardModelArg(m);
      return { model: dir, tokenizer: cfg.tokenizer, name: cfg.modelName ?? name };
    });
    const rewardModels = cfg.rewardModel.map(rewardModelArg);
    const names = rewardModels.map((r) => r.name);
    if (new Set(names).size !== names.length) throw new UserError({ what: 'two reward models have the same name', where: '--reward-model', received: names.join(', '), fix: 'name them: --reward-model helpful=DIR1 --reward-model safe=DIR2' });
    const apiKey = cfg.apiKey ?? (process.env.STEER_API_KEY || undefined);
    announce('serve', { ...cfg, apiKey: apiKey === undefined ? 'none' : '(set)' }, cfg.quiet);
    const t0 = performance.now();
    const server = await startServer({
      policies,
      rewardModels,
      host: cfg.host,
      port: cfg.port,
      apiKey,
      threads: cfg.threads,
      engine: { maxBatch: cfg.maxBatch, maxQueue: cfg.maxQueue, context: cfg.context },
      bodyLimitBytes: cfg.bodyLimit,
      requestTimeoutMs: cfg.requestTimeout * 1000,
      warmup: cfg.warmup,
    });
    const served = [server.policyName ? `${server.policyNames().length > 1 ? 'policies' : 'policy'} ${server.policyNames().join(', ')} (context ${server.policyInfo()?.context}, batch ≤ ${server.policyInfo()?.maxBatch})` : null, rewardModels.length > 0 ? `reward models ${names.join(', ')}` : null].filter(Boolean).join('; ');
    process.stderr.write(`steer serve: ${served} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${server.url} (OpenAI base URL ${server.url}/v1)\n`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.stderr.write(`steer serve: ${signal}: finishing requests in flight, refusing new ones\n`);
        void server.shutdown().then(resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    process.stderr.write('steer serve: stopped\n');
  });
}
