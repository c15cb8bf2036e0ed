// Public API of the workload registry.
export { WorkloadRegistry, type WorkloadEvent, type WorkloadRegistryOptions, type Lease } from './workload-registry.js';
export { workloadFromMetadata, workloadLabels, type Workload } from './workload.js';
export { systemClock, type Clock, type TimerHandle } from './clock.js';
export { readWorkloadsFile, RegistryFile, WORKLOADS_FILE } from './registry-file.js';
