// End to end, as a new user: toy tasks → `steer annotate import` → `tokens` → `serve`; an annotator
// in Debian's Chromium signs in and completes tasks with the keyboard only (autosave, resume, editing
// the last answer); three annotators disagree on a task and two more are asked; the admin page shows
// it; `steer annotate export` → `steer data prepare` → `steer rm train` run on the export.
// Screenshots go to $STEER_ANNOTATE_SHOTS (default /tmp/annotate-shots).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSteer } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';
import { AnnotationStore } from '../../src/annotate/store.js';
import { answer } from './helpers.js';
import { nextTaskId, signIn, submit } from './client.js';

const CHROMIUM = process.env.STEER_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.STEER_ANNOTATE_SHOTS ?? '/tmp/annotate-shots';
const TINY = ['--hidden-size', '16', '--layers', '1', '--heads', '2', '--kv-heads', '1', '--intermediate-size', '32'];
const JUST = 'Response one gives the right answer plainly. Response two gets the count wrong.';

test('annotate import → serve → keyboard-only annotation in Chromium → export → data prepare → rm train', { timeout: 10 * 60_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI) assert.fail(`${CHROMIUM} is absent: .ci/run installs Debian's chromium`);
    return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'steer-annotate-e2e-'));
  const db = join(dir, 'studio.db');
  const steer = (args: string[]) => {
    const r = runSteer(args.map((a) => (a.startsWith('@') ? join(dir, a.slice(1)) : a)), { timeoutMs: 240_000 });
    assert.equal(r.status, 0, `steer ${args.join(' ')}\n${r.stderr.slice(-3000)}`);
    return r.stdout;
  };
  let server: ReturnType<typeof spawn> | undefined;
  let browser: import('playwright-core').Browser | undefined;
  try {
    steer(['data', 'toy', '--size', '24', '--out', '@toy', '--quiet']);
    const imported = steer(['annotate', 'import', '--db', db, '@toy/helpsteer2/train.jsonl', '--quiet']);
    const nTasks = Number(/imported (\d+) tasks/.exec(imported)![1]);
    assert.ok(nTasks >= 10, imported);
    // a bad task file: exit 2, the line named, no stack trace, nothing imported
    writeFileSync(join(dir, 'bad.jsonl'), '{"prompt": "q", "response_1": "a", "response_2": "b"}\n{"prompt": "q2", "response_1": "a"}\n');
    const bad = runSteer(['annotate', 'import', '--db', db, join(dir, 'bad.jsonl'), '--quiet']);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /bad\.jsonl:2 field response_2: task row: missing field "response_2"/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
    const tokenOut = steer(['annotate', 'tokens', '--db', db, '--add', 'alice', '--add', 'bob', '--add', 'carol', '--add', 'dave', '--add', 'erin', '--admin', 'boss']);
    const token = Object.fromEntries(tokenOut.trim().split('\n').filter((l) => !l.startsWith('#')).map((l) => [l.split('\t')[0], l.split('\t')[2]]));
    assert.deepEqual(Object.keys(token), ['alice', 'bob', 'carol', 'dave', 'erin', 'boss']);

    server = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/bin.ts'), 'annotate', 'serve', '--db', db, '--tasks', join(dir, 'toy/helpsteer2/train.jsonl'), '--port', '0', '--quiet', '--export-dir', join(dir, 'web-export')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let serverErr = '';
    server.stderr!.on('data', (d) => (serverErr += d));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server!.stdout!.on('data', (d) => {
        out += d;
        const m = /at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      server!.once('exit', (code) => reject(new Error(`steer annotate serve exited ${code}`)));
    });

    for (let i = 0; i < 100 && !serverErr.includes('--tasks:'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(serverErr, new RegExp(`--tasks: imported 0 new tasks \\(${nTasks} already in the studio\\)`));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const ready = async () => page.locator('body[data-ready="1"]').waitFor();
    const taskOnPage = () => Number(/\/task\/(\d+)$/.exec(page.url())![1]);
    const keys = async (s: string) => {
      for (const k of s) await page.keyboard.press(k);
    };

    // sign in with the keyboard
    await page.goto(`${url}/login`);
    await page.keyboard.type(token.alice);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/task\/\d+$/);
    await ready();
    const first = taskOnPage();

    // task 1: response 1 rated 4 4 4 2 2, response 2 rated 1 1 3 1 1; "2" = response 1 is better (−2)
    mkdirSync(SHOTS, { recursive: true });
    await keys('4442211');
    assert.equal(await page.locator('.field.current').getAttribute('data-field'), 'r1.coherence');
    assert.match((await page.locator('#guide-levels li').nth(4).textContent())!, /^Perfectly coherent and clear/);
    await page.screenshot({ path: join(SHOTS, 'annotator-guidelines.png'), fullPage: true });
    await keys('311');
    assert.equal(await page.locator('.field.current').getAttribute('data-field'), 'preference');
    await page.keyboard.press('2');
    await page.keyboard.type(JUST);
    await page.screenshot({ path: join(SHOTS, 'annotator-task.png'), fullPage: true });
    await page.keyboard.press('Control+Enter');
    await page.waitForURL((u) => /\/task\/\d+$/.test(u.pathname) && Number(u.pathname.split('/').pop()) !== first);
    await ready();
    const second = taskOnPage();

    const look = () => new AnnotationStore(db);
    let s = look();
    const a1 = s.answer(first, s.annotators().find((a) => a.name === 'alice')!.id)!;
    assert.deepEqual(a1.ratings, [
      { helpfulness: 4, correctness: 4, coherence: 4, complexity: 2, verbosity: 2 },
      { helpfulness: 1, correctness: 1, coherence: 3, complexity: 1, verbosity: 1 },
    ]);
    assert.deepEqual([a1.preference, a1.justification, a1.unsafe, a1.flags], [-2, JUST, [false, false], []]);
    s.close();

    // task 2: half done, autosaved, the page reloaded: the ratings are back and the cursor is on the next one
    await keys('321');
    await page.keyboard.press('ArrowDown'); // skip complexity for now
    await page.keyboard.press('u'); // response 1 unsafe
    await page.locator('#status', { hasText: 'autosaved' }).waitFor();
    await page.reload();
    await ready();
    assert.equal(await page.locator('input[name="r0.helpfulness"]:checked').getAttribute('value'), '3');
    assert.equal(await page.locator('input[name="r0.coherence"]:checked').getAttribute('value'), '1');
    assert.ok(await page.locator('input[name="r0.unsafe"]').isChecked());
    assert.equal(await page.locator('.field.current').getAttribute('data-field'), 'r0.complexity');
    await keys('2' + '0' + '44444'); // complexity 2, verbosity 0, response 2 all 4
    await page.keyboard.press('6'); // response 2 is much better (3)
    await page.keyboard.type(JUST);
    await page.keyboard.press('Control+Enter');
    await page.waitForURL((u) => Number(u.pathname.split('/').pop()) !== second);
    await ready();

    // a flagged task: "c" (requires coding) then save — no ratings, preference −100
    const third = taskOnPage();
    await page.keyboard.press('c');
    await page.keyboard.press('Control+Enter');
    await page.waitForURL((u) => Number(u.pathname.split('/').pop()) !== third);
    await ready();

    // edit the last answer of task 1 from "my answers": preference −2 → −3
    await page.goto(`${url}/history`);
    await page.click(`a[href="/task/${first}"]`);
    await ready();
    assert.equal(await page.locator('input[name="preference"]:checked').getAttribute('value'), '-2');
    await page.keyboard.press('1');
    await page.keyboard.press('Control+Enter');
    await page.waitForURL((u) => u.pathname !== `/task/${first}`);
    s = look();
    const alice = s.annotators().find((a) => a.name === 'alice')!.id;
    const edited = s.answer(first, alice)!;
    assert.deepEqual([edited.preference, edited.revision], [-3, 2]);
    const a2 = s.answer(second, alice)!;
    assert.deepEqual(a2.ratings![0], { helpfulness: 3, correctness: 2, coherence: 1, complexity: 2, verbosity: 0 });
    assert.deepEqual([a2.unsafe, a2.preference], [[true, false], 3]);
    const a3 = s.answer(third, alice)!;
    assert.deepEqual([a3.flags, a3.ratings, a3.preference], [['coding'], null, -100]);
    assert.equal(s.allAnswers().length, 3);
    s.close();
    assert.deepEqual(errors, []);

    // bob and carol rate task 1's response 1 at 1 and 3: with alice's 4 the spread is 3 > 2 → 5 annotators
    const others = Object.fromEntries(await Promise.all(['bob', 'carol', 'dave', 'erin'].map(async (n) => [n, await signIn(url, token[n])] as const)));
    const done = new Map<string, number>();
    const work = async (name: string, until: (id: number) => boolean) => {
      for (;;) {
        const id = await nextTaskId(others[name]);
        if (id === null || !until(id)) return id;
        const h = id === first ? { bob: 1, carol: 3, dave: 4, erin: 3 }[name]! : 1 + (id % 3);
        const r = await submit(others[name], id, answer(h, 4 - (id % 3), id % 2 ? -2 : 2));
        assert.equal(r.status, 200, JSON.stringify(r.body));
        done.set(name, (done.get(name) ?? 0) + 1);
      }
    };
    assert.equal(await nextTaskId(others.bob), first, 'task 1 is offered first (its lease is bob\'s now)');
    await work('bob', () => true);
    await work('carol', () => true);
    s = look();
    assert.equal(s.getTask(first)!.target, 5, 'helpfulness 4, 1, 3: spread 3 > 2 → two more annotators');
    s.close();
    await work('dave', () => true);
    await work('erin', () => true);
    s = look();
    assert.equal(s.allAnswers().filter((a) => a.taskId === first).length, 5);
    assert.deepEqual(s.allAnswers().filter((a) => a.taskId === first).map((a) => a.annotator), ['alice', 'bob', 'carol', 'dave', 'erin']);
    s.close();

    // the admin page
    const adminPage = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await adminPage.goto(`${url}/login`);
    await adminPage.keyboard.type(token.boss);
    await adminPage.keyboard.press('Enter');
    await adminPage.waitForURL(/\/admin$/);
    assert.match((await adminPage.locator('#progress-summary').textContent())!, new RegExp(`of ${nTasks} tasks complete`));
    assert.ok(await adminPage.locator(`#low-agreement td:text-is("${first}")`).count() === 1, 'task 1 is listed as low agreement');
    assert.equal(await adminPage.locator('#annotators tr[data-annotator="alice"] td').nth(2).textContent(), '3');
    await adminPage.click('button:text("Export now")');
    await adminPage.waitForSelector('p.ok');
    await adminPage.screenshot({ path: join(SHOTS, 'admin.png'), fullPage: true });
    assert.ok(existsSync(join(dir, 'web-export', 'helpsteer2', 'preference.jsonl')));
    // an annotator cannot open it
    assert.equal((await page.goto(`${url}/admin`))!.status(), 403);
    for (const f of ['annotator-guidelines.png', 'annotator-task.png', 'admin.png']) assert.ok(statSync(join(SHOTS, f)).size > 20_000, `${f} shows a rendered page`);

    // export → data prepare → rm train, as the README says
    const exp = steer(['annotate', 'export', '--db', db, '--out', '@export', '--quiet']);
    assert.match(exp, /exported \d+ tasks/);
    steer(['data', 'prepare', '--preferences', '@export/helpsteer2/preference.jsonl', '--ratings', '@export/helpsteer2/disagreements.jsonl', '--out', '@prepared', '--quiet']);
    const pairs = readFileSync(join(dir, 'prepared', 'pairs-train.jsonl'), 'utf8').trim().split('\n');
    assert.ok(pairs.length >= 5, `${pairs.length} pairs`);
    const rated = readFileSync(join(dir, 'prepared', 'ratings-train.jsonl'), 'utf8').trim().split('\n');
    assert.ok(rated.length >= 2 * pairs.length, `${rated.length} rated responses`);
    const sbt = steer(['rm', 'train', '--loss', 'scaled-bt', '--pairs', '@prepared/pairs-train.jsonl', '--steps', '2', '--batch-size', '4', ...TINY, '--out', '@rm/sbt', '--quiet']);
    assert.match(sbt, /written to .*rm\/sbt\/model after 2 steps/);
  } finally {
    await browser?.close();
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
