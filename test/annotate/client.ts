// A studio client over HTTP, as a browser behaves: the sign-in form with its double-submit cookie,
// the session cookie, the CSRF token from the page's meta tag. Used by the tests and the load bench.
import type { Answer } from '../../src/annotate/store.js';

export interface StudioClient {
  base: string;
  cookie: string;
  csrf: string;
}

const cookieOf = (res: Response, name: string): string | undefined => {
  for (const c of res.headers.getSetCookie()) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(c);
    if (m) return m[1];
  }
  return undefined;
};

export async function signIn(base: string, token: string): Promise<StudioClient> {
  const page = await fetch(`${base}/login`);
  const loginCookie = cookieOf(page, 'steer_login');
  const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!loginCookie || !loginCsrf) throw new Error('sign-in page without its CSRF token');
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `steer_login=${loginCookie}` },
    body: new URLSearchParams({ token, _csrf: loginCsrf }).toString(),
  });
  const session = cookieOf(res, 'steer_session');
  if (res.status !== 303 || !session) throw new Error(`sign-in refused: ${res.status}`);
  const client = { base, cookie: `steer_session=${session}`, csrf: '' };
  const home = await fetch(`${base}/history`, { headers: { Cookie: client.cookie } });
  client.csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(await home.text())?.[1] ?? '';
  return client;
}

/** The task the studio hands out next (null when none is left). */
export async function nextTaskId(c: StudioClient): Promise<number | null> {
  const res = await fetch(`${c.base}/`, { redirect: 'manual', headers: { Cookie: c.cookie } });
  const loc = res.headers.get('location');
  await res.text();
  const m = loc ? /^\/task\/(\d+)$/.exec(loc) : null;
  return m ? Number(m[1]) : null;
}

export async function submit(c: StudioClient, taskId: number, answer: Answer | unknown, opts: { csrf?: string | null } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Cookie: c.cookie };
  const csrf = opts.csrf === undefined ? c.csrf : opts.csrf;
  if (csrf !== null) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(`${c.base}/api/answer/${taskId}`, { method: 'POST', headers, body: JSON.stringify(answer) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
