// The studio over HTTP: wrong tokens, forged forms, other annotators' answers and the admin page
// refused; bodies capped; no path leaves the static table; model output escaped; and a server
// killed in the middle of saves leaves every answer whole or absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnotationStore } from '../../src/annotate/store.js';
import { startStudio } from '../../src/annotate/server.js';
import { repoRoot } from '../helpers/shared.js';
import { answer } from './helpers.js';
import { nextTaskId, signIn, submit } from './client.js';

const XSS = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>';

async function studio() {
  const dir = mkdtempSync(join(tmpdir(), 'steer-annotate-http-'));
  const store = new AnnotationStore(join(dir, 'studio.db'));
  store.addTasks([
    { prompt: `Say ${XSS}`, response1: XSS, response2: 'plain "quoted" & <b>bold</b>', source: 't:1' },
    { prompt: 'Second', response1: 'a', response2: 'b', source: 't:2' },
  ]);
  const tokens = { alice: store.addAnnotator('alice').token, bob: store.addAnnotator('bob').token, boss: store.addAnnotator('boss', 'admin').token };
  const s = await startStudio({ store, exportDir: join(dir, 'export'), port: 0 });
  return {
    ...s,
    store,
    tokens,
    dir,
    async stop() {
      s.server.closeAllConnections();
      await s.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('sign-in: a wrong token and a sign-in form without its cookie are refused', async () => {
  const s = await studio();
  try {
    await assert.rejects(signIn(s.url, 'not-a-token'), /sign-in refused: 401/);
    await assert.rejects(signIn(s.url, s.tokens.alice.slice(1)), /sign-in refused: 401/);
    const forged = await fetch(`${s.url}/login`, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `token=${s.tokens.alice}&_csrf=guess` });
    assert.equal(forged.status, 403);
    const c = await signIn(s.url, s.tokens.alice);
    assert.ok(c.csrf.length > 20);
    // no session: pages redirect to sign-in, the API says 401
    assert.equal((await fetch(`${s.url}/`, { redirect: 'manual' })).status, 303);
    assert.equal((await fetch(`${s.url}/api/answer/1`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status, 401);
  } finally {
    await s.stop();
  }
});

test('a forged form (no or wrong CSRF token) is refused and nothing is saved', async () => {
  const s = await studio();
  try {
    const c = await signIn(s.url, s.tokens.alice);
    const id = (await nextTaskId(c))!;
    assert.equal((await submit(c, id, answer(3, 2, 1), { csrf: null })).status, 403);
    assert.equal((await submit(c, id, answer(3, 2, 1), { csrf: 'x'.repeat(c.csrf.length) })).status, 403);
    // a cross-site HTML form cannot set the header; a form body without _csrf is refused too
    const form = await fetch(`${s.url}/logout`, { method: 'POST', redirect: 'manual', headers: { Cookie: c.cookie, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'x=1' });
    assert.equal(form.status, 403);
    assert.equal(s.store.allAnswers().length, 0);
    const ok = await submit(c, id, answer(3, 2, 1));
    assert.equal(ok.status, 200);
    assert.deepEqual([ok.body.saved, ok.body.revision, ok.body.seq], [true, 1, 1]);
    const bad = await submit(c, id, answer(7, 2, 1));
    assert.equal(bad.status, 400);
    assert.match(String((bad.body.error as { message: string }).message), /helpfulness is invalid: an integer in \[0, 4\]/);
  } finally {
    await s.stop();
  }
});

test('annotators see only their own tasks and answers; the admin page is the admin\'s', async () => {
  const s = await studio();
  try {
    const alice = await signIn(s.url, s.tokens.alice);
    const bob = await signIn(s.url, s.tokens.bob);
    const id = (await nextTaskId(alice))!;
    await submit(alice, id, answer(3, 2, 1, { justification: 'Alice secret justification words that only alice should ever read here.' }));
    // bob's next task is task 1 too (3 annotators), but he cannot open task 2 which he was never given
    const bobTask = (await nextTaskId(bob))!;
    assert.equal(bobTask, id);
    const page = await (await fetch(`${s.url}/task/${bobTask}`, { headers: { Cookie: bob.cookie } })).text();
    assert.equal(page.includes('Alice secret'), false);
    assert.equal((await fetch(`${s.url}/task/2`, { headers: { Cookie: bob.cookie } })).status, 403);
    assert.equal((await submit(bob, 2, answer(3, 2, 1))).status, 403);
    const hist = await (await fetch(`${s.url}/history`, { headers: { Cookie: bob.cookie } })).text();
    assert.equal(hist.includes(`/task/${id}`), false);
    assert.equal((await fetch(`${s.url}/admin`, { headers: { Cookie: alice.cookie } })).status, 403);
    assert.equal((await fetch(`${s.url}/admin/export`, { method: 'POST', headers: { Cookie: alice.cookie, 'X-CSRF-Token': alice.csrf } })).status, 403);
    const boss = await signIn(s.url, s.tokens.boss);
    const admin = await fetch(`${s.url}/admin`, { headers: { Cookie: boss.cookie } });
    assert.equal(admin.status, 200);
    assert.match(await admin.text(), /<tr data-annotator="alice"><td>alice<\/td><td>annotator<\/td><td>1<\/td>/);
  } finally {
    await s.stop();
  }
});

test('pages escape model output; static files cannot be walked out of; bodies are capped; headers set', async () => {
  const s = await studio();
  try {
    const c = await signIn(s.url, s.tokens.alice);
    const res = await fetch(`${s.url}/task/${(await nextTaskId(c))!}`, { headers: { Cookie: c.cookie } });
    const page = await res.text();
    assert.equal(page.includes('<script>document'), false);
    assert.equal(page.includes('<img src=x'), false);
    assert.ok(page.includes('&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(page.includes('plain &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;'));
    assert.equal((page.match(/<script/g) ?? []).length, 1, 'one script tag: /static/annotate.js');
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const js = await fetch(`${s.url}/static/annotate.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    for (const p of ['/static/../../package.json', '/static/..%2f..%2fpackage.json', '/static/%2e%2e/store.ts', '/static/annotate.ts', '/static/', '/../package.json']) {
      const r = await fetch(`${s.url}${p}`);
      assert.equal(r.status, 404, p);
      assert.equal((await r.text()).includes('"name": "steer"'), false, p);
    }
    const big = await fetch(`${s.url}/api/draft/1`, { method: 'POST', headers: { Cookie: c.cookie, 'X-CSRF-Token': c.csrf, 'Content-Type': 'application/json' }, body: JSON.stringify({ x: 'y'.repeat(70_000) }) });
    assert.equal(big.status, 413);
    const notJson = await fetch(`${s.url}/api/answer/1`, { method: 'POST', headers: { Cookie: c.cookie, 'X-CSRF-Token': c.csrf, 'Content-Type': 'application/json' }, body: '{nope' });
    assert.equal(notJson.status, 400);
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200, 'still serving after bad requests');
  } finally {
    await s.stop();
  }
});

test('killed in the middle of saving: every answer is whole or absent, every acknowledged one is there', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-annotate-kill-'));
  const db = join(dir, 'studio.db');
  const store = new AnnotationStore(db);
  store.addTasks(Array.from({ length: 300 }, (_, i) => ({ prompt: `prompt ${i}`, response1: `a${i}`, response2: `b${i}`, source: `k:${i}` })));
  const tokens = Array.from({ length: 8 }, (_, i) => store.addAnnotator(`w${i}`).token);
  store.close();
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/bin.ts'), 'annotate', 'serve', '--db', db, '--port', '0', '--quiet'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const clients = await Promise.all(tokens.map((t) => signIn(url, t)));
    const acked: [string, number][] = [];
    let killed = false;
    const worker = async (c: (typeof clients)[number], name: string) => {
      while (!killed) {
        try {
          const id = await nextTaskId(c);
          if (id === null) return;
          const r = await submit(c, id, answer(id % 5, (id + 1) % 5, 1));
          if (r.status === 200) acked.push([name, id]);
        } catch {
          return; // the server is gone
        }
      }
    };
    const running = clients.map((c, i) => worker(c, `w${i}`));
    while (acked.length < 60) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    killed = true;
    await Promise.all(running);

    const after = new AnnotationStore(db);
    try {
      assert.equal(after.db.pragma('integrity_check', { simple: true }), 'ok');
      const rows = after.db.prepare('SELECT a.task_id, n.name, a.body, a.helpfulness_1, a.helpfulness_2, a.seq FROM answers a JOIN annotators n ON n.id = a.annotator_id').all() as { task_id: number; name: string; body: string; helpfulness_1: number; helpfulness_2: number; seq: number }[];
      const have = new Set(rows.map((r) => `${r.name}:${r.task_id}`));
      for (const [name, id] of acked) assert.ok(have.has(`${name}:${id}`), `acknowledged answer ${name}:${id} is in the database`);
      for (const r of rows) {
        const body = JSON.parse(r.body);
        assert.deepEqual([body.ratings[0].helpfulness, body.ratings[1].helpfulness], [r.helpfulness_1, r.helpfulness_2], 'the row is whole');
        assert.deepEqual([r.helpfulness_1, r.helpfulness_2], [r.task_id % 5, (r.task_id + 1) % 5]);
      }
      // the lease of every saved answer was released in the same transaction
      assert.equal(after.db.prepare('SELECT COUNT(*) FROM answers a JOIN leases l ON l.task_id = a.task_id AND l.annotator_id = a.annotator_id').pluck().get(), 0);
      // seq is 1..n within each task with no gap
      const gaps = after.db.prepare('SELECT task_id FROM answers GROUP BY task_id HAVING MAX(seq) != COUNT(*)').all();
      assert.deepEqual(gaps, []);
      assert.ok(rows.length >= acked.length);
    } finally {
      after.close();
    }
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
