// `steer eval mmlu-pro` end to end, as a user runs the built CLI:
//  --policy-url against a scripted OpenAI-compatible server (node:http on 127.0.0.1) that answers
//    each question with a fixed text exercising every extraction level, fails once with a 500
//    (the client retries), and records the requests it got (prompt format, temperature, budget);
//  --model on the real stories260K checkpoint (../shared/data/stories260k): files, resume, and the
//    score recounted by the official compute_accuracy.py from the rows steer wrote;
//  --outputs on a small result file; bad rows and bad option combinations exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { repoRoot, sharedFile } from '../helpers/shared.js';
import { venvPython } from '../helpers/python.js';

const BIN = join(repoRoot, 'bin/steer.js');

function steer(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmpdir(), env: { ...process.env, OPENAI_API_KEY: 'test-key' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const QUESTIONS = [
  { question_id: 1, question: 'What is 2+2?', options: ['3', '4', '5', 'N/A'], answer: 'B', answer_index: 1, category: 'math' },
  { question_id: 2, question: 'Capital of France?', options: ['Paris', 'Rome', 'Oslo'], answer: 'A', answer_index: 0, category: 'geography' },
  { question_id: 3, question: 'Largest planet?', options: ['Mars', 'Venus', 'Jupiter', 'Earth'], answer: 'C', answer_index: 2, category: 'science' },
  { question_id: 4, question: 'What is 3*3?', options: ['6', '9', '12', '8'], answer: 'B', answer_index: 1, category: 'math' },
  { question_id: 5, question: 'Water boils at (C)?', options: ['90', '80', '70', '100'], answer: 'D', answer_index: 3, category: 'science' },
];

// the scripted answers, by question text: every extraction level
const ANSWERS: Record<string, string> = {
  'What is 2+2?': 'Two and two make four. The answer is (B).', // l1 → B ✓
  'Capital of France?': '**Answer: A**', // "**" removed → l2 → A ✓
  'Largest planet?': 'It is the gas giant, so D', // l3 (last standalone letter) → D ✗
  'What is 3*3?': 'no idea', // no letter → fallback
  'Water boils at (C)?': 'The answer is (C).', // l1 → C ✗
};

interface Scripted {
  url: string;
  requests: { model: string; temperature: number; max_tokens: number; content: string }[];
  server: Server;
}

async function scriptedServer(): Promise<Scripted> {
  const requests: Scripted['requests'] = [];
  let failedOnce = false;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
        return;
      }
      const b = JSON.parse(body) as { model: string; temperature: number; max_tokens: number; messages: { role: string; content: string }[] };
      const content = b.messages[0].content;
      const asked = [...content.matchAll(/Question: (.*)\n/g)].pop()![1];
      if (!failedOnce && asked === 'Largest planet?') {
        failedOnce = true; // a transient failure: the client must retry
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'busy' } }));
        return;
      }
      requests.push({ model: b.model, temperature: b.temperature, max_tokens: b.max_tokens, content });
      const text = ANSWERS[asked] ?? 'unknown question';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5 } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests, server };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'steer-mmlupro-cli-'));
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

test('--policy-url: official prompt, temperature 0, extraction levels, fallback, retry, resume', async () => {
  const dir = tmp();
  const s = await scriptedServer();
  try {
    const qfile = join(dir, 'test.jsonl');
    writeFileSync(qfile, jsonl(QUESTIONS));
    const out = join(dir, 'out');
    const args = ['eval', 'mmlu-pro', '--questions', qfile, '--policy-url', s.url, '--policy-model', 'scripted', '--out', out, '--json', '--quiet'];
    const r = await steer(args);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    // preds B ✓, A ✓, D ✗, fallback ✗/✓, C ✗. The fallback: Level-1 pass draws for q2, q3, q4
    // (no "answer is": G, A, E), then Level 2 draws once, for q4: the 4th draw of
    // random.seed(12345) + random.choice("ABCDEFGHIJ") → F ≠ B. Level 2: 2 / 5.
    assert.equal(res.correct, 2);
    assert.equal(res.total, 5);
    assert.equal(res.accuracy, 0.4);
    assert.equal(res.fallbacks, 1);
    // Level 1: q1 B ✓, q2 G ✗, q3 A ✗, q4 E ✗, q5 C ✗ → 1 / 5
    assert.equal(res.level1_accuracy, 0.2);
    assert.deepEqual(res.categories, { math: { corr: 1, wrong: 1, acc: 0.5 }, geography: { corr: 1, wrong: 0, acc: 1 }, science: { corr: 0, wrong: 2, acc: 0 } });
    assert.equal(res.shots, 0);
    // what the endpoint saw: the official user message, temperature 0, max_tokens 4000
    assert.equal(s.requests.length, 5);
    const first = s.requests.find((q) => q.content.includes('2+2'))!;
    assert.deepEqual({ model: first.model, temperature: first.temperature, max_tokens: first.max_tokens }, { model: 'scripted', temperature: 0, max_tokens: 4000 });
    assert.equal(first.content, 'The following are multiple choice questions (with answers) about math. Think step by step and then output the answer in the format of "The answer is (X)" at the end.\n\n' + "Question: What is 2+2?\nOptions: A. 3\nB. 4\nC. 5\nAnswer: Let's think step by step.\n\n");
    // the files
    const lines = readFileSync(join(out, 'outputs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.question_id, l.model_outputs]), QUESTIONS.map((q) => [String(q.question_id), ANSWERS[q.question].replace(/\*\*/g, '')]));
    const official = JSON.parse(readFileSync(join(out, 'official', 'all_result.json'), 'utf8'));
    assert.deepEqual(official.map((o: { pred: string | null }) => o.pred), ['B', 'A', 'D', null, 'C']);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).accuracy, 0.4);
    assert.match(readFileSync(join(out, 'results.txt'), 'utf8'), /overall\s+40\.00\s+2 \/ 5/);

    // resume: keep two answers and a torn third line, drop the request cache → only 3 questions asked again
    writeFileSync(join(out, 'outputs.jsonl'), lines.slice(0, 2).map((l) => JSON.stringify(l)).join('\n') + '\n{"question_id": "3", "categ');
    rmSync(join(out, 'request-cache.jsonl'));
    s.requests.length = 0;
    const again = await steer(args);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(s.requests.length, 3);
    const res2 = JSON.parse(again.stdout);
    assert.equal(res2.resumed, 2);
    assert.equal(res2.accuracy, 0.4);

    // 5-shot: the category's exemplars come first, "A: " dropped from their cot_content
    const vfile = join(dir, 'val.jsonl');
    writeFileSync(vfile, jsonl([{ question_id: 70, question: '1+1?', options: ['2', '3'], answer: 'A', answer_index: 0, category: 'math', cot_content: "A: Let's think step by step. One and one is two. The answer is (A)." }, { question_id: 71, question: 'Sky?', options: ['blue', 'red'], answer: 'A', category: 'geography', cot_content: 'A: Blue. The answer is (A).' }, { question_id: 72, question: 'Sun?', options: ['star', 'moon'], answer: 'A', category: 'science', cot_content: 'A: A star. The answer is (A).' }]));
    s.requests.length = 0;
    const five = await steer(['eval', 'mmlu-pro', '--questions', qfile, '--validation', vfile, '--policy-url', s.url, '--policy-model', 'scripted', '--out', join(dir, 'five'), '--json', '--quiet', '--category', 'math']);
    assert.equal(five.status, 0, five.stderr);
    assert.equal(JSON.parse(five.stdout).shots, 5);
    assert.equal(s.requests.length, 2);
    assert.ok(s.requests[0].content.includes("about math. Think step by step and then output the answer in the format of \"The answer is (X)\" at the end.\n\nQuestion: 1+1?\nOptions: A. 2\nB. 3\nAnswer: Let's think step by step. One and one is two. The answer is (A).\n\nQuestion: "), s.requests[0].content);
  } finally {
    s.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input exits 2 with the file, line and fix', async () => {
  const dir = tmp();
  try {
    const qfile = join(dir, 'bad.jsonl');
    writeFileSync(qfile, jsonl([QUESTIONS[0], { question_id: 9, question: 'q', options: ['a', 'b'], answer: 'Z' }]));
    const r = await steer(['eval', 'mmlu-pro', '--questions', qfile, '--policy-url', 'http://127.0.0.1:9/v1', '--policy-model', 'm', '--out', join(dir, 'o')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad\.jsonl:2: the answer is not the letter of an option \(field "answer"\)/);
    assert.match(r.stderr, /fix: /);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/); // no stack trace
    const none = await steer(['eval', 'mmlu-pro', '--questions', join(dir, 'bad.jsonl')]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no policy to answer: pass --model DIR or --policy-url URL/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--outputs scores existing result rows (generated_text or model_outputs)', async () => {
  const dir = tmp();
  try {
    const f = join(dir, 'outputs.json');
    writeFileSync(f, JSON.stringify(QUESTIONS.map((q) => ({ ...q, generated_text: ANSWERS[q.question].replace(/\*\*/g, '') }))));
    const r = await steer(['eval', 'mmlu-pro', '--outputs', f, '--out', join(dir, 'o'), '--json', '--quiet', '--fallback', 'reseed']);
    assert.equal(r.status, 0, r.stderr);
    // as above, but the fallback re-seeds: q4 → G ≠ B; still 2 / 5
    assert.equal(JSON.parse(r.stdout).accuracy, 0.4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--model stories260K: end to end, resumed, recounted by the official compute_accuracy.py', async (t) => {
  const model = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tok = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!model || !tok) return;
  const dir = tmp();
  try {
    const qfile = join(dir, 'kids.jsonl');
    writeFileSync(qfile, jsonl([
      { id: 'cat', question: 'Lily saw a cat. What did Lily see?', options: ['a dog', 'a cat', 'a bird'], answer: 'B', category: 'story' },
      { id: 'sun', question: 'The sun is hot. Is the sun hot?', options: ['yes', 'no'], answer: 'A', category: 'story' },
      { id: 'tom', question: 'Tom had a red ball. What color was it?', options: ['blue', 'green', 'red', 'pink'], answer: 'C', category: 'color' },
    ]));
    const out = join(dir, 'out');
    const args = ['eval', 'mmlu-pro', '--questions', qfile, '--model', model, '--tokenizer', tok, '--max-new-tokens', '24', '--out', out, '--json', '--quiet', '--threads', '1'];
    const r = await steer(args);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.total, 3);
    assert.equal(res.resumed, 0);
    const lines = readFileSync(join(out, 'outputs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.question_id), ['cat', 'sun', 'tom']);
    for (const l of lines) {
      assert.ok(l.tokens >= 1 && l.tokens <= 24, String(l.tokens));
      assert.ok(!l.model_outputs.includes('Question:'));
    }
    // rerun: every answer read back, nothing generated, the same score
    const again = await steer(args);
    assert.equal(again.status, 0, again.stderr);
    const res2 = JSON.parse(again.stdout);
    assert.equal(res2.resumed, 3);
    assert.equal(res2.accuracy, res.accuracy);
    assert.deepEqual(readFileSync(join(out, 'outputs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)), lines);
    // the score's arithmetic: the official script recounts from the rows steer wrote
    const py = venvPython(t);
    if (!py) return;
    const script = sharedFile(t, 'data/mmlu-pro/compute_accuracy.py');
    if (!script) return;
    const run = spawnSync(py, [script, join(out, 'official')], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const printed = [...run.stdout.matchAll(/all_result\.json (\S+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(printed, [res.level1_accuracy, res.accuracy]);
    assert.ok(existsSync(join(out, 'results.txt')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
