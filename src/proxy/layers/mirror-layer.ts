// Layer: request mirroring (shadow traffic), as Envoy's request_mirror_policies. For each mirror
// of the route (drawn per request at its share), a copy of the request, HTTP/1.x or HTTP/2 (gRPC
// included), goes to an endpoint of the mirror cluster with `-shadow` appended to its host, over
// that endpoint's pooled connections (mirror-copy.ts). The caller's request goes on at once and
// is never changed; the copy's answer, latency or failure never reaches it. A request body is
// kept while it streams upstream (the retry layer's BodyReplay, up to MAX_REPLAY_BYTES) and the
// copy goes once it is whole; a larger body is not copied (dropped_body_too_large). Bounded: at
// most MAX_MIRRORS_IN_FLIGHT copies (waiting for their body or sent) and MAX_MIRROR_BYTES_IN_FLIGHT
// copied body bytes at once per sidecar, and no HTTP/1.1 connection over the mirror cluster's
// maxConnections; a copy beyond a bound is dropped, never queued. Each outcome is counted
// against the mirror's service (trellis_mirror_requests_total).
import type { ClusterState } from '../data-plane-snapshot.js';
import { BodyReplay } from '../http/body-replay.js';
import type { HttpLayer } from '../http/layer.js';
import { MirrorH1Copy, MirrorH2Copy, type MirrorCopy } from '../http/mirror-copy.js';
import type { RequestContext, RoutedRequest } from '../http/request-context.js';
import type { MirrorOutcome } from '../metrics/cluster-events.js';
import { clusterConnections } from '../resilience/pending-requests.js';

/** Copies in flight per sidecar (waiting for their body, or sent and not over). */
export const MAX_MIRRORS_IN_FLIGHT = 256;
/** Body bytes of the copies in flight (a slow mirror holds them in its sockets' buffers). */
export const MAX_MIRROR_BYTES_IN_FLIGHT = 4 * 1024 * 1024;

/** Invariant: copies made and not over (waiting for their body, or sent and not answered). */
let inFlight = 0;
/** Invariant: the body bytes of the sent copies not over. */
let bytesInFlight = 0;

/** Copies and copied body bytes in flight in this process (tests read them). */
export function mirrorsInFlight(): { readonly copies: number; readonly bytes: number } {
  return { copies: inFlight, bytes: bytesInFlight };
}

function count(cluster: ClusterState, outcome: MirrorOutcome): void {
  cluster.runtime.events.mirrors[outcome]++;
}

/** The request body as it streams upstream, and the copies waiting for it to be whole. */
class MirroredBody extends BodyReplay {
  readonly waiting: MirrorCopy[] = [];

  override record(chunk: Buffer): void {
    super.record(chunk);
    if (this.overflow && this.waiting.length > 0) this.dropWaiting('dropped_body_too_large');
  }

  override end(): void {
    super.end();
    const copies = this.waiting.splice(0);
    for (const copy of copies) send(copy, this.chunks, this.bytes);
  }

  dropWaiting(outcome: MirrorOutcome): void {
    for (const copy of this.waiting.splice(0)) {
      count(copy.cluster, outcome);
      inFlight--;
    }
  }
}

function send(copy: MirrorCopy, body: readonly Buffer[], bytes: number): void {
  const cluster = copy.cluster;
  const limits = cluster.config.limits;
  const atMaxConnections = limits !== undefined && copy instanceof MirrorH1Copy && copy.endpoint.h1.idleCount === 0 && clusterConnections(cluster) >= limits.maxConnections;
  if (atMaxConnections || bytesInFlight + bytes > MAX_MIRROR_BYTES_IN_FLIGHT) {
    count(cluster, 'dropped_over_limit');
    inFlight--;
    return;
  }
  copy.bytes = bytes;
  bytesInFlight += bytes;
  count(cluster, 'sent');
  copy.send(body);
}

const copyOver = (copy: MirrorCopy, failed: boolean): void => {
  inFlight--;
  bytesInFlight -= copy.bytes;
  if (failed) count(copy.cluster, 'failed');
};

/** The request ended: copies still waiting for its body will not get it. */
function dropUnsent(ctx: RequestContext): void {
  if (ctx.replay instanceof MirroredBody) ctx.replay.dropWaiting('dropped_body_incomplete');
}

/** Makes the copy of `ctx` for `cluster`; sends it now, or once the body is whole. */
function mirror(ctx: RoutedRequest, cluster: ClusterState): void {
  const endpoint = cluster.balancer.pick();
  if (endpoint === undefined) return count(cluster, 'dropped_no_endpoint');
  if (inFlight >= MAX_MIRRORS_IN_FLIGHT) return count(cluster, 'dropped_over_limit');
  inFlight++;
  const copy = ctx.downstream.protocol === 'h2' ? new MirrorH2Copy(ctx, cluster, endpoint, copyOver) : new MirrorH1Copy(ctx, cluster, endpoint, copyOver);
  if (!ctx.downstream.hasBody) return send(copy, [], 0);
  let body = ctx.replay as MirroredBody | undefined;
  if (body === undefined) {
    // The retry layer below keeps this one for its retries too.
    ctx.replay = body = new MirroredBody();
    ctx.onDone(dropUnsent);
  }
  body.waiting.push(copy);
}

export const mirrorLayer: HttpLayer<RoutedRequest> = {
  name: 'mirror',
  request(ctx, next) {
    const mirrors = ctx.route.mirrors;
    for (let i = 0; i < mirrors.length; i++) {
      const m = mirrors[i]!;
      if (m.perMillion >= 1_000_000 || Math.random() * 1_000_000 < m.perMillion) mirror(ctx, m.target);
    }
    next(ctx);
  },
};
