// The store as the REST API sees it, timing each committed batch from the call to apply()
// until the store answers (which it does only once the batch is durable).
import type { Store } from '../store/store.js';

/** `store`, reporting to `observe` the seconds each batch that changed something took to commit. */
export function withWriteTiming(store: Store, observe: (seconds: number) => void): Store {
  return {
    get: (key) => store.get(key),
    list: (kind, namespace) => store.list(kind, namespace),
    async apply(changes, opts) {
      const started = performance.now();
      const applied = await store.apply(changes, opts);
      if (applied.ok && opts?.dryRun !== true && applied.value.outcomes.some((o) => o.action !== 'unchanged')) observe((performance.now() - started) / 1000);
      return applied;
    },
    revision: () => store.revision(),
    watch: (fromRevision, listener) => store.watch(fromRevision, listener),
    health: () => store.health(),
    close: () => store.close(),
  };
}
