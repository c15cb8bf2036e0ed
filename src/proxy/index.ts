// Public surface of the proxy for the CLI.
export { defaultNodeId, startSidecar, type ReadinessOptions, type RunningSidecar, type SidecarOptions } from './sidecar.js';
export { formatProbeSpec, parseProbeSpec, type ProbeSpec } from './readiness/app-probe.js';
