// Public surface of the control plane for the CLI.
export { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from './control-plane.js';
export { TRUST_BUNDLE_FILE } from './serving-tls.js';
