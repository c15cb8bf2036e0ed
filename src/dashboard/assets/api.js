// Trellis dashboard: reading the control plane's JSON API (same origin).

// The operator token (read-only is enough): opened as /dashboard/?token=..., kept for this tab
// only and taken out of the address bar so it is not left in the history.
const params = new URLSearchParams(location.search);
if (params.has('token')) {
  sessionStorage.setItem('trellisToken', params.get('token'));
  history.replaceState(null, '', location.pathname + location.hash);
}
const token = sessionStorage.getItem('trellisToken');

/** GET a JSON document; throws an Error with the server's message on failure. */
export async function get(path) {
  const res = await fetch(path, { headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  if (res.status === 401) throw new Error('this page needs an operator token: open /dashboard/?token=TOKEN (a read-only token is enough: trellis token create --read-only)');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status} from ${path}`);
  return body;
}

/**
 * Follows a server-sent event stream with the operator token (EventSource cannot send one).
 * Calls onEvent with each event's parsed data; answers a function that stops the stream.
 */
export function stream(path, onEvent, onError) {
  const abort = new AbortController();
  (async () => {
    const res = await fetch(path, { headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) }, signal: abort.signal });
    if (!res.ok || !res.body) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body?.error?.message ?? `HTTP ${res.status} from ${path}`);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += value;
      let end;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const lines = buffered.slice(0, end).split('\n');
        buffered = buffered.slice(end + 2);
        // Named events (`event: problem`) are not requests; like EventSource.onmessage, take only unnamed ones.
        if (lines.some((l) => l.startsWith('event:'))) continue;
        const data = lines
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (data) onEvent(JSON.parse(data));
      }
    }
  })().catch((e) => {
    if (e.name !== 'AbortError') onError?.(e);
  });
  return () => abort.abort();
}

export const fmt = {
  rps: (v) => (v == null ? '–' : v >= 100 ? v.toFixed(0) : v.toFixed(1)),
  pct: (v) => (v == null ? '–' : `${(v * 100).toFixed(v >= 0.9995 || v === 0 ? 0 : 1)}%`),
  ms: (v) => (v == null ? '–' : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`),
  cls: (rate) => (rate == null ? 'muted' : rate >= 0.99 ? 'ok' : rate >= 0.95 ? 'warn' : 'bad'),
};

/** Text-safe HTML. */
export function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** `reviews.default` -> `reviews` in the default namespace, for labels. */
export const short = (svc) => (svc.endsWith('.default') ? svc.slice(0, -'.default'.length) : svc);
