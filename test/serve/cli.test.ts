// `steer serve` as a user runs it: a child process on an ephemeral port; SIGTERM finishes the
// request in flight and exits 0; usage errors exit 2 with the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import OpenAI from 'openai';
import { sharedFile, repoRoot } from '../helpers/shared.js';
import { runSteer } from '../helpers/cli.js';

function serve(args: string[]) {
  const p = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/bin.ts'), 'serve', '--port', '0', '--quiet', ...args], { cwd: repoRoot });
  let stderr = '';
  const url = new Promise<string>((resolve, reject) => {
    p.stderr.on('data', (d) => {
      stderr += d;
      const m = /ready in .* on (http:\/\/\S+) /.exec(stderr);
      if (m) resolve(m[1]);
    });
    p.on('close', () => reject(new Error(`steer serve exited early:\n${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
  return { p, url, exited, stderr: () => stderr };
}

test('SIGTERM: the stream in flight completes, then the server stops (exit 0)', async (t) => {
  const model = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tok = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!model || !tok) return;
  const s = serve(['--model', model, '--tokenizer', tok, '--max-batch', '2']);
  const url = await s.url;
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], temperature: 0, max_tokens: 150, stream: true, stream_options: { include_usage: true } });
  let chunks = 0;
  let usage = null;
  let finish = null;
  for await (const c of stream) {
    if (++chunks === 2) s.p.kill('SIGTERM');
    if (c.usage) usage = c.usage;
    if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
  }
  assert.equal(finish, 'length');
  assert.equal(usage!.completion_tokens, 150, 'the request in flight got all its tokens');
  assert.equal(await s.exited, 0, s.stderr());
  assert.match(s.stderr(), /SIGTERM: finishing requests in flight[\s\S]*stopped/);
  await assert.rejects(fetch(`${url}/health`)); // no longer listening
});

test('nothing to serve: exit 2 with the fix', () => {
  const r = runSteer(['serve', '--port', '0']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /nothing to serve[\s\S]*fix: e\.g\. steer serve --model/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/); // no stack trace
});
