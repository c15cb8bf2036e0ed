// The sidecar's standing in the mesh as Prometheus metrics, read at scrape time: the xDS
// stream (connected, ACKs and NACKs per resource type and when the last came), how old the
// applied config is, and how long the workload certificate has left.
import { OptionalGauge } from './optional-gauge.js';
import { Counter, Gauge, type Registry } from './prom-client-core.js';

/** What the xDS client reports (XdsClient.healthByType). */
export interface XdsHealthSource {
  connected: boolean;
  /** When the data plane last applied a config (Unix ms). */
  lastUpdateMs: number | undefined;
  types: ReadonlyMap<string, { acks: number; nacks: number; lastAckMs: number | undefined; lastNackMs: number | undefined }>;
}

export interface MeshHealthSources {
  xds(): XdsHealthSource;
  /** The workload certificate's notAfter (Unix ms); undefined before the first one. */
  certificateNotAfterMs(): number | undefined;
  /** Wall clock (tests). */
  now?: () => number;
}

/** `type.googleapis.com/envoy.config.cluster.v3.Cluster` -> `Cluster`: short, bounded label values. */
export const typeLabel = (typeUrl: string): string => typeUrl.slice(typeUrl.lastIndexOf('.') + 1);

export function registerMeshHealthMetrics(registry: Registry, src: MeshHealthSources): void {
  const now = src.now ?? Date.now;
  new Gauge({
    name: 'trellis_xds_connected',
    help: '1 while the xDS stream to the control plane is up, else 0.',
    registers: [registry],
    collect(this: Gauge<string>) {
      this.set(src.xds().connected ? 1 : 0);
    },
  });
  new OptionalGauge(registry, 'trellis_config_age_seconds', 'Seconds since the data plane last applied a config from xDS (absent before the first).', () => {
    const at = src.xds().lastUpdateMs;
    return at === undefined ? undefined : (now() - at) / 1000;
  });
  new Counter<'type' | 'result'>({
    name: 'trellis_xds_responses_total',
    help: 'xDS responses this proxy ACKed or NACKed, by resource type (Cluster, Listener, RouteConfiguration, ClusterLoadAssignment, Secret) and result (ack, nack).',
    labelNames: ['type', 'result'],
    registers: [registry],
    collect(this: Counter<'type' | 'result'>) {
      this.reset();
      for (const [typeUrl, h] of src.xds().types) {
        const type = typeLabel(typeUrl);
        this.inc({ type, result: 'ack' }, h.acks);
        this.inc({ type, result: 'nack' }, h.nacks);
      }
    },
  });
  new Gauge<'type' | 'result'>({
    name: 'trellis_xds_last_response_timestamp_seconds',
    help: 'When this proxy last ACKed or NACKed a response of each resource type, in seconds since the Unix epoch.',
    labelNames: ['type', 'result'],
    registers: [registry],
    collect(this: Gauge<'type' | 'result'>) {
      this.reset();
      for (const [typeUrl, h] of src.xds().types) {
        const type = typeLabel(typeUrl);
        if (h.lastAckMs !== undefined) this.set({ type, result: 'ack' }, h.lastAckMs / 1000);
        if (h.lastNackMs !== undefined) this.set({ type, result: 'nack' }, h.lastNackMs / 1000);
      }
    },
  });
  new OptionalGauge(
    registry,
    'trellis_workload_certificate_expiry_seconds',
    "Seconds until the workload certificate's notAfter (negative once expired; absent before the first certificate).",
    () => {
      const notAfter = src.certificateNotAfterMs();
      return notAfter === undefined ? undefined : (notAfter - now()) / 1000;
    },
  );
}
