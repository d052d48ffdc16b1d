import { createHash } from 'node:crypto';
import { consoleScript } from './script';
import { consoleStyle } from './style';

/**
 * The operator's console: one HTML page with its style and script inline, so the app serves it from
 * one function with nothing to build or fetch at run time. The Content-Security-Policy allows exactly
 * this script and this style (by hash), calls to this origin only, and no framing.
 */

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export const consoleContentSecurityPolicy = [
  "default-src 'none'",
  `script-src ${sha256(consoleScript)}`,
  `style-src ${sha256(consoleStyle)}`,
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const section = (id: string, title: string, hint: string, extra = '', placeholder = 'Loading…'): string => `
  <section id="${id}-section">
    <h2>${title}<span class="hint" id="${id}-hint">${hint}</span></h2>
    ${extra}
    <div id="${id}-error"></div>
    <div id="${id}"><div class="empty placeholder">${placeholder}</div></div>
  </section>`;

export const consolePageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>convoy console</title>
<link rel="icon" href="data:,">
<style>${consoleStyle}</style>
</head>
<body>
<header>
  <h1>convoy console</h1>
  <span id="live" class="live">connecting…</span>
  <form id="key-form" autocomplete="off">
    <label for="admin-key">Admin key for replays</label>
    <input id="admin-key" type="password" placeholder="not needed locally" size="18">
    <button type="submit">Use</button>
    <span id="key-state"></span>
  </form>
</header>
<main>
  <section class="wide" id="overview-section">
    <div id="overview-error"></div>
    <div id="overview-tiles" class="tiles"><div class="empty placeholder">Loading…</div></div>
  </section>
  ${section('stuck', 'Stuck baskets', 'not finished and no progress for longer than the threshold')}
  ${section('timeline', 'Basket timeline', 'click a basket id', '', 'Click a basket id to see its whole story here.')}
  ${section(
    'baskets',
    'Baskets',
    '25 a page',
    '<div class="toolbar"><label for="basket-status">Status</label><select id="basket-status"><option value="">any</option></select></div>',
  )}
  ${section('dead-letters', 'Dead letters', 'order-events dead-letter queue, by basket')}
  ${section('quarantine', 'Quarantine', 'messages no order could own')}
  ${section(
    'stock',
    'Stock per SKU',
    'SKUs listed here plus those a viewed basket reserved',
    '<form id="sku-form" class="toolbar" autocomplete="off"><input id="sku-list" size="40" aria-label="SKUs, comma-separated"><button type="submit">Show</button></form>',
  )}
</main>
<script>${consoleScript}</script>
</body>
</html>
`;
