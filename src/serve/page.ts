// The chat page `steer serve` answers at GET /: one self-contained HTML file (no CDN, works
// offline) over the same API the openai client uses.
//   Chat     a conversation with a chosen policy, streamed token by token (/v1/chat/completions,
//            stream: true), with temperature / top-p / max tokens / seed.
//   Compare  one prompt, every checked policy answering side by side, each answer with its
//            length in characters and, when the server has a reward model, its reward
//            (/v1/rewards); "Run the probes" runs the strawberry family, one row per probe.
// The server lists its policies and reward models at /health; an API key typed into the page is
// sent as a Bearer token.
import { PROBE_TASKS } from '../data/toy/world.js';
import { makeTask, renderPrompt } from '../data/toy/tasks.js';

/** The probes of the compare view: the toy world's strawberry family, worded as the demo's report asks them. */
export const PROBES: readonly string[] = PROBE_TASKS.map((p) => renderPrompt(makeTask('count', p), 0));

export function chatPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>steer serve</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f6f7}
header{background:#233044;color:#fff;padding:10px 18px;display:flex;gap:18px;align-items:center}
header h1{font-size:17px;margin:0}header button{background:none;border:0;color:#cfd8e6;font-size:15px;cursor:pointer;padding:4px 8px}
header button.on{color:#fff;border-bottom:2px solid #7fb3ff}header input{margin-left:auto;width:160px}
main{max-width:1200px;margin:0 auto;padding:14px 18px}
.bar{display:flex;gap:12px;flex-wrap:wrap;align-items:center;margin-bottom:10px}.bar label{font-size:13px;color:#555}
.bar input[type=number]{width:70px}
#log{background:#fff;border:1px solid #ddd;border-radius:8px;min-height:320px;padding:12px;overflow:auto}
.msg{margin:8px 0;white-space:pre-wrap}.msg b{display:block;font-size:12px;color:#667}.user{color:#233044}.assistant{color:#0d4d2a}
.err{color:#b00020;white-space:pre-wrap}
textarea{width:100%;box-sizing:border-box;font:inherit;padding:8px;border-radius:6px;border:1px solid #bbb}
button.go{background:#2d6cdf;color:#fff;border:0;border-radius:6px;padding:7px 16px;cursor:pointer}button.go:disabled{background:#99a}
#cols{display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(260px,1fr))}
.col{background:#fff;border:1px solid #ddd;border-radius:8px;padding:10px}.col h3{margin:0 0 6px;font-size:14px}
.answer{white-space:pre-wrap;min-height:60px}.meta{font-size:12px;color:#555;margin-top:6px;border-top:1px solid #eee;padding-top:4px}
table{border-collapse:collapse;width:100%;background:#fff;margin-top:12px}td,th{border:1px solid #ddd;padding:6px;vertical-align:top;text-align:left;white-space:pre-wrap;font-size:13px}
</style></head><body>
<header><h1>steer serve</h1><button id="tab-chat" class="on">Chat</button><button id="tab-compare">Compare</button>
<input id="key" type="password" placeholder="API key (if any)"></header>
<main>
<section id="chat">
  <div class="bar"><label>policy <select id="model"></select></label>
  <label>temperature <input id="temperature" type="number" min="0" max="2" step="0.1" value="0"></label>
  <label>top-p <input id="top_p" type="number" min="0.01" max="1" step="0.05" value="1"></label>
  <label>max tokens <input id="max_tokens" type="number" min="1" placeholder="to the end"></label>
  <label>seed <input id="seed" type="number" min="0" value="0"></label>
  <button id="clear">New chat</button></div>
  <div id="log"></div>
  <div class="bar" style="margin-top:10px"><textarea id="input" rows="3" placeholder="Type a message; Enter sends, Shift+Enter breaks the line"></textarea>
  <button id="send" class="go">Send</button></div>
</section>
<section id="compare" hidden>
  <div class="bar" id="policies"></div>
  <div class="bar"><textarea id="cprompt" rows="2">How many r in strawberry?</textarea></div>
  <div class="bar"><button id="run" class="go">Compare</button><button id="probes" class="go">Run the probes</button><span id="rm"></span></div>
  <div id="cols"></div>
  <table id="probe-table" hidden></table>
</section>
</main>
<script>
const PROBES = ${JSON.stringify(PROBES)};
const $ = (id) => document.getElementById(id);
let info = { models: [], reward_models: [] };
let history = [];
const headers = () => ({ 'content-type': 'application/json', ...($('key').value ? { authorization: 'Bearer ' + $('key').value } : {}) });
$('key').value = localStorage.getItem('steer-key') || '';
$('key').onchange = () => localStorage.setItem('steer-key', $('key').value);
const num = (id) => Number($(id).value);
// an empty max tokens lets the answer run to its end-of-sequence token or the model's context
const settings = () => ({ temperature: num('temperature'), top_p: num('top_p'), seed: num('seed'), ...($('max_tokens').value ? { max_tokens: num('max_tokens') } : {}) });

/** Stream a chat completion: onText(piece) per delta; resolves with {text, finish}; rejects with the server's message. */
async function streamChat(model, messages, onText) {
  const res = await fetch('/v1/chat/completions', { method: 'POST', headers: headers(), body: JSON.stringify({ model, messages, stream: true, ...settings() }) });
  if (!res.ok) throw new Error((await res.json()).error.message);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '', text = '', finish = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\\n\\n')) >= 0) {
      const line = buf.slice(0, i).replace(/^data: /, '');
      buf = buf.slice(i + 2);
      if (line === '[DONE]') continue;
      const ev = JSON.parse(line);
      if (ev.error) throw new Error(ev.error.message);
      for (const c of ev.choices) {
        if (c.delta && c.delta.content) { text += c.delta.content; onText(c.delta.content); }
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
  }
  return { text, finish };
}

function add(role, text) {
  const d = document.createElement('div');
  d.className = 'msg ' + role;
  d.innerHTML = '<b></b><span></span>';
  d.querySelector('b').textContent = role;
  d.querySelector('span').textContent = text;
  $('log').appendChild(d);
  return d.querySelector('span');
}

async function send() {
  const content = $('input').value;
  if (!content.trim()) return;
  $('input').value = '';
  $('send').disabled = true;
  history.push({ role: 'user', content });
  add('user', content);
  const span = add('assistant', '');
  span.parentElement.dataset.state = 'streaming';
  try {
    const r = await streamChat($('model').value, history, (p) => { span.textContent += p; });
    history.push({ role: 'assistant', content: r.text });
    span.parentElement.dataset.finish = r.finish;
  } catch (e) {
    history.pop();
    span.parentElement.className = 'msg err';
    span.textContent = e.message;
  }
  span.parentElement.dataset.state = 'done';
  $('send').disabled = false;
}

async function reward(prompt, response) {
  if (info.reward_models.length === 0) return null;
  const res = await fetch('/v1/rewards', { method: 'POST', headers: headers(), body: JSON.stringify({ items: [{ prompt, response }] }) });
  const b = await res.json();
  return res.ok ? b.rewards[0] : null;
}

const chosen = () => [...document.querySelectorAll('#policies input:checked')].map((x) => x.value);

async function compare(prompt, into) {
  const models = chosen();
  into.innerHTML = '';
  const cells = models.map((m) => {
    const col = document.createElement('div');
    col.className = 'col';
    col.dataset.model = m;
    col.innerHTML = '<h3></h3><div class="answer"></div><div class="meta"></div>';
    col.querySelector('h3').textContent = m;
    into.appendChild(col);
    return col;
  });
  return Promise.all(models.map(async (m, k) => {
    const a = cells[k].querySelector('.answer');
    try {
      const r = await streamChat(m, [{ role: 'user', content: prompt }], (p) => { a.textContent += p; });
      const rw = await reward(prompt, r.text);
      cells[k].querySelector('.meta').textContent = r.text.length + ' chars' + (rw === null ? '' : ' · reward ' + rw.toFixed(3));
      cells[k].dataset.state = 'done';
      return { model: m, text: r.text, reward: rw };
    } catch (e) {
      a.className = 'answer err';
      a.textContent = e.message;
      cells[k].dataset.state = 'done';
      return { model: m, text: '', reward: null, error: e.message };
    }
  }));
}

async function probes() {
  const t = $('probe-table');
  const models = chosen();
  t.hidden = false;
  t.innerHTML = '';
  const head = t.insertRow();
  for (const h of ['probe', ...models]) { const th = document.createElement('th'); th.textContent = h; head.appendChild(th); }
  for (const p of PROBES) {
    const row = t.insertRow();
    row.insertCell().textContent = p;
    const tmp = document.createElement('div');
    const res = await compare(p, tmp);
    for (const r of res) row.insertCell().textContent = (r.error ? 'error: ' + r.error : r.text) + '\\n— ' + r.text.length + ' chars' + (r.reward === null ? '' : ', reward ' + r.reward.toFixed(3));
  }
  t.dataset.state = 'done';
}

function tab(name) {
  $('chat').hidden = name !== 'chat';
  $('compare').hidden = name !== 'compare';
  $('tab-chat').className = name === 'chat' ? 'on' : '';
  $('tab-compare').className = name === 'compare' ? 'on' : '';
}

$('tab-chat').onclick = () => tab('chat');
$('tab-compare').onclick = () => tab('compare');
$('send').onclick = send;
$('input').onkeydown = (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); send(); } };
$('clear').onclick = () => { history = []; $('log').innerHTML = ''; };
$('run').onclick = async () => { $('run').disabled = true; $('cols').dataset.state = 'running'; await compare($('cprompt').value, $('cols')); $('cols').dataset.state = 'done'; $('run').disabled = false; };
$('probes').onclick = async () => { $('probes').disabled = true; await probes(); $('probes').disabled = false; };

fetch('/health').then((r) => r.json()).then((h) => {
  info = h;
  for (const m of h.models) {
    const o = document.createElement('option');
    o.textContent = m;
    $('model').appendChild(o);
    const l = document.createElement('label');
    l.innerHTML = '<input type="checkbox" checked> <span></span>';
    l.querySelector('input').value = m;
    l.querySelector('span').textContent = m;
    $('policies').appendChild(l);
  }
  $('rm').textContent = h.reward_models.length ? 'scored by reward model ' + h.reward_models[0] : 'no reward model (start with --reward-model DIR to score answers)';
  document.body.dataset.ready = '1';
});
</script></body></html>
`;
}
