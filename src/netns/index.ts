// Network namespaces: test hosts (HostLab) and running commands inside a namespace.
export { HostLab, cleanupLeftoverLabs, type LabHost, type HostLabOptions } from './host-lab.js';
export { canManageNamespaces, deleteNamespace, listNamespaces, namespacePids, run, runIn, runInAsync, spawnIn } from './netns-exec.js';
