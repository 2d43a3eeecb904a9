/** The frame of every portal page: one stylesheet from this server, scripts only when a page needs them. */
import { html, type Html } from './html.js';

export function layout(input: { title: string; organizationName?: string; returnUrl: string | null; body: Html; scripts?: string[] }): Html {
  return portalDocument(
    input.title,
    input.scripts ?? [],
    html`<a class="skip" href="#main">Skip to the content</a>
<header class="top">
  <div class="wrap">
    <p><strong>Billing</strong>${input.organizationName ? html` <span class="org">· ${input.organizationName}</span>` : ''}</p>
    ${input.returnUrl ? html`<a href="${input.returnUrl}">Back to your console</a>` : ''}
  </div>
</header>
<main id="main" class="wrap" tabindex="-1">
<h1 class="visually-hidden">${input.title}</h1>
${input.body}
</main>`,
  );
}

/** A page with one message: a used or expired link, an ended session, something not found. */
export function messagePage(input: { title: string; message: string; returnUrl: string | null; action?: string }): Html {
  return portalDocument(
    input.title,
    [],
    html`<main id="main" class="message-page">
<h1>${input.title}</h1>
<p>${input.message}</p>
${
  input.returnUrl
    ? html`<p><a href="${input.returnUrl}">${input.action ?? 'Go back to your console'}</a></p>`
    : html`<p>${input.action ?? 'Open the billing page again from the console you came from.'}</p>`
}
</main>`,
  );
}

function portalDocument(title: string, scripts: string[], body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title}</title>
<link rel="stylesheet" href="/portal/assets/portal.css">
${scripts.map((src) => html`<script src="${src}" defer></script>`)}
</head>
<body>
${body}
</body>
</html>`;
}
