// Tables of golden signals for `trellis stat` and `trellis top`.
import type { GoldenSignals, StatAnswer } from '../api/telemetry.js';
import { formatTable } from './output.js';

export type StatSubject = 'services' | 'workloads' | 'edges';

const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(2)}%`);
const ms = (v: number | null): string => (v === null ? '-' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)}ms`);
const rps = (v: number): string => v.toFixed(2);
const cells = (s: GoldenSignals): string[] => [String(s.requests), pct(s.successRate), rps(s.rps), ms(s.p50Ms), ms(s.p95Ms), ms(s.p99Ms)];
const SIGNAL_HEADERS = ['REQUESTS', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99'];

/** The table of `subject` from a stat answer. */
export function statTable(a: StatAnswer, subject: StatSubject, sortByRps = false): string {
  const by = <T extends GoldenSignals>(xs: T[]) => (sortByRps ? [...xs].sort((x, y) => y.rps - x.rps) : xs);
  if (subject === 'services')
    return formatTable(
      ['SERVICE', 'WORKLOADS', ...SIGNAL_HEADERS],
      by(a.services).map((s) => [s.service, String(s.workloads.length), ...cells(s)]),
    );
  if (subject === 'workloads')
    return formatTable(
      ['SERVICE', 'WORKLOAD', ...SIGNAL_HEADERS],
      by(a.workloads).map((w) => [w.service, w.workload, ...cells(w)]),
    );
  return formatTable(
    ['FROM', 'FROM_WORKLOAD', 'TO', ...SIGNAL_HEADERS],
    by(a.edges).map((e) => [e.source, e.sourceWorkload, e.destination, ...cells(e)]),
  );
}
