// Public surface of the control plane for the CLI.
export { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from './control-plane.js';
export { TRUST_BUNDLE_FILE } from './serving-tls.js';
export {
  readBackupFile,
  restoreBackup,
  truncateLogAtCorruption,
  verifyStore,
  writeBackupFile,
  type RepairResult,
  type RestoreResult,
  type SnapshotData,
  type StoreError,
  type StoreProblem,
  type StoreVerifyReport,
} from './store/index.js';
