// `trellis check`: is the mesh healthy? One line per check with a clear verdict, exit 1 when
// any check fails: control plane reachable, proxies connected, config in sync, NACKs,
// telemetry collected, services failing or slow beyond thresholds, certificates near expiry.
import { InvalidArgumentError, type Command } from 'commander';
import type { ProxyStatus } from '../../api/proxy-status.js';
import { addControlPlaneOption, controlPlaneUrl } from '../api-client.js';
import { processIo, type CliIo } from '../io.js';
import { typeName } from '../output.js';
import { createTelemetryClient, type TelemetryClient } from '../telemetry-client.js';
import { DEFAULT_SERVICE_THRESHOLDS, serviceLines, type ServiceThresholds } from './check-services.js';
import { gatewayLines, type WithStatus } from './check-gateways.js';
import { parseWindowFlag } from './stat.js';

export type Verdict = 'ok' | 'FAIL' | 'warn' | 'skip';
export interface CheckLine {
  verdict: Verdict;
  check: string;
  detail: string;
}

const inSync = (p: ProxyStatus): boolean => p.current !== undefined && (['listeners', 'routes', 'clusters', 'endpoints'] as const).every((k) => p.versions[k] === p.current![k]);

/** A certificate is near expiry once less than this share of its lifetime is left: proxies renew at half, so it has missed its renewal. */
const NEAR_EXPIRY_SHARE = 0.25;

function inTime(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 120 ? `${m} min` : `${(m / 60).toFixed(1)} h`;
}

/** The certificate line: which connected proxies hold a workload certificate, and whether any is near expiry or past it. */
export function certificateLine(connected: readonly ProxyStatus[], now: number): CheckLine {
  const check = 'certificates not near expiry';
  const held = connected.flatMap((p) => (p.certificate ? [{ id: p.id, from: Date.parse(p.certificate.notBefore), to: Date.parse(p.certificate.notAfter) }] : []));
  if (held.length === 0) return { verdict: 'skip', check, detail: connected.length === 0 ? 'no proxies' : 'no connected proxy holds a workload certificate' };
  const near = held.filter((c) => c.to - now < (c.to - c.from) * NEAR_EXPIRY_SHARE).sort((a, b) => a.to - b.to);
  if (near.length > 0) {
    const detail = near
      .map((c) => (c.to <= now ? `${c.id}: expired at ${new Date(c.to).toISOString()}` : `${c.id}: expires at ${new Date(c.to).toISOString()} (in ${inTime(c.to - now)})`))
      .join('; ');
    return { verdict: 'FAIL', check, detail: `${detail}; a proxy renews at half its certificate's lifetime, so these missed their renewal (see their logs and /ready)` };
  }
  const soonest = held.reduce((a, b) => (b.to < a.to ? b : a));
  const without = connected.length - held.length;
  return {
    verdict: 'ok',
    check,
    detail: `${held.length} of ${connected.length} connected proxies hold a workload certificate${without > 0 ? ` (${without} without)` : ''}; the soonest expires at ${new Date(soonest.to).toISOString()} (in ${inTime(soonest.to - now)}, ${soonest.id})`,
  };
}

/** Why a connected proxy does not run its current config: what could not be sent to it, else the versions. */
function whyStale(p: ProxyStatus): string {
  const undelivered = p.undelivered ?? [];
  if (undelivered.length > 0) return `${p.id} cannot receive its config: ${undelivered.map((u) => u.message).join('; ')}`;
  return `${p.id} acked ${JSON.stringify(p.versions)}, current ${JSON.stringify(p.current ?? {})}`;
}

/** The checks, from what the control plane answers over a telemetry window (seconds). Pure apart from the client. */
export async function checkMesh(client: TelemetryClient, thresholds: ServiceThresholds = DEFAULT_SERVICE_THRESHOLDS, windowSeconds = 60): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const health = await client.getJson<{ status: string; revision: number }>('/healthz');
  if (!health.ok) {
    lines.push({ verdict: 'FAIL', check: 'control plane reachable', detail: health.error });
    return lines;
  }
  lines.push({ verdict: 'ok', check: 'control plane reachable', detail: `${client.baseUrl}, store revision ${health.value.revision}` });
  const px = await client.getJson<{ items: ProxyStatus[] }>('/api/v1/proxies');
  if (!px.ok) {
    lines.push({ verdict: 'FAIL', check: 'proxies listed', detail: px.error });
    return lines;
  }
  const proxies = px.value.items;
  const down = proxies.filter((p) => !p.connected);
  if (proxies.length === 0) lines.push({ verdict: 'warn', check: 'proxies connected', detail: 'no proxy has connected yet' });
  else if (down.length > 0)
    lines.push({
      verdict: 'FAIL',
      check: 'proxies connected',
      detail: `${down.length} of ${proxies.length} disconnected (within their grace period): ${down.map((p) => p.id).join(', ')}`,
    });
  else lines.push({ verdict: 'ok', check: 'proxies connected', detail: `${proxies.length} connected` });
  const stale = proxies.filter((p) => p.connected && !inSync(p));
  lines.push(
    stale.length === 0
      ? {
          verdict: proxies.length === 0 ? 'skip' : 'ok',
          check: 'proxies in sync',
          detail: proxies.length === 0 ? 'no proxies' : 'every connected proxy runs the config computed for it',
        }
      : { verdict: 'FAIL', check: 'proxies in sync', detail: stale.map(whyStale).join('; ') },
  );
  // A NACK matters while the proxy still refuses the config it is offered.
  const refusing = proxies.flatMap((p) => {
    const last = p.nacks[p.nacks.length - 1];
    if (last === undefined) return [];
    const key =
      typeName(last.typeUrl) === 'Listener'
        ? 'listeners'
        : typeName(last.typeUrl) === 'RouteConfiguration'
          ? 'routes'
          : typeName(last.typeUrl) === 'Cluster'
            ? 'clusters'
            : 'endpoints';
    return p.current?.[key] === last.version ? [`${p.id} refuses ${typeName(last.typeUrl)} version ${last.version}: ${last.message}`] : [];
  });
  const older = proxies.reduce((n, p) => n + p.nacks.length, 0);
  lines.push(
    refusing.length > 0
      ? { verdict: 'FAIL', check: 'no NACKs', detail: refusing.join('; ') }
      : { verdict: 'ok', check: 'no NACKs', detail: older === 0 ? 'no proxy refused any config' : `${older} earlier NACK(s), none for the config in effect now` },
  );
  const [gateways, httpRoutes, grpcRoutes] = await Promise.all(['gateways', 'httproutes', 'grpcroutes'].map((k) => client.getJson<{ items: WithStatus[] }>(`/api/v1/${k}`)));
  // Listing needs a token; without one the gateway lines are left out, as the resources are.
  if (gateways!.ok && httpRoutes!.ok && grpcRoutes!.ok) lines.push(...gatewayLines(gateways!.value.items, [...httpRoutes!.value.items, ...grpcRoutes!.value.items]));
  const stat = await client.stat(windowSeconds);
  if (!stat.ok) lines.push({ verdict: 'FAIL', check: 'telemetry collected', detail: stat.error });
  else {
    const rps = stat.value.services.reduce((n, s) => n + s.rps, 0);
    const over = windowSeconds === 60 ? 'the last minute' : `the last ${windowSeconds} s`;
    lines.push({ verdict: 'ok', check: 'telemetry collected', detail: `${stat.value.services.length} service(s), ${rps.toFixed(2)} requests/s over ${over}` });
    lines.push(...serviceLines(stat.value, thresholds));
  }
  lines.push(
    certificateLine(
      proxies.filter((p) => p.connected),
      Date.now(),
    ),
  );
  return lines;
}

export interface CheckOptions {
  controlPlane?: string;
  output?: string;
  /** Percent. */
  minSuccessRate?: number;
  maxP99Ms?: number;
  /** Seconds. */
  window?: number;
}

export async function runCheck(opts: CheckOptions, io: CliIo = processIo, client: TelemetryClient = createTelemetryClient(controlPlaneUrl(opts.controlPlane))): Promise<number> {
  const thresholds: ServiceThresholds = { minSuccessPercent: opts.minSuccessRate ?? DEFAULT_SERVICE_THRESHOLDS.minSuccessPercent, maxP99Ms: opts.maxP99Ms };
  const lines = await checkMesh(client, thresholds, opts.window ?? 60);
  const failed = lines.some((l) => l.verdict === 'FAIL');
  if (opts.output === 'json') io.out(JSON.stringify({ healthy: !failed, checks: lines }, null, 2) + '\n');
  else {
    for (const l of lines) io.out(`${`[${l.verdict}]`.padEnd(7)} ${l.check}: ${l.detail}\n`);
    io.out(failed ? '\nThe mesh has problems (see the FAIL lines).\n' : '\nThe mesh is healthy.\n');
  }
  return failed ? 1 : 0;
}

function percentFlag(v: string): number {
  const n = Number(v.replace(/%$/, ''));
  if (v.trim() === '' || !(n >= 0 && n <= 100)) throw new InvalidArgumentError(`${v} is not a valid success rate: expected a percentage 0..100, e.g. 99.5`);
  return n;
}

function positiveMsFlag(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n > 0)) throw new InvalidArgumentError(`${v} is not a valid latency: expected milliseconds above 0, e.g. 500`);
  return n;
}

export function register(program: Command): void {
  addControlPlaneOption(
    program
      .command('check')
      .description('check the mesh: control plane, proxies connected and in sync, NACKs, telemetry, services failing or slow, certificates')
      .option('--min-success-rate <percent>', 'fail for a service whose success rate over the window is below this', percentFlag, DEFAULT_SERVICE_THRESHOLDS.minSuccessPercent)
      .option('--max-p99-ms <ms>', 'fail for a service whose p99 latency over the window is above this (default: not checked)', positiveMsFlag)
      .option('-w, --window <duration>', 'the telemetry window for the service checks: 30s, 1m, 5m', parseWindowFlag, 60)
      .option('-o, --output <format>', 'text (default) or json'),
  ).action(async (opts: CheckOptions) => {
    process.exitCode = await runCheck(opts);
  });
}
