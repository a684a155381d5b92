// `steer generate` and `steer convert` end to end through bin/steer.js (dist/ is rebuilt by npm test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sharedFile } from '../helpers/shared.js';

const bin = fileURLToPath(new URL('../../bin/steer.js', import.meta.url));
const fixture = (rel: string) => fileURLToPath(new URL(`../fixtures/${rel}`, import.meta.url));
const run = (args: string[], cwd?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd });

test('the issue\'s command prints exactly what llama2.c run.c prints', (t) => {
  const model = sharedFile(t, 'data/stories260k/stories260K.bin');
  if (!model) return;
  // run in the data folder, with the file names exactly as in the issue
  const r = run(['generate', '--model', 'stories260K.bin', '--tokenizer', 'tok512.bin', '--prompt', 'Once upon a time', '--max-new-tokens', '90', '--temperature', '0'], dirname(model));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(fixture('stories260k/run_c.once-upon-a-time.n94.txt'), 'utf8'));
  assert.match(r.stderr, /steer generate/); // the announced config goes to stderr, not stdout
  assert.match(r.stderr, /90 tokens in/);
});

test('convert then generate from the directory: same text; JSONL output with tokens and log-probs', (t) => {
  const model = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tok = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!model || !tok) return;
  const dir = mkdtempSync(join(tmpdir(), 'steer-cli-gen-'));
  try {
    const c = run(['convert', '--from', model, '--tokenizer', tok, '--out', join(dir, 'stories'), '--quiet']);
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout, /47 tensors, 260032 parameters \(F32\); 5 layers, hidden 64, heads 8\/4 kv, vocab 512, tied head/);
    assert.deepEqual(readdirSync(join(dir, 'stories')).sort(), ['config.json', 'model.safetensors', 'steer.json', 'tokenizer.bin']);
    const out = join(dir, 'gen.jsonl');
    const g = run(['generate', '--model', join(dir, 'stories'), '--prompt', 'Once upon a time', '--max-new-tokens', '90', '--temperature', '0', '--out', out, '--quiet']);
    assert.equal(g.status, 0, g.stderr);
    assert.equal(g.stderr, '');
    assert.equal(g.stdout, readFileSync(fixture('stories260k/run_c.once-upon-a-time.n94.txt'), 'utf8'));
    const rec = JSON.parse(readFileSync(out, 'utf8').trim());
    assert.equal(rec.prompt, 'Once upon a time');
    assert.equal(rec.prompt + rec.completion + '\n', g.stdout);
    assert.deepEqual(rec.prompt_tokens, [1, 403, 407, 261, 378]);
    assert.equal(rec.tokens.length, 90);
    assert.equal(rec.logprobs.length, 90);
    assert.ok(rec.logprobs.every((x: number) => x <= 0 && Number.isFinite(x)));
    assert.equal(rec.finish_reason, 'length');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('generate / convert usage errors: one clear message, exit 2', () => {
  const tinyDir = fixture('tiny-llama3');
  let r = run(['generate', '--model', tinyDir, '--prompt', 'x']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no tokenizer for the model[\s\S]*fix: pass --tokenizer/);
  r = run(['generate', '--model', '/nonexistent/model', '--prompt', 'x']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /\/nonexistent\/model: the model path does not exist/);
  r = run(['generate', '--model', tinyDir, '--prompt', 'x', '--top-p', '0']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /topP: .*received "0"/);
  r = run(['generate', '--model', tinyDir]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no prompt given/);
  r = run(['convert', '--from', tinyDir, '--out', tinyDir, '--quiet']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /the output directory is the input/);
  r = run(['convert', '--from', tinyDir, '--dtype', 'Q8', '--quiet']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /dtype/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
});
