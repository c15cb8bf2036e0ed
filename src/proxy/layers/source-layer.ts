// Layer: who is calling. Outbound, the caller is this proxy's workload, named to the next hop
// in x-trellis-source. Inbound over mesh mTLS, the caller's service is its authenticated SPIFFE
// ID; the header may only name the workload of that same service (a forged service is ignored).
// Inbound plaintext (PERMISSIVE, transparent mode), the header is all there is: it is kept but
// reported as unauthenticated (source_authenticated="false"); no header is "unknown".
import type { HttpLayer } from '../http/layer.js';
import { addUpstreamHeader } from '../http/upstream-headers.js';
import { SOURCE_HEADER, type ProxyTelemetry } from '../telemetry/proxy-telemetry.js';

export function sourceLayer(telemetry: ProxyTelemetry): HttpLayer {
  const { service, workload } = telemetry.identity;
  const header = telemetry.sourceHeader;
  return {
    name: 'source',
    request(ctx, next) {
      if (ctx.direction === 'outbound') {
        ctx.sourceService = service;
        ctx.sourceWorkload = workload;
        ctx.sourceAuthenticated = true;
        addUpstreamHeader(ctx, SOURCE_HEADER, header);
      } else {
        const peer = ctx.peerIdentity;
        const s = peer !== undefined ? telemetry.peerSource(peer, ctx.header(SOURCE_HEADER)) : telemetry.source(ctx.header(SOURCE_HEADER));
        ctx.sourceService = s.service;
        ctx.sourceWorkload = s.workload;
        ctx.sourceAuthenticated = s.authenticated;
      }
      next(ctx);
    },
  };
}
