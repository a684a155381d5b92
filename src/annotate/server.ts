// The studio's HTTP server (hono on node:http): sign-in with a per-annotator token, the task page,
// autosaved drafts, answers, one's own history, and the admin page with export.
//
// Security, in one place:
// - tokens are stored as SHA-256 hashes (store.ts); a session is a random cookie (HttpOnly,
//   SameSite=Strict) whose hash is stored, with its own CSRF token;
// - every POST checks the session's CSRF token (X-CSRF-Token header or _csrf form field); the
//   sign-in form checks a double-submit cookie;
// - annotators reach only their own tasks, drafts and answers; /admin needs the admin role;
// - request bodies are capped (64 KiB) and every field has a length limit (store.ts, import.ts);
// - static files come from a fixed table of two names, so no request path reaches the disk;
// - pages escape every value (html.ts) and the content security policy allows no inline script.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { bodyLimit } from 'hono/body-limit';
import { serve } from '@hono/node-server';
import { isUserError } from '../util/errors.js';
import { DEFAULT_ASSIGNMENT, type AssignmentOptions } from './assign.js';
import { exportStudio } from './export.js';
import { adminPage, historyPage, loginPage, messagePage, taskPage } from './pages.js';
import { studioStats } from './stats.js';
import type { AnnotationStore, SessionInfo } from './store.js';

export const SESSION_COOKIE = 'steer_session';
export const LOGIN_COOKIE = 'steer_login';
export const MAX_BODY_BYTES = 64 * 1024;

export interface StudioOptions {
  store: AnnotationStore;
  assignment?: AssignmentOptions;
  /** Where the admin page's export button writes. */
  exportDir: string;
  /** Clock (tests move it to expire leases). */
  now?: () => number;
}

const STATIC: Record<string, { file: string; type: string }> = {
  '/static/annotate.js': { file: 'annotate.js', type: 'text/javascript; charset=utf-8' },
  '/static/annotate.css': { file: 'annotate.css', type: 'text/css; charset=utf-8' },
};

/** The folder of annotate.js/.css: beside this module (source), or in the package's src (built). */
function staticDir(): string {
  for (const rel of ['./static/', '../../src/annotate/static/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir + 'annotate.js')) return dir;
  }
  throw new Error('annotate: static files (annotate.js, annotate.css) not found beside the module');
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length || a.length > 200) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

type Env = { Variables: { session: SessionInfo | null; form: Record<string, string> | null } };

/** The studio as a hono app (fetch handler); `startStudio` serves it. */
export function studioApp(opts: StudioOptions): Hono<Env> {
  const { store, exportDir } = opts;
  const assignment = opts.assignment ?? DEFAULT_ASSIGNMENT;
  const now = opts.now ?? Date.now;
  const dir = staticDir();
  const files = Object.fromEntries(Object.entries(STATIC).map(([path, f]) => [path, { body: readFileSync(dir + f.file, 'utf8'), type: f.type }]));
  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  });
  app.use(
    '*',
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => (wantsJson(c) ? c.json({ error: { message: `request body larger than ${MAX_BODY_BYTES} bytes` } }, 413) : c.text('request body too large', 413)) }),
  );
  // Session and, on POST, the CSRF check: before any handler runs.
  app.use('*', async (c, next) => {
    c.set('session', store.session(getCookie(c, SESSION_COOKIE), now()));
    c.set('form', null);
    if (c.req.method === 'POST' && c.req.path !== '/login') {
      const s = c.get('session');
      if (!s) return wantsJson(c) ? c.json({ error: { message: 'not signed in' } }, 401) : c.redirect('/login', 303);
      let token = c.req.header('x-csrf-token');
      if (token === undefined && (c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
        const form = await c.req.parseBody();
        const fields: Record<string, string> = {};
        for (const [k, v] of Object.entries(form)) if (typeof v === 'string') fields[k] = v;
        c.set('form', fields);
        token = fields._csrf;
      }
      if (!sameToken(token, s.csrf)) return wantsJson(c) ? c.json({ error: { message: 'missing or wrong CSRF token: reload the page' } }, 403) : c.html(messagePage('Refused', 'The form was not sent from this studio (missing or wrong CSRF token). Reload the page and try again.'), 403);
    }
    await next();
  });

  app.get('/static/:name', (c) => {
    const f = files[c.req.path];
    if (!f) return c.text('not found', 404);
    return c.body(f.body, 200, { 'Content-Type': f.type });
  });
  app.get('/healthz', (c) => c.text('ok'));

  app.get('/login', (c) => {
    const loginCsrf = randomBytes(24).toString('base64url');
    setCookie(c, LOGIN_COOKIE, loginCsrf, { httpOnly: true, sameSite: 'Strict', path: '/login' });
    return c.html(loginPage(loginCsrf));
  });
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const fresh = () => {
      const t = randomBytes(24).toString('base64url');
      setCookie(c, LOGIN_COOKIE, t, { httpOnly: true, sameSite: 'Strict', path: '/login' });
      return t;
    };
    if (!sameToken(typeof form._csrf === 'string' ? form._csrf : undefined, getCookie(c, LOGIN_COOKIE))) return c.html(loginPage(fresh(), 'The sign-in form expired; try again.'), 403);
    const who = store.authenticate(typeof form.token === 'string' ? form.token.trim() : '');
    if (!who) return c.html(loginPage(fresh(), 'Unknown or revoked token.'), 401);
    const { session } = store.createSession(who.id, undefined, now());
    deleteCookie(c, LOGIN_COOKIE, { path: '/login' });
    setCookie(c, SESSION_COOKIE, session, { httpOnly: true, sameSite: 'Strict', path: '/' });
    return c.redirect(who.role === 'admin' ? '/admin' : '/', 303);
  });
  app.post('/logout', (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) store.endSession(cookie);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });

  // Everything below needs a session.
  const signedIn = (c: Context<Env>): SessionInfo | null => c.get('session');

  app.get('/', (c) => {
    const s = signedIn(c);
    if (!s) return c.redirect('/login', 303);
    if (s.annotator.role === 'admin') return c.redirect('/admin', 303);
    const task = store.nextTask(s.annotator.id, assignment, now());
    if (!task) {
      const p = store.progressOf(s.annotator.id, now());
      return c.html(messagePage('All done', `No task is waiting for you (you have answered ${p.answered}). Come back later, or review your answers.`, { csrf: s.csrf, user: s.annotator }));
    }
    return c.redirect(`/task/${task.id}`, 303);
  });

  const taskId = (c: Context<Env>) => {
    const id = Number(c.req.param('id'));
    return Number.isSafeInteger(id) && id > 0 ? id : null;
  };

  app.get('/task/:id', (c) => {
    const s = signedIn(c);
    if (!s) return c.redirect('/login', 303);
    const id = taskId(c);
    const task = id === null ? undefined : store.getTask(id);
    if (!task || s.annotator.role !== 'annotator' || !store.isAssigned(task.id, s.annotator.id)) {
      return c.html(messagePage('Not yours', 'This task is not assigned to you.', { csrf: s.csrf, user: s.annotator }), 403);
    }
    const answer = store.answer(task.id, s.annotator.id);
    const initial = answer ? { flags: answer.flags, ratings: answer.ratings, unsafe: answer.unsafe, preference: answer.preference, justification: answer.justification } : store.draft(task.id, s.annotator.id);
    const p = store.progressOf(s.annotator.id, now());
    return c.html(taskPage(task, s.annotator, s.csrf, { initial, editing: answer !== undefined, answered: p.answered, available: p.available }));
  });

  const jsonBody = async (c: Context<Env>): Promise<unknown> => {
    try {
      return await c.req.json();
    } catch {
      return Symbol.for('bad-json');
    }
  };

  app.post('/api/answer/:id', async (c) => {
    const s = signedIn(c)!;
    const id = taskId(c);
    if (id === null || s.annotator.role !== 'annotator' || !store.isAssigned(id, s.annotator.id)) return c.json({ error: { message: 'this task is not assigned to you' } }, 403);
    const body = await jsonBody(c);
    if (typeof body === 'symbol') return c.json({ error: { message: 'the body is not JSON' } }, 400);
    try {
      const r = store.submitAnswer(id, s.annotator.id, body as never, assignment, now());
      return c.json({ saved: true, taskId: id, ...r, next: '/' });
    } catch (e) {
      if (isUserError(e)) return c.json({ error: { message: e.detail.what, field: e.detail.where } }, 400);
      throw e;
    }
  });

  app.post('/api/draft/:id', async (c) => {
    const s = signedIn(c)!;
    const id = taskId(c);
    if (id === null || s.annotator.role !== 'annotator' || !store.isAssigned(id, s.annotator.id)) return c.json({ error: { message: 'this task is not assigned to you' } }, 403);
    const body = await jsonBody(c);
    if (typeof body === 'symbol' || body === null || typeof body !== 'object') return c.json({ error: { message: 'the body is not a JSON object' } }, 400);
    store.saveDraft(id, s.annotator.id, body, now());
    return c.json({ drafted: true });
  });

  app.get('/history', (c) => {
    const s = signedIn(c);
    if (!s) return c.redirect('/login', 303);
    return c.html(historyPage(s.annotator, s.csrf, store.answersBy(s.annotator.id, 50)));
  });

  const admin = (c: Context<Env>) => {
    const s = signedIn(c);
    return s && s.annotator.role === 'admin' ? s : null;
  };
  app.get('/admin', (c) => {
    const s = signedIn(c);
    if (!s) return c.redirect('/login', 303);
    if (!admin(c)) return c.html(messagePage('Admins only', 'This page is for the studio admin.', { csrf: s.csrf, user: s.annotator }), 403);
    return c.html(adminPage(s.annotator, s.csrf, studioStats(store, { now: now() }), exportDir));
  });
  app.post('/admin/export', (c) => {
    const s = admin(c);
    if (!s) return c.html(messagePage('Admins only', 'This page is for the studio admin.'), 403);
    const r = exportStudio(store, { out: exportDir });
    const msg = `Exported ${r.tasks} finished tasks (${r.answers} answers; ${r.tasksSkippedIncomplete} unfinished tasks left out) to ${exportDir}.`;
    return c.html(adminPage(s.annotator, s.csrf, studioStats(store, { now: now() }), exportDir, msg));
  });

  app.notFound((c) => (wantsJson(c) ? c.json({ error: { message: 'not found' } }, 404) : c.html(messagePage('Not found', 'There is no such page.'), 404)));
  app.onError((e, c) => {
    process.stderr.write(`steer annotate: internal error on ${c.req.method} ${c.req.path}: ${(e as Error).stack ?? e}\n`);
    return wantsJson(c) ? c.json({ error: { message: 'internal error' } }, 500) : c.text('internal error', 500);
  });
  return app;
}

function wantsJson(c: Context): boolean {
  return c.req.path.startsWith('/api/');
}

export interface RunningStudio {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serve the studio on host:port (port 0 = any free port). */
export function startStudio(opts: StudioOptions & { port?: number; host?: string }): Promise<RunningStudio> {
  const app = studioApp(opts);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: opts.port ?? 8080, hostname: opts.host ?? '127.0.0.1' }, (info: AddressInfo) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        server: server as Server,
        close: () => new Promise<void>((res) => (server as Server).close(() => res())),
      });
    }) as Server;
    server.once('error', reject);
  });
}
