// The state-of-the-world xDS protocol on one ADS stream: per type URL, what the proxy
// subscribed to, what was last sent (version, nonce), and whether it was ACKed or NACKed.
// Knows nothing of gRPC: requests come in as values, responses go out through `send`.
import type { Snapshot } from '../translator/types.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE, SERVED_TYPES_IN_ORDER, type ServedTypeUrl } from '../../xds/type-urls.js';
import type { DiscoveryRequest, OutgoingResponse } from './ads-service.js';

/** Types whose empty first request means "everything" (legacy wildcard, as Envoy sends LDS and CDS). */
const WILDCARD_TYPES: ReadonlySet<string> = new Set([LISTENER_TYPE, CLUSTER_TYPE]);

interface TypeState {
  wildcard: boolean;
  names: ReadonlySet<string>;
  /** Invariant: set after the first request for this type on the stream. */
  subscribed: boolean;
  sentVersion?: string;
  sentNonce?: string;
  /** A response was sent and neither ACKed nor NACKed yet; updates wait for the next request. */
  awaiting: boolean;
  /** The last version the proxy refused, or the stream could not carry: never sent again on this stream. */
  rejectedVersion?: string;
}

export interface SessionHooks {
  /** The proxy accepted `version` of `typeUrl`. */
  onAck(typeUrl: ServedTypeUrl, version: string): void;
  /** The proxy refused the response with `nonce` carrying `version`. */
  onNack(typeUrl: ServedTypeUrl, version: string, nonce: string, message: string): void;
  /** A request for a type URL Trellis does not serve, ignored. */
  onUnknownType(typeUrl: string): void;
}

export function resourcesOf(s: Snapshot, typeUrl: ServedTypeUrl): ReadonlyMap<string, object> {
  switch (typeUrl) {
    case CLUSTER_TYPE:
      return s.clusters;
    case ENDPOINT_TYPE:
      return s.endpoints;
    case LISTENER_TYPE:
      return s.listeners;
    case ROUTE_TYPE:
      return s.routes;
    case SECRET_TYPE:
      return s.secrets ?? new Map();
  }
}

const isServed = (t: string): t is ServedTypeUrl => (SERVED_TYPES_IN_ORDER as readonly string[]).includes(t);

/** The version of one type in a snapshot ('' for secrets of a proxy that has none). */
export function versionOf(s: Snapshot, typeUrl: ServedTypeUrl): string {
  return typeUrl === SECRET_TYPE ? (s.secretsVersion ?? '') : s.versions[typeUrl];
}

function sameNames(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((n) => b.has(n));
}

/** The protocol state of one stream. */
export class AdsSession {
  readonly #types = new Map<ServedTypeUrl, TypeState>();
  readonly #send: (r: OutgoingResponse) => boolean;
  readonly #hooks: SessionHooks;
  #nonce = 0;

  /** `send` writes a response, or returns false when it cannot be sent (too large for the stream). */
  constructor(send: (r: OutgoingResponse) => boolean, hooks: SessionHooks) {
    this.#send = send;
    this.#hooks = hooks;
  }

  /**
   * Handles one request against the proxy's current snapshot. A request whose nonce is not
   * the last one sent for its type is stale and ignored. Otherwise it ACKs (version_info
   * equals the sent version) or NACKs (error_detail set) the last response, updates the
   * subscription, and a response follows when the subscription changed, on the first
   * request for the type, or when the snapshot moved on while the response was outstanding.
   */
  handleRequest(req: DiscoveryRequest, snapshot: Snapshot): void {
    const typeUrl = req.typeUrl ?? '';
    if (!isServed(typeUrl)) {
      this.#hooks.onUnknownType(typeUrl);
      return;
    }
    const st = this.#state(typeUrl);
    const nonce = req.responseNonce ?? '';
    if (nonce !== '' && nonce !== st.sentNonce) return; // stale: a newer response is on its way
    if (nonce !== '') {
      st.awaiting = false;
      if (req.errorDetail) {
        st.rejectedVersion = st.sentVersion;
        this.#hooks.onNack(typeUrl, st.sentVersion ?? '', nonce, req.errorDetail.message ?? '');
      } else if (req.versionInfo === st.sentVersion && st.sentVersion !== undefined) {
        this.#hooks.onAck(typeUrl, st.sentVersion);
      }
    }
    const names = req.resourceNames ?? [];
    const wildcard = names.includes('*') || (names.length === 0 && (st.subscribed ? st.wildcard : WILDCARD_TYPES.has(typeUrl)));
    const nameSet = new Set(names.filter((n) => n !== '*'));
    const changed = !st.subscribed || wildcard !== st.wildcard || !sameNames(nameSet, st.names);
    st.subscribed = true;
    st.wildcard = wildcard;
    st.names = nameSet;
    if (nonce !== '' && !req.errorDetail && typeUrl === CLUSTER_TYPE) this.#clustersArrived();
    const version = versionOf(snapshot, typeUrl);
    if (this.#waitsForClusters(typeUrl)) {
      // Sent once the proxy has the clusters it may name (setSnapshot after the CDS ACK).
      if (changed) st.sentVersion = undefined;
    } else if (changed || (!st.awaiting && version !== st.sentVersion && version !== st.rejectedVersion)) {
      this.#respond(typeUrl, st, snapshot);
    }
    // A reply to one type may free others held behind it (listeners and routes behind clusters).
    if (nonce !== '') this.setSnapshot(snapshot);
  }

  /** A new snapshot: every subscribed type whose version changed is sent, in the order SDS, CDS, EDS, LDS, RDS. */
  setSnapshot(snapshot: Snapshot): void {
    for (const typeUrl of SERVED_TYPES_IN_ORDER) {
      const st = this.#types.get(typeUrl);
      if (!st?.subscribed || st.awaiting || this.#waitsForClusters(typeUrl)) continue;
      const version = versionOf(snapshot, typeUrl);
      if (version !== st.sentVersion && version !== st.rejectedVersion) this.#respond(typeUrl, st, snapshot);
    }
  }

  /**
   * Listeners and routes name clusters, so while a CDS response is unanswered they wait: sent
   * before the clusters they name arrived, the proxy would refuse them, and a refused version is
   * never sent again (Envoy's order: CDS, EDS, then LDS and RDS). A proxy that has not asked for
   * clusters (proxyless gRPC asks for LDS and RDS first) never waits.
   */
  #waitsForClusters(typeUrl: ServedTypeUrl): boolean {
    if (typeUrl !== LISTENER_TYPE && typeUrl !== ROUTE_TYPE) return false;
    return this.#types.get(CLUSTER_TYPE)?.awaiting === true;
  }

  /**
   * New clusters were accepted: listeners and routes the proxy refused may have named clusters
   * it did not have yet, so their refused versions are offered once more.
   */
  #clustersArrived(): void {
    for (const t of [LISTENER_TYPE, ROUTE_TYPE] as const) {
      const st = this.#types.get(t);
      if (st === undefined || st.rejectedVersion === undefined) continue;
      if (st.sentVersion === st.rejectedVersion) st.sentVersion = undefined;
      st.rejectedVersion = undefined;
    }
  }

  #respond(typeUrl: ServedTypeUrl, st: TypeState, snapshot: Snapshot): void {
    // A proxy subscribed to no names of a named type (RDS, EDS) has unsubscribed: nothing to send.
    if (!st.wildcard && st.names.size === 0) return;
    const all = resourcesOf(snapshot, typeUrl);
    const resources = st.wildcard ? [...all.values()] : [...st.names].sort().flatMap((n) => all.get(n) ?? []);
    const nonce = String(++this.#nonce);
    const version = versionOf(snapshot, typeUrl);
    // Not sent: the proxy keeps what it has of this type, as after a NACK, until a new version.
    if (!this.#send({ versionInfo: version, typeUrl, nonce, resources })) {
      st.rejectedVersion = version;
      return;
    }
    st.sentVersion = version;
    st.sentNonce = nonce;
    st.awaiting = true;
  }

  /** True while the stream asks for resources of `typeUrl` (every one, or some by name). */
  asksFor(typeUrl: ServedTypeUrl): boolean {
    const st = this.#types.get(typeUrl);
    return st !== undefined && st.subscribed && (st.wildcard || st.names.size > 0);
  }

  #state(typeUrl: ServedTypeUrl): TypeState {
    let st = this.#types.get(typeUrl);
    if (!st) this.#types.set(typeUrl, (st = { wildcard: false, names: new Set(), subscribed: false, awaiting: false }));
    return st;
  }
}
