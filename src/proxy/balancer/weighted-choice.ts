// Weighted random choice among a route's backends (traffic splitting): built once per config
// snapshot, one random number and a short scan per pick.

/** Picks items in proportion to their non-negative weights; undefined when every weight is 0. */
export class WeightedChoice<T> {
  private readonly items: T[] = [];
  /** Running totals: cumulative[i] is the sum of weights 0..i. */
  private readonly cumulative: number[] = [];
  readonly total: number;

  constructor(entries: readonly { readonly item: T; readonly weight: number }[]) {
    let total = 0;
    for (const e of entries) {
      if (!(e.weight > 0)) continue;
      total += e.weight;
      this.items.push(e.item);
      this.cumulative.push(total);
    }
    this.total = total;
  }

  pick(): T | undefined {
    const items = this.items;
    if (items.length <= 1) return items[0];
    const r = Math.random() * this.total;
    const cumulative = this.cumulative;
    for (let i = 0; i < items.length - 1; i++) if (r < cumulative[i]!) return items[i];
    return items[items.length - 1];
  }
}
