// A Prometheus counter whose series are computed at scrape time from counts the data path
// keeps in plain numbers (prom-client's own inc hashes its labels on every call).
import { Counter, type Registry } from './prom-client-core.js';

/** Registers counter `name`; its series are the non-zero values `read` yields. */
export function scrapeCounter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[], read: () => Iterable<[Record<L, string>, number]>): void {
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter<L>) {
      this.reset();
      for (const [labels, n] of read()) if (n > 0) this.inc(labels as never, n);
    },
  });
}
