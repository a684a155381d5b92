// The studio's pages, rendered on the server. Every value goes through html.ts's escaping; the
// only script is /static/annotate.js (the content security policy forbids inline scripts).
import { splitHelpSteer2Prompt } from '../data/helpsteer2.js';
import { ATTRIBUTE_GUIDELINES, GUIDELINE_SOURCE, JUSTIFICATION_WORDS, PREFERENCE_OPTIONS, TASK_FLAGS, UNSAFE_GUIDELINE } from './guidelines.js';
import { html, jsonAttr, type SafeHtml } from './html.js';
import type { Annotator, StoredAnswer, Task } from './store.js';
import type { StudioStats } from './stats.js';

function layout(title: string, body: SafeHtml, opts: { csrf?: string; user?: Annotator; page?: string } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${opts.csrf ? html`<meta name="csrf-token" content="${opts.csrf}">` : ''}
<title>${title} · steer annotate</title>
<link rel="stylesheet" href="/static/annotate.css">
<script src="/static/annotate.js" defer></script>
</head>
<body data-page="${opts.page ?? 'plain'}">
<header class="bar">
  <strong>steer annotate</strong>
  ${opts.user ? html`<nav>${opts.user.role === 'admin' ? html`<a href="/admin">admin</a>` : html`<a href="/">next task</a> <a href="/history">my answers</a>`}
  <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${opts.csrf ?? ''}"><button type="submit">sign out ${opts.user.name}</button></form></nav>` : ''}
</header>
<main>
${body}
</main>
</body>
</html>
`.value;
}

export function loginPage(loginCsrf: string, error?: string): string {
  return layout(
    'Sign in',
    html`<section class="card narrow">
<h1>Sign in</h1>
<p>Paste the token your coordinator gave you (from <code>steer annotate tokens</code>).</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/login">
  <input type="hidden" name="_csrf" value="${loginCsrf}">
  <label>Token <input type="password" name="token" autocomplete="current-password" autofocus required maxlength="200"></label>
  <button type="submit">Sign in</button>
</form>
</section>`,
    { page: 'login' },
  );
}

export function messagePage(title: string, message: string, opts: { csrf?: string; user?: Annotator } = {}): string {
  return layout(title, html`<section class="card narrow"><h1>${title}</h1><p>${message}</p></section>`, opts);
}

function conversation(prompt: string): SafeHtml {
  const turns = splitHelpSteer2Prompt(prompt);
  return html`<div class="conversation">${turns.map((t) => html`<div class="turn ${t.role}"><div class="role">${t.role === 'user' ? 'User' : 'Assistant'}</div><pre>${t.content}</pre></div>`)}</div>`;
}

function ratingBlock(r: 0 | 1): SafeHtml {
  return html`<fieldset class="ratings" data-response="${r}">
<legend>Response ${r + 1} ratings</legend>
${ATTRIBUTE_GUIDELINES.map(
  (g) => html`<div class="field" data-field="r${r}.${g.attribute}" tabindex="-1">
  <span class="field-title" title="${g.question}">${g.title}</span>
  <span class="levels">${g.levels.map((text, v) => html`<label title="${v} — ${text}"><input type="radio" name="r${r}.${g.attribute}" value="${v}"><span>${v}</span></label>`)}</span>
  <span class="chosen" aria-live="polite"></span>
</div>`,
)}
<label class="flag"><input type="checkbox" name="r${r}.unsafe"> <kbd>u</kbd> Unsafe (fails the safety check) <span class="hint" title="${UNSAFE_GUIDELINE}">?</span></label>
</fieldset>`;
}

export interface TaskPageState {
  /** The answer being edited, or the autosaved draft, or nothing. */
  initial?: unknown;
  editing: boolean;
  answered: number;
  available: number;
}

export function taskPage(task: Task, user: Annotator, csrf: string, state: TaskPageState): string {
  const guide = ATTRIBUTE_GUIDELINES.map((g) => ({ attribute: g.attribute, title: g.title, question: g.question, levels: g.levels }));
  return layout(
    `Task ${task.id}`,
    html`<div class="progress">Task ${task.id}${state.editing ? ' (editing your answer)' : ''} · ${state.answered} answered · ${state.available} more available to you · <a href="#help" class="help-link">keys: <kbd>?</kbd></a></div>
<form id="task-form" data-task="${task.id}" data-editing="${state.editing ? '1' : '0'}" data-initial="${jsonAttr(state.initial ?? null)}" data-guide="${jsonAttr(guide)}" data-words="${jsonAttr(JUSTIFICATION_WORDS)}">
<section class="card">
  <h2>Prompt</h2>
  ${conversation(task.prompt)}
  <fieldset class="task-flags"><legend>Flag the task as invalid (then it is not rated)</legend>
  ${TASK_FLAGS.map((f) => html`<label class="flag" title="${f.help}"><input type="checkbox" name="flag.${f.id}"> <kbd>${f.key}</kbd> ${f.label}</label>`)}
  </fieldset>
</section>
<div class="responses">
  <section class="card response"><h2>Response 1</h2><pre class="response-text" id="response-1">${task.response1}</pre>${ratingBlock(0)}</section>
  <section class="card response"><h2>Response 2</h2><pre class="response-text" id="response-2">${task.response2}</pre>${ratingBlock(1)}</section>
</div>
<aside class="card guide" id="guide" aria-live="polite"><h3 id="guide-title">Guidelines</h3><p id="guide-question"></p><ol start="0" id="guide-levels"></ol>
<p class="source">Wording: ${GUIDELINE_SOURCE}.</p></aside>
<section class="card">
  <h2>Preference</h2>
  <div class="field" data-field="preference" tabindex="-1">
  ${PREFERENCE_OPTIONS.map((o) => html`<label class="pref"><input type="radio" name="preference" value="${o.value}"> <kbd>${o.key}</kbd> ${o.label}</label>`)}
  </div>
  <label class="justification">Justification: one or two sentences, ${JUSTIFICATION_WORDS.min}–${JUSTIFICATION_WORDS.max} words (<span id="word-count">0</span> words)
  <textarea name="justification" id="justification" rows="3" maxlength="2000"></textarea></label>
  <div class="actions"><button type="submit" id="save">Save answer <kbd>Ctrl</kbd>+<kbd>Enter</kbd></button> <span id="status" role="status" aria-live="polite"></span></div>
</section>
</form>
<section class="card help" id="help">
<h2>Keyboard</h2>
<ul>
<li><kbd>0</kbd>–<kbd>4</kbd> rate the highlighted attribute and move to the next; <kbd>↑</kbd>/<kbd>↓</kbd> (or <kbd>k</kbd>/<kbd>j</kbd>) move between attributes</li>
<li><kbd>u</kbd> marks the highlighted response unsafe; ${TASK_FLAGS.map((f) => html`<kbd>${f.key}</kbd> `)}flag the task (${TASK_FLAGS.map((f) => f.label).join(', ')})</li>
<li>preference: <kbd>1</kbd>–<kbd>6</kbd> (response 1 much better … response 2 much better), <kbd>n</kbd> neither is valid; then type the justification</li>
<li><kbd>Esc</kbd> leaves the text box; <kbd>Ctrl</kbd>+<kbd>Enter</kbd> saves and opens the next task. Your work is autosaved as you go.</li>
</ul>
</section>`,
    { csrf, user, page: 'task' },
  );
}

export function historyPage(user: Annotator, csrf: string, answers: readonly StoredAnswer[]): string {
  return layout(
    'My answers',
    html`<section class="card"><h1>My answers</h1>
${answers.length === 0 ? html`<p>No answers yet.</p>` : html`<table><thead><tr><th>task</th><th>helpfulness 1 / 2</th><th>preference</th><th>saved</th><th>revision</th><th></th></tr></thead><tbody>
${answers.map(
  (a) => html`<tr><td>${a.taskId}</td><td>${a.ratings ? `${a.ratings[0].helpfulness} / ${a.ratings[1].helpfulness}` : 'flagged: ' + a.flags.join(', ')}</td><td>${a.preference}</td><td>${new Date(a.updatedAt).toISOString().replace('T', ' ').slice(0, 19)}</td><td>${a.revision}</td><td><a href="/task/${a.taskId}">edit</a></td></tr>`,
)}
</tbody></table>`}
</section>`,
    { csrf, user },
  );
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export function adminPage(user: Annotator, csrf: string, s: StudioStats, exportDir: string, exported?: string): string {
  return layout(
    'Admin',
    html`<section class="card"><h1>Progress</h1>
<p id="progress-summary"><strong>${s.tasksComplete}</strong> of <strong>${s.tasks}</strong> tasks complete, ${s.tasksStarted} started; ${s.answersGiven} of ${s.answersWanted} answers wanted so far.</p>
<p>Agreement (quadratic-weighted Cohen's κ over within-task pairs): helpfulness <strong id="kappa-helpfulness">${fmt(s.helpfulness.kappaQuadratic)}</strong> (${s.helpfulness.pairs} pairs), preference strength <strong id="kappa-preference">${fmt(s.preference.kappaQuadratic)}</strong> (${s.preference.pairs} pairs).</p>
</section>
<section class="card"><h2>Annotators</h2>
<table id="annotators"><thead><tr><th>name</th><th>role</th><th>answers</th><th>last hour</th><th>median s / task</th><th>helpfulness κ vs others</th><th>pairs</th></tr></thead><tbody>
${s.annotators.map((a) => html`<tr data-annotator="${a.name}"><td>${a.name}${a.revoked ? ' (revoked)' : ''}</td><td>${a.role}</td><td>${a.answers}</td><td>${a.answersLastHour}</td><td>${fmt(a.medianSeconds, 1)}</td><td>${fmt(a.helpfulnessKappa)}</td><td>${a.pairs}</td></tr>`)}
</tbody></table></section>
<section class="card"><h2>Low agreement</h2>
${s.lowAgreement.length === 0 ? html`<p>No task's annotations span more than 2.</p>` : html`<table id="low-agreement"><thead><tr><th>task</th><th>answers / wanted</th><th>helpfulness spread</th><th>preference spread (3 most similar)</th></tr></thead><tbody>
${s.lowAgreement.map((t) => html`<tr><td>${t.taskId}</td><td>${t.answers} / ${t.target}</td><td>${t.helpfulnessSpread}</td><td>${fmt(t.preferenceSpread, 0)}</td></tr>`)}
</tbody></table>`}
</section>
<section class="card"><h2>Export</h2>
<p>Writes HelpSteer2 (aggregated and per-annotator) and HelpSteer2-Preference files of the finished tasks to <code>${exportDir}</code>.</p>
${exported ? html`<p class="ok" role="status">${exported}</p>` : ''}
<form method="post" action="/admin/export"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit">Export now</button></form>
</section>`,
    { csrf, user, page: 'admin' },
  );
}
