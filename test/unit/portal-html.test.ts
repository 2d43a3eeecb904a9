import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flag, html } from '../../src/http/portal/html.js';

test('every interpolated value is text unless it is markup built by the same tag', () => {
  const hostile = `<script>alert("x")</script>' onmouseover='1`;
  const page = html`<p title="${hostile}">${hostile}</p>${html`<b>${'&'}</b>`}`;
  assert.equal(
    page.markup,
    '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;1">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;1</p><b>&amp;</b>',
  );
});

test('lists join, and null, undefined and false render nothing', () => {
  assert.equal(html`${[1, 'a<', html`<i></i>`]}|${null}|${undefined}|${false}|${0}`.markup, '1a&lt;<i></i>||||0');
  assert.equal(html`<input${flag('checked', true)}${flag('disabled', false)}>`.markup, '<input checked>');
});
