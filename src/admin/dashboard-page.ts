/**
 * The dashboard at the admin port's `/`: one HTML page with its style and
 * script inline, so serving it needs no build step and no second request.
 * It polls the admin API once a second and renders panels.
 *
 * Panels: every entry of PANELS in the script names the API path it reads
 * and renders into its own section. A later service (data sets, counters,
 * gates) adds its admin route and one entry here; the page fetches each
 * distinct path once per tick, so panels sharing a path cost one request.
 */
const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --ink: #1c2430; --muted: #637083; --line: #dde2e8; --ok: #1f8a4c; --bad: #c0392b; --accent: #2f6fdf; }
@media (prefers-color-scheme: dark) { :root { --bg: #12161c; --card: #1b2129; --ink: #e6ebf1; --muted: #93a0b2; --line: #2c3540; --accent: #6b9cff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .4rem 1rem; padding: .8rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); }
header h1 { font-size: 1.15rem; margin: 0; }
header .meta { color: var(--muted); font-size: .9rem; }
#status { margin-left: auto; font-size: .85rem; font-weight: 600; }
#status.live { color: var(--ok); } #status.down { color: var(--bad); }
main { padding: 1rem; display: grid; gap: 1rem; max-width: 1200px; margin: 0 auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: .6rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; }
.card .label { color: var(--muted); font-size: .8rem; }
.card .value { font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; }
section.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; min-width: 0; }
section h2 { font-size: 1rem; margin: .2rem 0 .5rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .3rem .6rem .3rem 0; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 500; font-size: .8rem; }
td.num, th.num { text-align: right; }
.empty { color: var(--muted); font-style: italic; }
.yes { color: var(--ok); } .no { color: var(--muted); }
`;

const SCRIPT = `
'use strict';
const POLL_MS = 1000;
const fmt = (n) => typeof n === 'number' ? n.toLocaleString('en-US') : String(n ?? '-');
const rate = (n) => n === undefined ? '…' : fmt(Math.round(n)) + '/s';
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
/** A table; columns: [title, cell(row) -> value, numeric?]. Rows carry data-key for tests and scripts. */
function table(testid, columns, rows, key) {
  if (rows.length === 0) return el('p', { class: 'empty', 'data-testid': testid + '-empty' }, 'none');
  const head = el('tr', {}, ...columns.map(([t, , num]) => el('th', num ? { class: 'num' } : {}, t)));
  const body = rows.map((r) => el('tr', { 'data-key': key(r) }, ...columns.map(([t, cell, num]) =>
    el('td', Object.assign({ 'data-col': t }, num ? { class: 'num' } : {}), cell(r)))));
  return el('div', { class: 'scroll' }, el('table', { 'data-testid': testid }, el('thead', {}, head), el('tbody', {}, ...body)));
}

// Publish and delivery rates come from the difference of two stats totals.
let previous;
function rates(stats) {
  const now = performance.now();
  let r = {};
  if (previous) {
    const s = (now - previous.at) / 1000;
    r = { publish: (stats.publishes - previous.publishes) / s, deliver: (stats.deliveries - previous.deliveries) / s };
  }
  previous = { at: now, publishes: stats.publishes, deliveries: stats.deliveries };
  return r;
}

// A gate's admissions per second, from the difference of two stored totals.
const admitted = new Map();
function admissionRate(g) {
  const now = performance.now();
  const last = admitted.get(g.gate);
  admitted.set(g.gate, { at: now, n: g.admissions });
  return last && now > last.at ? (g.admissions - last.n) / ((now - last.at) / 1000) : undefined;
}

const PANELS = [
  { id: 'overview', title: 'This hub', source: '/api/stats', render(stats) {
    const r = rates(stats);
    const card = (id, label, value) => el('div', { class: 'card', 'data-testid': id }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value));
    document.getElementById('hub').textContent = stats.hubId;
    document.getElementById('meta').textContent = 'Corral ' + stats.version + ' · durability ' + stats.durability + ' · up ' + Math.floor(stats.uptimeMs / 1000) + ' s';
    return el('div', { class: 'cards' },
      card('publish-rate', 'published', rate(r.publish)), card('deliver-rate', 'delivered', rate(r.deliver)),
      card('connections', 'connections', fmt(stats.connections)), card('topics', 'topics', fmt(stats.topics)),
      card('subscriptions', 'subscriptions', fmt(stats.subscriptions)), card('stored', 'stored messages', fmt(stats.storedMessages)),
      card('rss', 'memory (RSS)', fmt(Math.round(stats.memory.rss / 1048576)) + ' MiB'));
  } },
  { id: 'hubs', title: 'Hubs', source: '/api/hubs', render: (d) => table('hubs', [
    ['hub', (h) => h.hubId], ['address', (h) => h.address ?? '-'], ['pid', (h) => h.pid, true],
    ['topics', (h) => fmt(h.load.topics), true], ['connections', (h) => fmt(h.load.connections), true],
    ['msg/s', (h) => fmt(Math.round(h.load.msgRate)), true],
  ], d.hubs, (h) => h.hubId) },
  { id: 'topics', title: 'Topics', source: '/api/topics', render: (d) => table('topics', [
    ['topic', (t) => t.topic], ['owner', (t) => t.owner ?? '-'],
    ['first', (t) => t.stored === 0 ? '-' : fmt(t.firstSeq), true], ['last', (t) => fmt(t.lastSeq), true],
    ['stored', (t) => fmt(t.stored), true], ['subscriptions', (t) => t.subscriptions.length, true],
    ['backlog', (t) => fmt(t.subscriptions.reduce((m, s) => Math.max(m, s.backlog), 0)), true],
  ], d.topics, (t) => t.topic) },
  { id: 'gates', title: 'Gates', source: '/api/gates/stored', render: (d) => table('gates', [
    ['gate', (g) => g.gate.slice('gate|'.length)], ['holders', (g) => fmt(g.holders) + ' / ' + fmt(g.config.limit), true],
    ['waiting', (g) => fmt(g.waiting), true], ['before opening', (g) => fmt(g.prequeued), true],
    ['admitted', (g) => fmt(g.admissions), true], ['admitted/s', (g) => rate(admissionRate(g)), true],
  ], d.gates, (g) => g.gate) },
  { id: 'subscriptions', title: 'Subscriptions', source: '/api/topics', render: (d) => table('subscriptions', [
    ['topic', (s) => s.topic], ['subscription', (s) => s.name], ['acked', (s) => fmt(s.ackedSeq), true],
    ['backlog', (s) => fmt(s.backlog), true], ['attached', (s) => el('span', { class: s.attached ? 'yes' : 'no' }, s.attached ? 'yes' : 'no')],
  ], d.topics.flatMap((t) => t.subscriptions.map((s) => Object.assign({ topic: t.topic }, s))), (s) => s.topic + '|' + s.name) },
];

const main = document.querySelector('main');
for (const p of PANELS) {
  const section = el('section', { class: 'panel', id: 'panel-' + p.id }, el('h2', {}, p.title), el('div', { class: 'body' }, '…'));
  if (p.id === 'overview') section.classList.remove('panel');
  main.append(section);
}
async function tick() {
  const status = document.getElementById('status');
  try {
    const sources = [...new Set(PANELS.map((p) => p.source))];
    const data = new Map(await Promise.all(sources.map(async (s) => {
      const res = await fetch(s, { cache: 'no-store' });
      if (!res.ok) throw new Error(s + ': HTTP ' + res.status);
      return [s, await res.json()];
    })));
    for (const p of PANELS) document.querySelector('#panel-' + p.id + ' .body').replaceChildren(p.render(data.get(p.source)));
    status.textContent = 'live · ' + new Date().toLocaleTimeString();
    status.className = 'live';
    document.body.dataset.ticks = String(Number(document.body.dataset.ticks || 0) + 1);
  } catch (err) {
    status.textContent = 'hub unreachable (' + err.message + ')';
    status.className = 'down';
  }
  setTimeout(tick, POLL_MS);
}
tick();
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Corral hub</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>Corral <span id="hub"></span></h1><span class="meta" id="meta"></span><span id="status">connecting…</span></header>
<main></main>
<script>${SCRIPT}</script>
</body>
</html>
`;
