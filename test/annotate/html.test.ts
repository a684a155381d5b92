// html.ts: every interpolation escaped, nested templates and arrays kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, html } from '../../src/annotate/html.js';

test('escapeHtml and the html tag', () => {
  assert.equal(escapeHtml(`<script>alert("x") & 'y'</script>`), '&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;');
  const evil = '"><script>1</script>';
  assert.equal(html`<a title="${evil}">${evil}</a>`.value, '<a title="&quot;&gt;&lt;script&gt;1&lt;/script&gt;">&quot;&gt;&lt;script&gt;1&lt;/script&gt;</a>');
  assert.equal(html`<ul>${['<a>', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.value, '<ul><li>&lt;a&gt;</li><li>b</li></ul>');
  assert.equal(html`${null}${undefined}${false}${0}`.value, '0');
});
