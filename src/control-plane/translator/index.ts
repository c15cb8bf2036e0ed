// Public API of the translator.
export { translate } from './translate.js';
export { checkSnapshot } from './consistency.js';
export { canonicalJson, typeVersion } from './versions.js';
export type { MeshState, ProxyNode, Snapshot, TranslatorInput } from './types.js';
