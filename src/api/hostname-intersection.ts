// Which host names a route serves on a Gateway listener, as the Gateway API defines it: the
// intersection of the listener's hostname and the route's hostnames, wildcards included.

/** `*.example.com` covers `a.example.com` and `a.b.example.com`, not `example.com` (Gateway API listener semantics). */
function covers(wildcard: string, name: string): boolean {
  return wildcard.startsWith('*.') && name.length > wildcard.length - 1 && name.endsWith(wildcard.slice(1));
}

/** The names two hostnames share: the more specific of the two, or undefined when they share none. */
export function intersectHostname(a: string, b: string): string | undefined {
  if (a === b) return a;
  if (covers(a, b)) return b;
  if (covers(b, a)) return a;
  return undefined;
}

/**
 * The host names a route serves on a listener: the route's names the listener accepts (each
 * narrowed to the more specific of the two), the listener's name when the route has none, or
 * `['*']` when neither has any. An empty list means none match: the route does not attach
 * (condition Accepted False, reason NoMatchingListenerHostname).
 */
export function routeHostnamesOnListener(listenerHostname: string | undefined, routeHostnames: readonly string[] | undefined): string[] {
  const route = routeHostnames?.length ? routeHostnames : undefined;
  if (listenerHostname === undefined) return route ? [...new Set(route)] : ['*'];
  if (!route) return [listenerHostname];
  const out = new Set<string>();
  for (const h of route) {
    const shared = intersectHostname(listenerHostname, h);
    if (shared !== undefined) out.add(shared);
  }
  return [...out];
}
