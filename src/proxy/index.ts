// Public surface of the proxy for the CLI.
export { defaultNodeId, startSidecar, type RunningSidecar, type SidecarOptions } from './sidecar.js';
