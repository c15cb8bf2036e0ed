// Telemetry aggregation in the control plane: stats collection, spans, the telemetry API.
export { createTelemetryApi, type TelemetryApiDeps } from './telemetry-api.js';
export { serveSpanSocket } from './span-socket.js';
export { SpanStore } from './span-store.js';
export { StatsCollector } from './stats-collector.js';
