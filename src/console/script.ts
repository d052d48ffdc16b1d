/**
 * The console's browser script: plain JavaScript served as it is (no build step at run time). It
 * polls the console JSON API, renders with DOM nodes and textContent only (nothing the API says is
 * ever parsed as HTML), keeps polling through errors and shows each one where its panel stands.
 * Keys travel only in the x-functions-key header, never in a URL the page builds.
 */
export const consoleScript = String.raw`
'use strict';
(function () {
  var pollMs = 3000;
  var restockQuantity = 50;
  var statuses = ['Open', 'CheckedOut', 'Paid', 'Fulfilled', 'Backordered', 'Blocked'];
  var functionKey = new URLSearchParams(location.search).get('code');
  var state = {
    adminKey: stored('session', 'convoy.adminKey') || '',
    selected: null,
    basketStatus: '',
    basketPages: [undefined],
    skus: loadSkus(),
    skusFromBaskets: [],
    results: {},
    lastOk: null,
  };

  // Storage may be switched off (private modes, policies): the page then works without remembering.
  // (Even reading window.sessionStorage throws when it is blocked, so it is read inside the try.)
  function stored(kind, name) {
    try { return window[kind + 'Storage'].getItem(name); } catch (e) { return null; }
  }
  function store(kind, name, value) {
    try {
      if (value) window[kind + 'Storage'].setItem(name, value);
      else window[kind + 'Storage'].removeItem(name);
    } catch (e) { /* not remembered; still used in this page */ }
  }
  function loadSkus() {
    var saved = stored('local', 'convoy.skus');
    return saved ? saved.split(',').filter(Boolean) : ['SKU-1', 'SKU-2', 'SKU-3', 'SKU-4', 'SKU-5'];
  }

  // ---- DOM helpers: every value becomes a text node or an attribute, never markup.
  function el(tag, attrs) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === undefined || value === null || value === false) return;
      if (name.slice(0, 2) === 'on') node.addEventListener(name.slice(2), value);
      else if (name === 'class') node.className = value;
      else node.setAttribute(name, String(value));
    });
  }
  function append(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(node, c); });
    else node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  function fill(id) {
    var target = document.getElementById(id);
    target.replaceChildren();
    for (var i = 1; i < arguments.length; i++) append(target, arguments[i]);
  }
  function badge(text) { return el('span', { class: 'badge ' + text }, text); }
  function empty(text) { return el('div', { class: 'empty' }, text); }
  function errorBox(text) { return el('div', { class: 'error', role: 'alert' }, text); }
  function table(headings, rows) {
    return el('table', {}, el('thead', {}, el('tr', {}, headings.map(function (h) { return el('th', {}, h); }))),
      el('tbody', {}, rows));
  }

  // ---- Formatting
  function num(value, digits) {
    if (typeof value !== 'number' || !isFinite(value)) return '–';
    return value.toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 0 : digits });
  }
  function ms(value) {
    if (typeof value !== 'number') return '–';
    if (value < 1000) return num(value, value < 10 ? 1 : 0) + ' ms';
    return value < 60000 ? num(value / 1000, 1) + ' s' : age(value / 1000);
  }
  function age(seconds) {
    if (typeof seconds !== 'number') return '–';
    if (seconds < 90) return Math.round(seconds) + ' s';
    if (seconds < 5400) return Math.round(seconds / 60) + ' min';
    return (seconds / 3600).toFixed(1) + ' h';
  }
  function clock(iso) {
    if (!iso) return '–';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var time = d.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
    return d.toDateString() === new Date().toDateString() ? time : d.toLocaleDateString() + ' ' + time;
  }
  function when(iso) {
    if (!iso) return '–';
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString(undefined, { hour12: false });
  }
  function short(value) {
    var text = typeof value === 'string' ? value : JSON.stringify(value);
    return text && text.length > 300 ? text.slice(0, 300) + '…' : text;
  }

  // ---- The API: relative to this page, so any route prefix works; the key goes in a header.
  function apiUrl(path) { return new URL(path, location.href).toString(); }
  function describeFailure(response, body, text) {
    var head = response.status + ' ' + (response.statusText || '');
    if (body && typeof body === 'object' && (body.title || body.detail)) {
      return head.trim() + ': ' + [body.title, body.detail].filter(Boolean).join(' — ');
    }
    if (response.status === 401 || response.status === 403) return head.trim() + ': a valid key is needed (open the console with ?code=<function key>; operator actions need the admin key).';
    return head.trim() + (text ? ': ' + short(text) : '');
  }
  async function api(path, options) {
    options = options || {};
    var headers = { accept: 'application/json' };
    var key = options.admin && state.adminKey ? state.adminKey : functionKey;
    if (key) headers['x-functions-key'] = key;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    var request = { method: options.method || 'GET', headers: headers, cache: 'no-store' };
    if (options.body !== undefined) request.body = JSON.stringify(options.body);
    var response;
    try {
      response = await fetch(apiUrl(path), request);
    } catch (error) {
      return { ok: false, error: 'The app did not answer (' + (error && error.message) + ').' };
    }
    var text = await response.text().catch(function () { return ''; });
    var body;
    try { body = text ? JSON.parse(text) : undefined; } catch (e) { body = undefined; }
    if (!response.ok) return { ok: false, status: response.status, body: body, error: describeFailure(response, body, text) };
    if (body === undefined) return { ok: false, status: response.status, error: response.status + ': the answer was not JSON.' };
    return { ok: true, status: response.status, body: body };
  }

  // ---- Overview tiles
  function tile(label, value, sub, alert, extra) {
    return el('div', { class: 'tile' + (alert ? ' alert' : '') },
      el('div', { class: 'label' }, label), el('div', { class: 'value' }, value),
      sub ? el('div', { class: 'sub' }, sub) : null, extra);
  }
  function sparkline(history) {
    var svgNs = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(svgNs, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 100 30');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'backlog trend');
    if (!Array.isArray(history) || history.length < 2) return svg;
    var backlog = history.map(function (h) { return (h.active || 0) + (h.scheduled || 0); });
    var dead = history.map(function (h) { return h.deadLettered || 0; });
    var top = Math.max(1, Math.max.apply(null, backlog.concat(dead)));
    [['backlog', backlog], ['dead', dead]].forEach(function (series) {
      var line = document.createElementNS(svgNs, 'polyline');
      line.setAttribute('class', series[0]);
      line.setAttribute('points', series[1].map(function (v, i) {
        return (i * 100 / (series[1].length - 1)).toFixed(2) + ',' + (29 - v * 28 / top).toFixed(2);
      }).join(' '));
      svg.appendChild(line);
    });
    return svg;
  }
  /** Parts an API could not read (it answers with the rest): shown like errors, above the panel. */
  function showWarnings(id, warnings) {
    (warnings || []).forEach(function (w) { append(document.getElementById(id + '-error'), errorBox(w)); });
  }
  function renderOverview(o) {
    showWarnings('overview', o.warnings);
    var byStatus = o.basketsByStatus || {};
    var backlog = o.backlog || {};
    var latency = o.latencyMs;
    fill('overview-tiles',
      tile('applied / s', num(o.appliedPerSecond, 1)),
      tile('publish → applied, p50', latency ? ms(latency.p50) : '–',
        latency ? 'p99 ' + ms(latency.p99) + ' · last ' + age(latency.windowSeconds) : 'no events applied lately'),
      tile('baskets', num(statuses.reduce(function (s, k) { return s + (byStatus[k] || 0); }, 0)), null, false,
        el('div', { class: 'statuses' }, statuses.map(function (k) {
          return [el('span', { class: 'muted' }, k), el('span', { 'data-status': k }, num(byStatus[k] || 0))];
        }))),
      tile('backlog', num((backlog.active || 0) + (backlog.scheduled || 0)),
        'active ' + num(backlog.active) + ' · scheduled ' + num(backlog.scheduled) + ' · dead-lettered ' + num(backlog.deadLettered),
        backlog.deadLettered > 0, sparkline(backlog.history)),
      tile('quarantined', num(o.quarantined), null, o.quarantined > 0),
      tile('calls held', num(o.heldCalls), 'through transient failures', o.heldCalls > 0),
      tile('stuck baskets', num(o.stuckBaskets), null, o.stuckBaskets > 0));
  }

  // ---- Operator actions: one click, the answer shown where the button was.
  function summarize(body) {
    if (!body || typeof body !== 'object') return '';
    var parts = [];
    if (Array.isArray(body.letters)) {
      parts.push(body.letters.map(function (l) {
        return 'sequence ' + (l.sequence === undefined ? '?' : l.sequence) + ' ' + l.outcome + (l.removed ? '' : ' (kept: ' + (l.reason || l.detail || 'see dead letters') + ')');
      }).join(', ') || 'no dead letters to replay');
    }
    if (typeof body.remaining === 'number') parts.push(body.remaining + ' remaining');
    if (body.outcome) parts.push(String(body.outcome));
    if (body.order && body.order.status) parts.push('order now ' + body.order.status);
    if (body.sku && body.quantity) parts.push(body.sku + ' +' + body.quantity + ' queued');
    return parts.length > 0 ? parts.join('; ') : short(body);
  }
  /** subject names what the action is about in its result line (the button itself stays short). */
  function actionButton(resultKey, label, subject, method, href, body) {
    var button = el('button', { class: 'primary', type: 'button' }, label);
    button.addEventListener('click', async function () {
      button.disabled = true;
      var answer = await api(href, { method: method, admin: true, body: body });
      button.disabled = false;
      state.results[resultKey] = answer.ok
        ? { ok: true, text: label + ' (' + subject + '): done — ' + summarize(answer.body) }
        : { ok: false, text: label + ' (' + subject + '): failed — ' + answer.error };
      refreshAll();
    });
    return button;
  }
  function resultFor(key) {
    var result = state.results[key];
    if (!result) return null;
    return el('div', { class: 'result' + (result.ok ? '' : ' failed'), role: 'status' }, result.text);
  }

  // ---- Stuck baskets
  function selectButton(basketId) {
    return el('button', { class: 'link mono', type: 'button', 'data-basket-id': basketId, onclick: function () { select(basketId); } }, basketId);
  }
  /** The reason's parts its text does not already say (the text is written for people; these back it up). */
  function reasonDetails(reason) {
    var text = reason.text || '';
    var bits = [];
    if (reason.sequence !== undefined && text.indexOf(String(reason.sequence)) < 0) bits.push('sequence ' + reason.sequence);
    if (Array.isArray(reason.parkedSequences) && reason.parkedSequences.length > 0 && text.indexOf('parked') < 0) bits.push('parked ' + reason.parkedSequences.join(', '));
    if (reason.deadLetterReason && text.indexOf(reason.deadLetterReason) < 0) bits.push('broker: ' + reason.deadLetterReason);
    return bits.length > 0 ? el('div', { class: 'muted' }, bits.join(' · ')) : null;
  }
  function renderStuck(body) {
    var items = body.items || [];
    if (typeof body.thresholdSeconds === 'number') {
      document.getElementById('stuck-hint').textContent = 'not finished and no progress for over ' + age(body.thresholdSeconds);
    }
    showWarnings('stuck', body.warnings);
    if (items.length === 0) return fill('stuck', resultFor('stuck'), empty('No stuck basket: every basket not finished made progress recently.'));
    fill('stuck', resultFor('stuck'), items.map(function (item) {
      var reason = item.reason || {};
      return el('div', { class: 'stuck-item', 'data-stuck-basket': item.basketId },
        el('div', {}, selectButton(item.basketId), ' ', badge(item.status), ' ',
          el('span', { class: 'muted' }, 'no progress for ' + age(item.ageSeconds))),
        el('div', { class: 'reason' }, reason.text || reason.code || 'reason unknown'),
        reasonDetails(reason),
        el('div', { class: 'toolbar' }, (item.actions || []).map(function (a) {
          return actionButton('stuck', a.label, item.basketId, a.method, a.href);
        })));
    }), body.continuation ? el('div', { class: 'muted' }, 'More stuck baskets than shown; fix these first.') : null);
  }

  // ---- Baskets list (paged)
  function renderBaskets(body) {
    var items = body.items || [];
    var page = state.basketPages.length;
    var pager = el('div', { class: 'toolbar' },
      el('button', { type: 'button', disabled: page === 1, onclick: function () { state.basketPages.pop(); refreshBaskets(); } }, '← previous'),
      el('span', { class: 'muted' }, 'page ' + page),
      el('button', { type: 'button', disabled: !body.continuation, onclick: function () { state.basketPages.push(body.continuation); refreshBaskets(); } }, 'next →'));
    if (items.length === 0) return fill('baskets', empty('No basket' + (state.basketStatus ? ' with status ' + state.basketStatus : '') + ' yet.'), pager);
    fill('baskets', table(['basket', 'status', 'last applied', 'updated'], items.map(function (b) {
      return el('tr', { class: b.basketId === state.selected ? 'selected' : '', 'data-basket-row': b.basketId },
        el('td', {}, selectButton(b.basketId)), el('td', {}, badge(b.status)),
        el('td', {}, num(b.lastAppliedSequence)), el('td', { class: 'muted' }, when(b.updatedAt)));
    })), pager);
  }

  // ---- One basket's timeline
  function select(basketId) {
    state.selected = basketId;
    fill('timeline', empty('Loading ' + basketId + '…'));
    refreshTimeline();
    document.getElementById('timeline-section').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  }
  function entryDetail(entry) {
    var bits = [];
    if (entry.deliveryCount !== undefined) bits.push('delivery ' + entry.deliveryCount);
    if (entry.durationMs !== undefined) bits.push(ms(entry.durationMs));
    if (entry.detail !== undefined) bits.push(short(entry.detail));
    return bits.join(' · ');
  }
  function renderFulfillment(f) {
    if (!f) return empty('Not started (it starts once the basket is paid).');
    var steps = Array.isArray(f.steps) ? f.steps.length : 0;
    return el('div', {}, el('span', { class: 'mono' }, f.instanceId), ' ', badge(f.runtimeStatus),
      el('span', { class: 'muted' }, ' · ' + steps + ' step' + (steps === 1 ? '' : 's') + ' (fulfillment rows above)'));
  }
  function renderTimeline(t) {
    showWarnings('timeline', t.warnings);
    var entries = t.entries || [];
    var f = t.fulfillment;
    (t.reserved || []).forEach(function (r) {
      if (state.skusFromBaskets.indexOf(r.sku) < 0 && state.skus.indexOf(r.sku) < 0) state.skusFromBaskets.push(r.sku);
    });
    fill('timeline',
      el('div', { class: 'toolbar' }, el('strong', { class: 'mono' }, t.basketId), t.status ? badge(t.status) : el('span', { class: 'muted' }, 'no order record yet'),
        t.traceId ? el('span', { class: 'muted mono' }, 'trace ' + t.traceId) : null),
      t.blockedReason ? el('div', { class: 'error' }, 'Blocked: ' + t.blockedReason) : null,
      entries.length === 0 ? empty('No events recorded for this basket.') :
        table(['at', 'what', 'seq', 'type', 'detail'], entries.map(function (e) {
          return el('tr', { 'data-kind': e.kind }, el('td', { class: 'muted' }, clock(e.at)), el('td', {}, badge(e.kind)),
            el('td', {}, e.sequence === undefined ? '' : e.sequence), el('td', {}, e.type || ''), el('td', {}, entryDetail(e)));
        })),
      el('h3', {}, 'Fulfillment'),
      renderFulfillment(f),
      el('h3', {}, 'Stock reserved'),
      (t.reserved || []).length === 0 ? empty('Nothing reserved.') :
        table(['SKU', 'quantity'], t.reserved.map(function (r) { return el('tr', {}, el('td', { class: 'mono' }, r.sku), el('td', {}, num(r.quantity))); })));
  }

  // ---- Dead letters and quarantine
  function renderDeadLetters(body) {
    var baskets = body.baskets || [];
    if (baskets.length === 0) return fill('dead-letters', empty('The dead-letter queue is empty.'), resultFor('dead'));
    fill('dead-letters', resultFor('dead'), body.complete === false ? el('div', { class: 'muted' }, 'Showing the first ' + body.scanned + ' dead letters.') : null,
      table(['basket', 'messages', ''], baskets.map(function (group) {
        return el('tr', {},
          el('td', {}, group.basketId === null ? el('span', { class: 'muted' }, 'no session id') : selectButton(group.basketId)),
          el('td', {}, (group.messages || []).map(function (m) {
            return el('div', {}, 'sequence ' + (m.sequence === undefined ? '?' : m.sequence) + (m.type ? ' ' + m.type : '') + ' — ' +
              (m.reason || 'no reason given') + (m.description ? ': ' + m.description : '') + ' (delivered ' + m.deliveryCount + '×)');
          })),
          el('td', {}, group.basketId === null ? null :
            actionButton('dead', 'Replay', group.basketId, 'POST', 'dead-letters/' + encodeURIComponent(group.basketId) + '/replay')));
      })));
  }
  function renderQuarantine(body) {
    var messages = body.messages || [];
    if (messages.length === 0) return fill('quarantine', empty('Nothing is quarantined.'), resultFor('quarantine'));
    fill('quarantine', resultFor('quarantine'), table(['message', 'reason', 'when', ''], messages.map(function (m) {
      return el('tr', {}, el('td', { class: 'mono' }, m.messageId, m.sessionId ? el('div', { class: 'muted' }, 'session ' + m.sessionId) : null),
        el('td', {}, short(m.reason || m.detail || '')),
        el('td', { class: 'muted' }, when(m.quarantinedAt || m.at)),
        el('td', {}, actionButton('quarantine', 'Replay', m.messageId, 'POST', 'quarantine/' + encodeURIComponent(m.messageId) + '/replay')));
    })));
  }

  // ---- Stock per SKU
  function allSkus() { return state.skus.concat(state.skusFromBaskets); }
  function renderStock(answers) {
    fill('stock', resultFor('stock'), table(['SKU', 'available', 'reserved', 'sold', '', ''], answers.map(function (a) {
      if (!a.answer.ok) return el('tr', {}, el('td', { class: 'mono' }, a.sku), el('td', { colspan: 5 }, errorBox(a.answer.error)));
      var s = a.answer.body;
      return el('tr', { 'data-sku': a.sku }, el('td', { class: 'mono' }, a.sku), el('td', {}, num(s.available)),
        el('td', {}, num(s.reserved) + (s.reservations ? ' (' + s.reservations + ' baskets)' : '')), el('td', {}, num(s.sold)),
        el('td', { class: 'muted' }, s.initialized ? '' : 'untouched (default stock)'),
        el('td', {}, actionButton('stock', 'Restock +' + restockQuantity, a.sku, 'POST', 'inventory/' + encodeURIComponent(a.sku) + '/restock', { quantity: restockQuantity })));
    })));
  }

  // ---- Polling: each panel on its own, so one failing API leaves the others live.
  async function panel(id, path, render) {
    var answer = await api(path);
    var errorSlot = document.getElementById(id + '-error');
    errorSlot.replaceChildren();
    if (!answer.ok) {
      append(errorSlot, errorBox(answer.error));
      // Keep what was shown last; only the first "Loading…" goes, since nothing is coming.
      document.querySelectorAll('#' + id + ' .placeholder, #' + id + '-tiles .placeholder').forEach(function (p) { p.remove(); });
      return false;
    }
    try { render(answer.body); } catch (error) { append(errorSlot, errorBox('Could not show the answer: ' + error.message)); return false; }
    return true;
  }
  function refreshBaskets() {
    var query = new URLSearchParams({ limit: '25' });
    if (state.basketStatus) query.set('status', state.basketStatus);
    var token = state.basketPages[state.basketPages.length - 1];
    if (token) query.set('continuation', token);
    return panel('baskets', 'console/baskets?' + query.toString(), renderBaskets);
  }
  function refreshTimeline() {
    if (!state.selected) return Promise.resolve(true);
    return panel('timeline', 'console/baskets/' + encodeURIComponent(state.selected) + '/timeline', renderTimeline);
  }
  async function refreshStock() {
    var skus = allSkus();
    var answers = await Promise.all(skus.map(async function (sku) { return { sku: sku, answer: await api('inventory/' + encodeURIComponent(sku)) }; }));
    renderStock(answers);
    return answers.every(function (a) { return a.answer.ok; });
  }
  var refreshing = null;
  function refreshAll() {
    if (refreshing) return refreshing;
    refreshing = Promise.all([
      panel('overview', 'console/overview', renderOverview),
      panel('stuck', 'console/stuck?limit=20', renderStuck),
      refreshBaskets(),
      refreshTimeline(),
      panel('dead-letters', 'dead-letters?scan=200', renderDeadLetters),
      panel('quarantine', 'quarantine?limit=50', renderQuarantine),
      refreshStock(),
    ]).then(function (oks) {
      var live = document.getElementById('live');
      var allOk = oks.every(Boolean);
      if (allOk) state.lastOk = new Date();
      live.className = 'live' + (allOk ? '' : ' stale');
      live.textContent = (allOk ? 'live · updated ' : 'some views failed · last full update ') +
        (state.lastOk ? state.lastOk.toLocaleTimeString(undefined, { hour12: false }) : 'never') + ' · every ' + pollMs / 1000 + ' s';
      document.body.setAttribute('data-polls', String(Number(document.body.getAttribute('data-polls') || 0) + 1));
    }).finally(function () { refreshing = null; });
    return refreshing;
  }
  // A tab in the background polls nothing (each poll is a dozen calls); it catches up when shown again.
  // One chain of polls at a time: it ends when it finds the tab hidden, and showing the tab restarts it.
  var polling = false;
  function loop() {
    polling = !document.hidden;
    if (!polling) return;
    refreshAll().finally(function () { setTimeout(loop, pollMs); });
  }
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && !polling) loop();
  });

  // ---- Controls
  function wireControls() {
    var keyInput = document.getElementById('admin-key');
    keyInput.value = state.adminKey;
    document.getElementById('key-form').addEventListener('submit', function (event) {
      event.preventDefault();
      state.adminKey = keyInput.value.trim();
      store('session', 'convoy.adminKey', state.adminKey);
      document.getElementById('key-state').textContent = state.adminKey ? 'admin key set for this tab' : 'no admin key';
    });
    document.getElementById('key-state').textContent = state.adminKey ? 'admin key set for this tab' : 'no admin key';
    var filter = document.getElementById('basket-status');
    statuses.forEach(function (s) { filter.appendChild(el('option', { value: s }, s)); });
    filter.addEventListener('change', function () { state.basketStatus = filter.value; state.basketPages = [undefined]; refreshBaskets(); });
    var skuInput = document.getElementById('sku-list');
    skuInput.value = state.skus.join(', ');
    document.getElementById('sku-form').addEventListener('submit', function (event) {
      event.preventDefault();
      state.skus = skuInput.value.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
      store('local', 'convoy.skus', state.skus.join(','));
      refreshStock();
    });
  }

  wireControls();
  loop();
})();
`;
