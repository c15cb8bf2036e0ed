// Push latency on one stream: per type, when the oldest change not yet written to the proxy
// arrived, so the response that carries it can say how long the change took to get there.
import type { ServedTypeUrl } from '../../xds/type-urls.js';

export class PendingPushes {
  /** Invariant: a type is here only while a change of it has not been written to the proxy. */
  readonly #since = new Map<ServedTypeUrl, number>();
  readonly #written = new Map<ServedTypeUrl, string>();

  /**
   * The config of `typeUrl` changed because of a change that arrived at `since`
   * (performance.now()); an older change still waiting keeps its time.
   */
  changed(typeUrl: ServedTypeUrl, since: number): void {
    if (!this.#since.has(typeUrl)) this.#since.set(typeUrl, since);
  }

  /** A response of `typeUrl` carrying `version` was written at `now`: the seconds its oldest change waited, or undefined when it carried none. */
  written(typeUrl: ServedTypeUrl, version: string, now: number): number | undefined {
    this.#written.set(typeUrl, version);
    const since = this.#since.get(typeUrl);
    if (since === undefined) return undefined;
    this.#since.delete(typeUrl);
    return (now - since) / 1000;
  }

  /** A response of `typeUrl` could not be sent: the changes it carried will not arrive. */
  dropped(typeUrl: ServedTypeUrl): void {
    this.#since.delete(typeUrl);
  }

  /** The config moved back to what the proxy was last sent (`versionOf` the current snapshot): nothing is on its way. */
  settle(versionOf: (typeUrl: ServedTypeUrl) => string): void {
    for (const typeUrl of this.#since.keys()) if (this.#written.get(typeUrl) === versionOf(typeUrl)) this.#since.delete(typeUrl);
  }
}
