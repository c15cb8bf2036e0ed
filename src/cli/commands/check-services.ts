// The service lines of `trellis check`: services failing or slow beyond the operator's
// thresholds over the telemetry window, with their numbers, from the control plane's stat answer.
import type { ServiceStat, StatAnswer } from '../../api/telemetry.js';
import type { CheckLine } from './check.js';

export interface ServiceThresholds {
  /** Lowest acceptable success rate, in percent (0..100). */
  minSuccessPercent: number;
  /** Highest acceptable p99 latency in milliseconds; undefined: not checked. */
  maxP99Ms: number | undefined;
}

export const DEFAULT_SERVICE_THRESHOLDS: ServiceThresholds = { minSuccessPercent: 95, maxP99Ms: undefined };

const percent = (rate: number): string => `${(rate * 100).toFixed(2)}%`;

function successDetail(s: ServiceStat): string {
  return `${s.service} ${percent(s.successRate!)} (${s.successes} of ${s.requests} requests succeeded)`;
}

/** One line for success rates and one for p99 latency, over the services that served requests in the window. */
export function serviceLines(stat: StatAnswer, t: ServiceThresholds): CheckLine[] {
  const window = `over the last ${stat.windowSeconds} s`;
  const served = stat.services.filter((s) => s.requests > 0 && s.successRate !== null);
  const lines: CheckLine[] = [];
  const successCheck = `services succeeding (at least ${t.minSuccessPercent}%)`;
  if (served.length === 0) lines.push({ verdict: 'skip', check: successCheck, detail: `no service served requests ${window}` });
  else {
    const failing = served.filter((s) => s.successRate! * 100 < t.minSuccessPercent).sort((a, b) => a.successRate! - b.successRate!);
    const lowest = served.reduce((a, b) => (b.successRate! < a.successRate! ? b : a));
    lines.push(
      failing.length > 0
        ? { verdict: 'FAIL', check: successCheck, detail: `${failing.map(successDetail).join('; ')} ${window}` }
        : { verdict: 'ok', check: successCheck, detail: `${served.length} service(s) ${window}; the lowest: ${successDetail(lowest)}` },
    );
  }
  const latencyCheck = t.maxP99Ms === undefined ? 'services fast' : `services fast (p99 at most ${t.maxP99Ms} ms)`;
  const timed = served.filter((s) => s.p99Ms !== null);
  if (t.maxP99Ms === undefined) lines.push({ verdict: 'skip', check: latencyCheck, detail: 'no p99 threshold given (--max-p99-ms)' });
  else if (timed.length === 0) lines.push({ verdict: 'skip', check: latencyCheck, detail: `no service served requests ${window}` });
  else {
    const max = t.maxP99Ms;
    const slow = timed.filter((s) => s.p99Ms! > max).sort((a, b) => b.p99Ms! - a.p99Ms!);
    const slowest = timed.reduce((a, b) => (b.p99Ms! > a.p99Ms! ? b : a));
    const p99 = (s: ServiceStat) => `${s.service} p99 ${s.p99Ms!.toFixed(1)} ms (${s.requests} requests)`;
    lines.push(
      slow.length > 0
        ? { verdict: 'FAIL', check: latencyCheck, detail: `${slow.map(p99).join('; ')} ${window}` }
        : { verdict: 'ok', check: latencyCheck, detail: `${timed.length} service(s) ${window}; the slowest: ${p99(slowest)}` },
    );
  }
  return lines;
}
