// steer annotate: the task page's keyboard, autosave and save. Plain browser JavaScript, no build
// step; served by the studio itself (src/annotate/server.ts). Every choice has a key:
//   0–4 rate the highlighted attribute (then the next is highlighted), ↑/↓ or k/j move,
//   u unsafe (highlighted response), p/e/c/a task flags, 1–6 and n the preference,
//   Enter on the preference goes to the justification, Esc leaves it, Ctrl+Enter saves.
'use strict';
(function () {
  const form = document.getElementById('task-form');
  if (!form) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const taskId = form.dataset.task;
  const guide = JSON.parse(form.dataset.guide);
  const words = JSON.parse(form.dataset.words);
  const ATTRS = guide.map((g) => g.attribute);
  const FLAG_KEYS = {};
  form.querySelectorAll('input[name^="flag."]').forEach((el) => {
    const key = el.parentElement.querySelector('kbd').textContent.trim();
    FLAG_KEYS[key] = el;
  });
  const PREF_KEYS = {};
  form.querySelectorAll('input[name="preference"]').forEach((el) => {
    PREF_KEYS[el.parentElement.querySelector('kbd').textContent.trim()] = el;
  });
  const fields = Array.from(form.querySelectorAll('.field[data-field]'));
  const justification = document.getElementById('justification');
  const status = document.getElementById('status');
  let cursor = 0;
  let saving = false;

  const radio = (name) => form.querySelector(`input[name="${name}"]:checked`);
  const setRadio = (name, value) => {
    const el = form.querySelector(`input[name="${name}"][value="${value}"]`);
    if (el) el.checked = true;
  };
  const flagged = () => Object.values(FLAG_KEYS).some((el) => el.checked);
  const countWords = (t) => (t.trim() === '' ? 0 : t.trim().split(/\s+/).length);

  function current() {
    const ratings = [0, 1].map((r) => {
      const out = {};
      for (const a of ATTRS) {
        const el = radio(`r${r}.${a}`);
        out[a] = el ? Number(el.value) : null;
      }
      return out;
    });
    const pref = radio('preference');
    return {
      flags: Object.entries(FLAG_KEYS).filter(([, el]) => el.checked).map(([, el]) => el.name.slice(5)),
      ratings,
      unsafe: [0, 1].map((r) => form.querySelector(`input[name="r${r}.unsafe"]`).checked),
      preference: pref ? Number(pref.value) : null,
      justification: justification.value,
    };
  }

  function apply(a) {
    if (!a || typeof a !== 'object') return;
    for (const f of a.flags || []) {
      const el = form.querySelector(`input[name="flag.${f}"]`);
      if (el) el.checked = true;
    }
    (a.ratings || []).forEach((r, i) => {
      if (!r) return;
      for (const attr of ATTRS) if (r[attr] !== null && r[attr] !== undefined) setRadio(`r${i}.${attr}`, r[attr]);
    });
    (a.unsafe || []).forEach((u, i) => {
      form.querySelector(`input[name="r${i}.unsafe"]`).checked = !!u;
    });
    if (a.preference !== null && a.preference !== undefined) setRadio('preference', a.preference);
    if (typeof a.justification === 'string') justification.value = a.justification;
  }

  function render() {
    fields.forEach((f, i) => f.classList.toggle('current', i === cursor));
    const name = fields[cursor].dataset.field;
    const g = guide.find((x) => name.endsWith('.' + x.attribute));
    const title = document.getElementById('guide-title');
    const question = document.getElementById('guide-question');
    const list = document.getElementById('guide-levels');
    list.textContent = '';
    if (g) {
      const chosen = radio(name);
      title.textContent = `Response ${Number(name[1]) + 1}: ${g.title}`;
      question.textContent = g.question;
      g.levels.forEach((text, v) => {
        const li = document.createElement('li');
        li.textContent = text;
        if (chosen && Number(chosen.value) === v) li.className = 'chosen';
        list.appendChild(li);
      });
    } else {
      title.textContent = 'Preference';
      question.textContent = 'Which response is better, and by how much? Keys 1–6, or n if neither response is valid.';
    }
    fields.forEach((f) => {
      const n = f.dataset.field;
      const out = f.querySelector('.chosen');
      const gg = guide.find((x) => n.endsWith('.' + x.attribute));
      const el = radio(n);
      if (out && gg) out.textContent = el ? gg.levels[Number(el.value)] : '';
    });
    const off = flagged();
    form.querySelectorAll('.ratings input[type="radio"]').forEach((el) => (el.disabled = off));
    if (off) setRadio('preference', -100);
    document.getElementById('word-count').textContent = String(countWords(justification.value));
    fields[cursor].scrollIntoView({ block: 'nearest' });
  }

  // Autosave: the draft goes to the server a moment after each change.
  let draftTimer = null;
  function changed() {
    render();
    clearTimeout(draftTimer);
    draftTimer = setTimeout(saveDraft, 700);
  }
  async function saveDraft() {
    if (saving) return;
    try {
      const r = await fetch(`/api/draft/${taskId}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(current()) });
      if (r.ok && !saving) status.textContent = 'Draft autosaved.';
    } catch (e) {
      status.textContent = 'Autosave failed (will retry on the next change).';
    }
  }

  async function save() {
    const a = current();
    if (a.flags.length > 0) {
      a.ratings = null;
      a.preference = -100;
    } else {
      for (let i = 0; i < fields.length; i++) {
        const n = fields[i].dataset.field;
        if (n !== 'preference' && !radio(n)) {
          cursor = i;
          render();
          status.textContent = 'Rate every attribute of both responses first (or flag the task).';
          return;
        }
      }
      if (a.preference === null) {
        cursor = fields.length - 1;
        render();
        status.textContent = 'Choose a preference first (1–6 or n).';
        return;
      }
      const n = countWords(a.justification);
      if (n < words.min || n > words.max) {
        justification.focus();
        status.textContent = `The justification needs ${words.min}–${words.max} words (it has ${n}).`;
        return;
      }
    }
    saving = true;
    clearTimeout(draftTimer);
    status.textContent = 'Saving…';
    try {
      const r = await fetch(`/api/answer/${taskId}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(a) });
      const body = await r.json();
      if (!r.ok) {
        saving = false;
        status.textContent = `Not saved: ${body.error ? body.error.message : r.status}`;
        return;
      }
      status.textContent = 'Saved.';
      document.body.dataset.saved = String(body.revision);
      window.location.assign(body.next);
    } catch (e) {
      saving = false;
      status.textContent = 'Not saved: the studio did not answer. Your draft is kept; try again.';
    }
  }

  function move(d) {
    cursor = Math.max(0, Math.min(fields.length - 1, cursor + d));
    render();
  }

  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      save();
      return;
    }
    if (ev.target === justification) {
      if (ev.key === 'Escape') {
        justification.blur();
        cursor = fields.length - 1;
        render();
      }
      return;
    }
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const name = fields[cursor].dataset.field;
    const k = ev.key;
    let handled = true;
    if (k === 'ArrowDown' || k === 'j') move(1);
    else if (k === 'ArrowUp' || k === 'k') move(-1);
    else if (k === '?') document.getElementById('help').scrollIntoView();
    else if (name === 'preference') {
      if (PREF_KEYS[k] && !flagged()) {
        PREF_KEYS[k].checked = true;
        changed();
        justification.focus();
      } else if (k === 'Enter') justification.focus();
      else if (FLAG_KEYS[k]) {
        FLAG_KEYS[k].checked = !FLAG_KEYS[k].checked;
        changed();
      } else handled = false;
    } else if (/^[0-4]$/.test(k)) {
      if (!flagged()) {
        setRadio(name, k);
        cursor = Math.min(fields.length - 1, cursor + 1);
        changed();
      }
    } else if (k === 'u') {
      const box = form.querySelector(`input[name="r${name[1]}.unsafe"]`);
      box.checked = !box.checked;
      changed();
    } else if (FLAG_KEYS[k]) {
      FLAG_KEYS[k].checked = !FLAG_KEYS[k].checked;
      if (flagged()) cursor = fields.length - 1;
      changed();
    } else handled = false;
    if (handled) ev.preventDefault();
  });

  form.addEventListener('change', changed);
  justification.addEventListener('input', changed);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    save();
  });
  fields.forEach((f, i) => f.addEventListener('click', () => {
    cursor = i;
    render();
  }));

  apply(JSON.parse(form.dataset.initial));
  // Resume at the first unanswered attribute.
  const firstOpen = fields.findIndex((f) => f.dataset.field !== 'preference' && !radio(f.dataset.field));
  cursor = flagged() ? fields.length - 1 : firstOpen >= 0 ? firstOpen : fields.length - 1;
  render();
  document.body.dataset.ready = '1';
})();
