// `steer info`: what steer runs on — versions, the engine's execution providers, threads.
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { packageVersion } from './main.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print versions, the engine backend and its execution providers')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const require = createRequire(import.meta.url);
      const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
      const ort = await import('onnxruntime-node');
      const providers = (ort as unknown as { listSupportedBackends?: () => { name: string }[] }).listSupportedBackends?.() ?? [];
      const info = {
        steer: packageVersion(),
        node: process.version,
        onnxruntime: ortVersion,
        executionProviders: providers.map((b) => b.name),
        platform: `${process.platform}-${process.arch}`,
      };
      if (opts.json) process.stdout.write(JSON.stringify(info) + '\n');
      else for (const [k, v] of Object.entries(info)) process.stdout.write(`${k.padEnd(20)} ${Array.isArray(v) ? v.join(', ') : v}\n`);
    });
}
