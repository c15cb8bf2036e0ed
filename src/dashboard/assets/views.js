// Trellis dashboard: one function per page. Each renders into `el` and returns
// { refresh, dispose }; the router calls refresh every few seconds while the page is shown.
import { esc, fmt, get, short, stream } from './api.js';

const signalCells = (s) =>
  `<td class="num">${fmt.rps(s.rps)}</td><td class="num ${fmt.cls(s.successRate)}">${fmt.pct(s.successRate)}</td><td class="num">${fmt.ms(s.p50Ms)}</td><td class="num">${fmt.ms(s.p95Ms)}</td><td class="num">${fmt.ms(s.p99Ms)}</td>`;
const signalHead = '<th class="num">RPS</th><th class="num">Success</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th>';
const colour = (rate) => (rate == null ? '#98a2b3' : rate >= 0.99 ? '#12a150' : rate >= 0.95 ? '#d98c00' : '#d92d20');

/** Route edges `{ id, source, target, label }` from every HTTPRoute with a Service parent to its other backend Services; none without a token. */
async function routeEdges() {
  const { items } = await get('/api/v1/httproutes').catch(() => ({ items: [] }));
  const out = new Map();
  for (const r of items) {
    const ns = r.metadata.namespace ?? 'default';
    for (const p of r.spec.parentRefs ?? []) {
      if ((p.kind ?? 'Service') !== 'Service') continue;
      const source = `${p.name}.${p.namespace ?? ns}`;
      for (const b of (r.spec.rules ?? []).flatMap((rule) => rule.backendRefs ?? [])) {
        const target = `${b.name}.${b.namespace ?? ns}`;
        const id = `${source}=>${target}`;
        if (target !== source && !out.has(id)) out.set(id, { id, source, target, label: `HTTPRoute ${r.metadata.name}` });
      }
    }
  }
  return [...out.values()];
}

/** The topology: services as nodes, caller -> callee edges, golden signals on both; HTTPRoute parent -> backend edges dashed. */
export function topologyView(el) {
  el.innerHTML = `<h1>Service topology <span class="muted" id="win"></span></h1>
    <div class="grid"><div class="panel"><div id="graph" data-testid="topology"></div></div>
    <div class="panel"><h2>Services</h2><table id="svc-table"><thead><tr><th>Service</th>${signalHead}</tr></thead><tbody></tbody></table></div></div>`;
  const cy = window.cytoscape({
    container: el.querySelector('#graph'),
    style: [
      {
        selector: 'node',
        style: {
          label: 'data(label)',
          'text-wrap': 'wrap',
          'font-size': 11,
          'text-valign': 'bottom',
          'text-margin-y': 6,
          'background-color': 'data(colour)',
          width: 34,
          height: 34,
        },
      },
      {
        selector: 'edge',
        style: {
          label: 'data(label)',
          'font-size': 10,
          'curve-style': 'bezier',
          'target-arrow-shape': 'triangle',
          width: 'data(width)',
          'line-color': 'data(colour)',
          'target-arrow-color': 'data(colour)',
          'text-background-color': '#fff',
          'text-background-opacity': 0.8,
        },
      },
      { selector: 'edge.route', style: { 'line-style': 'dashed', 'line-color': '#98a2b3', 'target-arrow-color': '#98a2b3', width: 1.5, color: '#667085' } },
    ],
    layout: { name: 'breadthfirst', directed: true, padding: 20 },
    userZoomingEnabled: false,
  });
  cy.on('tap', 'node', (e) => (location.hash = `#/service/${encodeURIComponent(e.target.id())}`));
  let shape = '';
  async function refresh() {
    const t = await get('/api/v1/telemetry/topology?window=30s');
    el.querySelector('#win').textContent = `(last ${t.windowSeconds} s)`;
    const nodes = t.nodes.map((n) => ({
      data: { id: n.service, label: `${short(n.service)}\n${fmt.rps(n.rps)} rps · ${fmt.pct(n.successRate)} · p99 ${fmt.ms(n.p99Ms)}`, colour: colour(n.successRate) },
    }));
    const ids = new Set(t.nodes.map((n) => n.service));
    const edges = t.edges
      .filter((e) => ids.has(e.source) && ids.has(e.destination))
      .map((e) => ({
        data: {
          id: `${e.source}->${e.destination}`,
          source: e.source,
          target: e.destination,
          label: `${fmt.rps(e.rps)} rps · ${fmt.pct(e.successRate)}`,
          colour: colour(e.successRate),
          width: Math.min(8, 1 + Math.log2(1 + e.rps)),
        },
      }));
    // A Service and the backend Services its HTTPRoutes send to (reviews -> reviews-v1): joined by
    // a dashed edge, so callers' traffic to a backend reads as traffic to the routed Service.
    for (const r of await routeEdges()) {
      for (const id of [r.source, r.target]) if (!ids.has(id)) (ids.add(id), nodes.push({ data: { id, label: short(id), colour: colour(null) } }));
      edges.push({ data: { ...r, colour: '#98a2b3', width: 1.5 }, classes: 'route' });
    }
    const nextShape = JSON.stringify([nodes.map((n) => n.data.id), edges.map((e) => e.data.id)]);
    if (nextShape !== shape) {
      cy.elements().remove();
      cy.add([...nodes, ...edges]);
      cy.layout({ name: 'breadthfirst', directed: true, padding: 20, roots: nodes.filter((n) => !edges.some((e) => e.data.target === n.data.id)).map((n) => n.data.id) }).run();
      shape = nextShape;
    } else {
      for (const x of [...nodes, ...edges]) cy.getElementById(x.data.id).data(x.data);
    }
    el.querySelector('#graph').dataset.nodes = String(nodes.length);
    el.querySelector('#graph').dataset.edges = String(edges.length);
    el.querySelector('#graph').dataset.edgeIds = edges.map((e) => e.data.id).join(' ');
    el.querySelector('#svc-table tbody').innerHTML = t.nodes
      .map((n) => `<tr data-service="${esc(n.service)}"><td><a href="#/service/${encodeURIComponent(n.service)}">${esc(short(n.service))}</a></td>${signalCells(n)}</tr>`)
      .join('');
  }
  return { refresh, dispose: () => cy.destroy() };
}

function chart(container, title, series, width, range) {
  const opts = {
    title,
    width,
    height: 180,
    series: [{}, ...series],
    axes: [{}, { size: 50 }],
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    ...(range ? { scales: { y: { range } } } : {}),
  };
  return new window.uPlot(opts, [[], ...series.map(() => [])], container);
}

/** A service: signals, charts over time, workloads, edges, routes, proxies. */
export function serviceView(el, [service]) {
  el.innerHTML = `<h1>${esc(short(service))} <span class="muted">${esc(service)}</span></h1>
    <div class="cards" id="cards"></div>
    <div class="charts"><div class="panel chart" data-testid="chart-rps"></div><div class="panel chart" data-testid="chart-success"></div><div class="panel chart" data-testid="chart-latency"></div></div>
    <div class="grid"><div>
      <div class="panel"><h2>Workloads</h2><table id="wl"><thead><tr><th>Workload</th>${signalHead}</tr></thead><tbody></tbody></table></div>
      <div class="panel"><h2>Callers</h2><table id="in"><thead><tr><th>From</th>${signalHead}</tr></thead><tbody></tbody></table></div>
      <div class="panel"><h2>Calls</h2><table id="out"><thead><tr><th>To</th>${signalHead}</tr></thead><tbody></tbody></table></div>
    </div><div>
      <div class="panel"><h2>Routes and policies</h2><div id="routes" class="muted">loading…</div></div>
      <div class="panel"><h2>Proxies</h2><div id="proxies"></div></div>
      <div class="panel"><h2>Recent traces</h2><div id="traces"></div></div>
    </div></div>`;
  const boxes = el.querySelectorAll('.chart');
  const width = Math.max(260, boxes[0].clientWidth - 24);
  const charts = [
    chart(boxes[0], 'Requests per second', [{ label: 'rps', stroke: '#3461c1', width: 2 }], width),
    chart(boxes[1], 'Success rate (%)', [{ label: 'success %', stroke: '#12a150', width: 2 }], width, [0, 100]),
    chart(
      boxes[2],
      'Latency (ms)',
      [
        { label: 'p50', stroke: '#3461c1', width: 2 },
        { label: 'p99', stroke: '#d92d20', width: 2 },
      ],
      width,
    ),
  ];
  const name = service.split('.')[0];
  get('/api/v1/httproutes?namespace=' + encodeURIComponent(service.split('.')[1] ?? 'default'))
    .then((r) => {
      const mine = r.items.filter((x) => (x.spec.parentRefs ?? []).some((p) => p.name === name));
      el.querySelector('#routes').innerHTML =
        mine.length === 0
          ? 'No HTTPRoute: requests go to the service itself.'
          : mine
              .map(
                (x) =>
                  `<div><b>HTTPRoute ${esc(x.metadata.name)}</b>: ${x.spec.rules.length} rule(s), backends ${esc([...new Set(x.spec.rules.flatMap((rule) => (rule.backendRefs ?? []).map((b) => `${b.name}${b.weight !== undefined ? ` (weight ${b.weight})` : ''}`)))].join(', '))}</div>`,
              )
              .join('');
    })
    .catch((e) => (el.querySelector('#routes').textContent = e.message));
  async function refresh() {
    const s = await get(`/api/v1/telemetry/services/${encodeURIComponent(service)}?window=30s&history=300s`);
    el.querySelector('#cards').innerHTML = [
      ['Requests / s', fmt.rps(s.rps), ''],
      ['Success rate', fmt.pct(s.successRate), fmt.cls(s.successRate)],
      ['p50', fmt.ms(s.p50Ms), ''],
      ['p95', fmt.ms(s.p95Ms), ''],
      ['p99', fmt.ms(s.p99Ms), ''],
    ]
      .map(([k, v, c]) => `<div class="card"><div class="v ${c}">${esc(v)}</div><div class="k">${esc(k)} (30 s)</div></div>`)
      .join('');
    const t = s.history.map((p) => p.t);
    charts[0].setData([t, s.history.map((p) => p.rps)]);
    charts[1].setData([t, s.history.map((p) => (p.successRate == null ? null : p.successRate * 100))]);
    charts[2].setData([t, s.history.map((p) => p.p50Ms), s.history.map((p) => p.p99Ms)]);
    el.querySelector('#wl tbody').innerHTML = s.workloads.map((w) => `<tr><td>${esc(w.workload)}</td>${signalCells(w)}</tr>`).join('');
    el.querySelector('#in tbody').innerHTML =
      s.inbound
        .map(
          (e) =>
            `<tr><td><a href="#/service/${encodeURIComponent(e.source)}">${esc(short(e.source))}</a> <span class="muted">${esc(e.sourceWorkload)}</span></td>${signalCells(e)}</tr>`,
        )
        .join('') || '<tr><td class="muted" colspan="6">none in the window</td></tr>';
    el.querySelector('#out tbody').innerHTML =
      s.outbound
        .map(
          (e) =>
            `<tr><td><a href="#/service/${encodeURIComponent(e.destination)}">${esc(short(e.destination))}</a> <span class="muted">from ${esc(e.sourceWorkload)}</span></td>${signalCells(e)}</tr>`,
        )
        .join('') || '<tr><td class="muted" colspan="6">none in the window</td></tr>';
    el.querySelector('#proxies').innerHTML = s.proxies.map((p) => `<div>${syncPill(p)} <code>${esc(p.id)}</code></div>`).join('') || '<span class="muted">none connected</span>';
    const tr = await get(`/api/v1/traces?limit=5&service=${encodeURIComponent(name)}`);
    el.querySelector('#traces').innerHTML =
      tr.items.map((x) => `<div><a href="#/trace/${x.traceId}">${esc(x.rootName)}</a> <span class="muted">${fmt.ms(x.durationMs)}, ${x.spans} spans</span></div>`).join('') ||
      '<span class="muted">none yet</span>';
  }
  return { refresh, dispose: () => charts.forEach((c) => c.destroy()) };
}

const inSync = (p) => p.current !== undefined && ['listeners', 'routes', 'clusters', 'endpoints'].every((k) => p.versions[k] === p.current[k]);
const syncPill = (p) =>
  !p.connected ? '<span class="pill bad">disconnected</span>' : inSync(p) ? '<span class="pill ok">in sync</span>' : '<span class="pill bad">not in sync</span>';

/** Proxies: connection, whether their config is in sync, NACKs with the reason. */
export function proxiesView(el) {
  el.innerHTML = `<h1>Proxies</h1><div class="panel"><table id="px"><thead><tr><th>Proxy</th><th>Service</th><th>State</th><th>Versions (acked)</th><th>NACKs</th></tr></thead><tbody></tbody></table></div>`;
  async function refresh() {
    const { items } = await get('/api/v1/proxies');
    el.querySelector('#px tbody').innerHTML =
      items
        .map((p) => {
          const last = p.nacks[p.nacks.length - 1];
          const nack = last
            ? `<span class="bad">${p.nacks.length}</span>: ${esc(last.typeUrl.split('.').pop())} v${esc(last.version)}: ${esc(last.message)}`
            : '<span class="muted">none</span>';
          return `<tr><td><code>${esc(p.id)}</code></td><td>${esc(p.service)}.${esc(p.namespace)}</td><td>${syncPill(p)}</td><td class="muted"><code>L ${esc(p.versions.listeners)} R ${esc(p.versions.routes)} C ${esc(p.versions.clusters)} E ${esc(p.versions.endpoints)}</code></td><td>${nack}</td></tr>`;
        })
        .join('') || '<tr><td colspan="5" class="muted">no proxy connected</td></tr>';
  }
  return { refresh, dispose() {} };
}

/** Where spans go when the MeshConfig names a collector: proxies send there, not to the control plane. */
function collectorNote(mesh) {
  const url = mesh?.spec?.tracing?.collector;
  if (!url) return '';
  return `<div class="panel warn" data-testid="collector-note">Proxies send their spans to the collector at <code>${esc(url)}</code> (MeshConfig <code>spec.tracing.collector</code>), not to the control plane: find the traces there. Only spans sent to the control plane show here.</div>`;
}

/** Recent traces, refreshed with the page; a trace whose spans do not form one tree yet is marked in progress. */
export function tracesView(el) {
  el.innerHTML = `<h1>Recent traces</h1><div id="collector-note"></div><div class="panel"><table id="tr"><thead><tr><th>Root</th><th>Services</th><th class="num">Spans</th><th class="num">Errors</th><th class="num">Duration</th><th>When</th></tr></thead><tbody></tbody></table></div>`;
  async function refresh() {
    const { items } = await get('/api/v1/traces?limit=50');
    el.querySelector('#collector-note').innerHTML = collectorNote(await get('/api/v1/meshconfigs/default').catch(() => undefined));
    const progress = (x) => (x.complete ? '' : ' <span class="pill warn" data-testid="in-progress">in progress</span>');
    el.querySelector('#tr tbody').innerHTML =
      items
        .map(
          (x) =>
            `<tr><td><a href="#/trace/${x.traceId}">${esc(x.rootName)}</a> <span class="muted">${esc(x.rootService)}</span>${progress(x)}</td><td>${esc(x.services.join(', '))}</td><td class="num">${x.spans}</td><td class="num ${x.errors ? 'bad' : ''}">${x.errors}</td><td class="num">${fmt.ms(x.durationMs)}</td><td class="muted">${new Date(x.startUnixMs).toLocaleTimeString()}</td></tr>`,
        )
        .join('') || '<tr><td colspan="6" class="muted">no traces received yet</td></tr>';
  }
  return { refresh, dispose() {} };
}

/**
 * One trace as a waterfall: spans in parent/child order, bars placed on the trace's time line.
 * Refreshed while shown: spans that arrive later join the tree. A span whose parent has not
 * arrived yet hangs under a placeholder for that parent, not as a second root, and the trace
 * says "in progress" until its spans form one tree.
 */
export function traceView(el, [traceId]) {
  el.innerHTML = `<h1>Trace <code>${esc(traceId)}</code> <span id="trace-state" data-testid="trace-state" class="pill"></span></h1><div class="panel waterfall" data-testid="waterfall"></div><div class="panel"><h2>Span details</h2><pre id="detail" class="muted">click a span</pre></div>`;
  let shown = -1;
  async function refresh() {
    const { spans, complete } = await get(`/api/v1/traces/${encodeURIComponent(traceId)}`);
    if (spans.length === shown) return;
    shown = spans.length;
    const state = el.querySelector('#trace-state');
    state.className = `pill ${complete ? 'ok' : 'warn'}`;
    state.dataset.complete = String(complete);
    state.textContent = complete ? `complete: ${spans.length} spans` : `in progress: ${spans.length} spans so far`;
    const start = Math.min(...spans.map((s) => s.startUnixMs));
    const total = Math.max(...spans.map((s) => s.endUnixMs)) - start || 1;
    const ids = new Set(spans.map((s) => s.spanId));
    const children = new Map();
    for (const s of spans) {
      const p = s.parentSpanId ?? '';
      if (!children.has(p)) children.set(p, []);
      children.get(p).push(s);
    }
    // The root: the span without a parent, else the earliest whose parent is not here (the caller's, outside the mesh).
    const orphans = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId)).sort((a, b) => a.startUnixMs - b.startUnixMs);
    const root = orphans.find((s) => !s.parentSpanId) ?? orphans[0];
    const rows = [];
    const walk = (parent, depth) =>
      (children.get(parent) ?? [])
        .sort((a, b) => a.startUnixMs - b.startUnixMs)
        .forEach((s) => {
          rows.push([s, depth]);
          walk(s.spanId, depth + 1);
        });
    if (root) {
      rows.push([root, 0]);
      walk(root.spanId, 1);
    }
    const missing = [...new Set(orphans.filter((s) => s !== root).map((s) => s.parentSpanId))];
    for (const parent of missing) {
      rows.push([{ missing: parent }, 0]);
      walk(parent, 1);
    }
    const box = el.querySelector('.waterfall');
    box.innerHTML = rows
      .map(([s, d], i) => {
        if (s.missing)
          return `<div class="row pending" data-missing="${esc(s.missing)}"><div class="label muted">span <code>${esc(s.missing)}</code> not received yet</div><div class="bar-wrap"></div><div></div></div>`;
        const left = ((s.startUnixMs - start) / total) * 100;
        const width = ((s.endUnixMs - s.startUnixMs) / total) * 100;
        const kind = s.kind === 2 ? 'server' : s.kind === 3 ? 'client' : 'span';
        return `<div class="row span" data-i="${i}" data-span="${s.spanId}" data-parent="${s.parentSpanId ?? ''}" data-depth="${d}"><div class="label" style="padding-left:${d * 16}px"><b>${esc(s.service)}</b> ${esc(s.name)} <span class="muted">${kind}</span></div><div class="bar-wrap"><div class="bar ${s.statusCode === 2 ? 'err' : ''}" style="left:${left}%;width:${width}%"></div></div><div class="num muted">${fmt.ms(s.endUnixMs - s.startUnixMs)}</div></div>`;
      })
      .join('');
    box
      .querySelectorAll('.row.span')
      .forEach((r) => r.addEventListener('click', () => (el.querySelector('#detail').textContent = JSON.stringify(rows[Number(r.dataset.i)][0], null, 2))));
  }
  return { refresh, dispose() {} };
}

/** Live tap of one service. */
export function tapView(el, [initial]) {
  el.innerHTML = `<h1>Live tap</h1><form class="tap"><label>Service <select name="service"></select></label><label>Path prefix <input name="path" placeholder="/"></label><label>Method <input name="method" size="6"></label><label>Status <input name="status" size="5" placeholder="5xx"></label><button>Start</button><span id="tap-state" class="muted"></span></form>
    <div class="panel"><table id="tap"><thead><tr><th>Time</th><th>Proxy</th><th>Dir</th><th>From</th><th>To</th><th>Request</th><th class="num">Status</th><th class="num">Latency</th></tr></thead><tbody></tbody></table></div>`;
  let stop;
  const form = el.querySelector('form');
  get('/api/v1/proxies').then(({ items }) => {
    const services = [...new Set(items.map((p) => `${p.service}.${p.namespace}`))].sort();
    form.service.innerHTML = services.map((s) => `<option ${s === initial ? 'selected' : ''}>${esc(s)}</option>`).join('');
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    stop?.();
    const q = new URLSearchParams();
    for (const k of ['path', 'method', 'status']) if (form[k].value) q.set(k, form[k].value);
    const state = el.querySelector('#tap-state');
    state.textContent = `tapping ${form.service.value}…`;
    const body = el.querySelector('#tap tbody');
    stop = stream(
      `/api/v1/tap/${encodeURIComponent(form.service.value)}?${q}`,
      (x) => {
        const tr = document.createElement('tr');
        tr.innerHTML = `<td class="muted">${new Date(x.time).toLocaleTimeString()}</td><td><code>${esc(x.proxy.split('~')[1] ?? x.proxy)}</code></td><td>${x.direction === 'inbound' ? 'in' : 'out'}</td><td>${esc(short(x.sourceService))}</td><td>${esc(short(x.service))}</td><td>${esc(x.method)} ${esc(x.authority)}${esc(x.path)}</td><td class="num ${x.status >= 500 ? 'bad' : ''}">${x.status}${x.proxyError ? ` <span class="muted">${esc(x.proxyError)}</span>` : ''}</td><td class="num">${fmt.ms(x.durationMs)}</td>`;
        body.prepend(tr);
        while (body.children.length > 200) body.lastChild.remove();
      },
      (e) => (state.textContent = `the tap stopped: ${e.message}`),
    );
  });
  return { refresh() {}, dispose: () => stop?.() };
}
