// Trellis dashboard: hash routes to pages, refreshed every two seconds while shown.
import { proxiesView, serviceView, tapView, topologyView, traceView, tracesView } from './views.js';

const ROUTES = [
  [/^#?\/?$/, topologyView, 'topology'],
  [/^#\/service\/(.+)$/, serviceView, 'topology'],
  [/^#\/proxies$/, proxiesView, 'proxies'],
  [/^#\/traces$/, tracesView, 'traces'],
  [/^#\/trace\/([0-9a-f]+)$/, traceView, 'traces'],
  [/^#\/tap(?:\/(.+))?$/, tapView, 'tap'],
];

let current;
let timer;
const status = document.getElementById('status');

async function tick() {
  if (!current) return;
  try {
    await current.refresh();
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    status.className = 'status';
  } catch (e) {
    status.textContent = `control plane: ${e.message}`;
    status.className = 'status bad';
  }
}

function show() {
  current?.dispose();
  clearInterval(timer);
  const view = document.getElementById('view');
  const hash = location.hash || '#/';
  const match = ROUTES.find(([re]) => re.test(hash));
  if (!match) {
    view.textContent = `No page ${hash}`;
    return;
  }
  const [re, render, nav] = match;
  const params = re
    .exec(hash)
    .slice(1)
    .map((p) => (p === undefined ? undefined : decodeURIComponent(p)));
  document.querySelectorAll('[data-nav]').forEach((a) => a.classList.toggle('active', a.dataset.nav === nav));
  current = render(view, params);
  void tick();
  timer = setInterval(tick, 2000);
}

window.addEventListener('hashchange', show);
show();
