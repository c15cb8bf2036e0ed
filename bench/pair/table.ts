// The figures of a run: samples per path and section, reduced to medians, printed as one
// Markdown table and written as JSON with the same numbers.
import { writeFileSync } from 'node:fs';
import type { Memory } from './processes.js';

/** One measurement of a path in one round; what a section does not measure is left out. */
export interface Sample {
  /** Requests a second, or MB/s for a transfer. */
  readonly rate: number;
  readonly p50?: number;
  readonly p90?: number;
  readonly p99?: number;
  /** CPU µs per request (or per MB) of each proxy of the path. */
  readonly cpu?: readonly number[];
  /** Peak memory of each proxy during the run. */
  readonly memory?: readonly Memory[];
  /** Requests of the runs that failed or got no 2xx (left out of the rate and the percentiles). */
  readonly errors?: number;
}

export interface Row {
  readonly section: string;
  readonly path: string;
  readonly unit: 'req/s' | 'MB/s' | '–';
  /** The row the rate and p99 ratios are taken against (the HAProxy mTLS pair of the section). */
  readonly reference?: Row;
  /** This row is that reference itself (its ratios are 1). */
  readonly isReference?: boolean;
  readonly samples: Sample[];
}

export interface Summary {
  readonly section: string;
  readonly path: string;
  readonly unit: string;
  readonly rate: number;
  readonly rateVsHaproxy?: number;
  readonly p50?: number;
  readonly p90?: number;
  readonly p99?: number;
  readonly p99VsHaproxy?: number;
  /** Of the proxy that spent more (per request, or per MB), median over rounds. */
  readonly cpuPerUnitUs?: number;
  /** Of the larger proxy of the path, MB, median over rounds. */
  readonly rssMb?: number;
  readonly pssMb?: number;
  readonly anonMb?: number;
  /** Failed requests over all rounds. */
  readonly errors?: number;
  readonly rounds: number;
}

const median = (xs: readonly number[]): number | undefined => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : undefined);
const medianOf = (samples: readonly Sample[], pick: (s: Sample) => number | undefined) => median(samples.map(pick).filter((x): x is number => x !== undefined));
const maxOf = (xs: readonly number[] | undefined) => (xs && xs.length ? Math.max(...xs) : undefined);

export function summarize(row: Row): Summary {
  const s = row.samples;
  const rate = medianOf(s, (x) => x.rate) ?? NaN;
  const p99 = medianOf(s, (x) => x.p99);
  const refRow = row.isReference ? row : row.reference;
  const ref = refRow ? summarizeRates(refRow) : undefined;
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return defined({
    section: row.section,
    path: row.path,
    unit: row.unit,
    rate,
    rateVsHaproxy: ref && row.unit !== '–' ? rate / ref.rate : undefined,
    p50: medianOf(s, (x) => x.p50),
    p90: medianOf(s, (x) => x.p90),
    p99,
    p99VsHaproxy: ref?.p99 !== undefined && p99 !== undefined ? p99 / ref.p99 : undefined,
    cpuPerUnitUs: medianOf(s, (x) => maxOf(x.cpu)),
    rssMb: medianOf(s, (x) => maxOf(x.memory?.map((m) => m.rss))),
    pssMb: medianOf(s, (x) => maxOf(x.memory?.map((m) => m.pss))),
    anonMb: medianOf(s, (x) => maxOf(x.memory?.map((m) => m.anon))),
    errors: s.some((x) => x.errors !== undefined) ? s.reduce((n, x) => n + (x.errors ?? 0), 0) : undefined,
    rounds: s.length,
  });
}

function summarizeRates(row: Row): { rate: number; p99?: number } {
  const p99 = medianOf(row.samples, (x) => x.p99);
  return { rate: medianOf(row.samples, (x) => x.rate) ?? NaN, ...(p99 !== undefined ? { p99 } : {}) };
}

/** The Markdown table: one line per section × path. */
export function formatTable(summaries: readonly Summary[]): string {
  const num = (x: number | undefined, digits = 0) =>
    x === undefined || Number.isNaN(x) ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const ratio = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(2)}×`);
  const lines = [
    '| section | path | rate | vs HAProxy pair | p50 µs | p90 µs | p99 µs | p99 vs HAProxy pair | CPU µs per req (per MB) per proxy | RSS MB | PSS MB | anon MB | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of summaries) {
    const rate = s.unit === '–' ? '–' : `${num(s.rate, s.unit === 'MB/s' ? 1 : 0)} ${s.unit}`;
    lines.push(
      `| ${[s.section, s.path, rate, ratio(s.rateVsHaproxy), num(s.p50), num(s.p90), num(s.p99), ratio(s.p99VsHaproxy), num(s.cpuPerUnitUs, 1), num(s.rssMb, 1), num(s.pssMb, 1), num(s.anonMb, 1), num(s.errors)].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

export function writeJson(file: string, header: Record<string, unknown>, rows: readonly Row[]): void {
  const figures = rows.map((r) => ({ ...summarize(r), samples: r.samples }));
  writeFileSync(file, JSON.stringify({ ...header, rows: figures }, null, 2) + '\n');
}
