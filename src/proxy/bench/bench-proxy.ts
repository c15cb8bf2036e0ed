// Runs one DataPlane for load tests: an outbound HTTP listener on 127.0.0.1:<listenPort>
// routing everything to 127.0.0.1:<upstreamPort>. Usage:
//   node .build/dataplane/src/proxy/bench/bench-proxy.js <listenPort> <upstreamPort> [least_request|round_robin]
// then e.g. `wrk -t1 -c32 -d10s http://127.0.0.1:<listenPort>/` (see the report for figures).
import { DataPlane } from '../data-plane.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { cluster, endpoint, httpListener, routeTable, rule, runtimeConfig, virtualHost } from '../testing/config-builder.js';

const [listenPort, upstreamPort, policy] = process.argv.slice(2);
if (!listenPort || !upstreamPort) {
  console.error('usage: bench-proxy <listenPort> <upstreamPort> [least_request|round_robin]');
  process.exit(2);
}
const plane = new DataPlane({ metrics: new ProxyMetrics() });
const result = await plane.apply(
  runtimeConfig({
    listeners: [httpListener('bench', Number(listenPort))],
    routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('all', 'upstream')])])],
    clusters: [cluster('upstream', [endpoint(Number(upstreamPort))], { lbPolicy: policy === 'round_robin' ? 'round_robin' : 'least_request' })],
  }),
);
if (!result.ok) {
  console.error(JSON.stringify(result.failed));
  process.exit(1);
}
console.log(`bench proxy on 127.0.0.1:${plane.port('bench')} -> 127.0.0.1:${upstreamPort}`);
process.on('SIGTERM', () => void plane.close(100).then(() => process.exit(0)));
