// The chat page end to end in Debian's Chromium (playwright-core): a conversation with stories260K
// streams the same text the API gives for the same settings; the compare view shows two policies'
// answers side by side with length and reward (checked against /v1/rewards); a context overflow
// shows the server's message in the page and the next message still works. Screenshots go to
// $STEER_SCREENSHOTS when set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import OpenAI from 'openai';
import { sharedPath } from '../helpers/shared.js';
import { randomRewardModel } from '../reward/helpers.js';
import { saveRewardModel } from '../../src/reward/model.js';
import { startServer, type SteerServer } from '../../src/serve/server.js';
import { PROBES } from '../../src/serve/page.js';

const CHROMIUM = process.env.STEER_CHROMIUM ?? '/usr/bin/chromium';
const model = sharedPath('data/stories260k/stories260K.bin');
const tok = sharedPath('data/stories260k/tok512.bin');
if (!model && process.env.CI) throw new Error('../shared/data/stories260k is absent; CI must run these tests with ../shared beside the checkout');
const skip = model === null || tok === null ? '../shared/data/stories260k is absent' : !existsSync(CHROMIUM) ? `${CHROMIUM} is absent (.ci/run installs Debian's chromium)` : false;
const dir = mkdtempSync(join(tmpdir(), 'steer-serve-page-'));
const shots = process.env.STEER_SCREENSHOTS ?? dir;
let server: SteerServer;

before(async () => {
  if (skip) return;
  saveRewardModel(join(dir, 'rm'), randomRewardModel(3, ['helpfulness']));
  server = await startServer({ policies: [{ model: model!, tokenizer: tok!, name: 'stories260K' }, { model: model!, tokenizer: tok!, name: 'stories260K-copy' }], rewardModels: [{ name: 'rm', dir: join(dir, 'rm') }], port: 0, threads: 1, engine: { maxBatch: 4 } });
});
after(async () => {
  await server?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

test('chat and compare through the page match the API', { skip }, async () => {
  mkdirSync(shots, { recursive: true });
  const api = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0 });
  const greedy = async (m: string, content: string) => (await api.chat.completions.create({ model: m, messages: [{ role: 'user', content }], temperature: 0, top_p: 1, max_tokens: 40, seed: 0 })).choices[0].message.content!;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="1"]');
    assert.deepEqual(await page.locator('#model option').allTextContents(), ['stories260K', 'stories260K-copy']);
    await page.fill('#max_tokens', '40');
    await page.fill('#input', 'Once upon a time');
    await page.click('#send');
    await page.waitForSelector('.msg.assistant[data-state="done"]');
    assert.equal(await page.locator('.msg.assistant span').first().textContent(), await greedy('stories260K', 'Once upon a time'));
    // an overflow shows the server's message; the conversation goes on
    await page.fill('#max_tokens', '600');
    await page.fill('#input', 'The cat');
    await page.click('#send');
    await page.waitForSelector('.msg.err[data-state="done"]');
    assert.match((await page.locator('.msg.err').textContent()) ?? '', /maximum context length is 512 tokens/);
    await page.fill('#max_tokens', '40');
    await page.fill('#input', 'The cat');
    await page.click('#send');
    await page.locator('.msg.assistant[data-state="done"]').nth(1).waitFor();
    await page.screenshot({ path: join(shots, 'serve-chat.png') });
    // compare: both policies side by side, each with its length and reward
    await page.click('#tab-compare');
    await page.fill('#cprompt', 'One day');
    await page.click('#run');
    await page.waitForSelector('#cols[data-state="done"]');
    const expected = await greedy('stories260K', 'One day');
    const rw = (await (await fetch(`${server.url}/v1/rewards`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: [{ prompt: 'One day', response: expected }] }) })).json()) as { rewards: number[] };
    for (const m of ['stories260K', 'stories260K-copy']) {
      const col = page.locator(`.col[data-model="${m}"]`);
      assert.equal(await col.locator('.answer').textContent(), expected);
      assert.equal(await col.locator('.meta').textContent(), `${expected.length} chars · reward ${rw.rewards[0].toFixed(3)}`);
    }
    // the probes: the demo's strawberry family, one row each, every policy's answer in it
    await page.click('#probes');
    await page.waitForSelector('#probe-table[data-state="done"]', { timeout: 120_000 });
    assert.equal(await page.locator('#probe-table tr').count(), 1 + PROBES.length);
    const first = page.locator('#probe-table tr').nth(1).locator('td');
    assert.equal(await first.nth(0).textContent(), 'How many r in strawberry?');
    const probeAnswer = await greedy('stories260K-copy', 'How many r in strawberry?');
    assert.ok((await first.nth(2).textContent())!.startsWith(`${probeAnswer}\n— ${probeAnswer.length} chars, reward `));
    await page.screenshot({ path: join(shots, 'serve-compare.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
