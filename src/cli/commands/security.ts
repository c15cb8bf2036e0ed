// `trellis token create|list|revoke`, `trellis ca show|rotate` and `trellis cert inspect`: join
// and operator tokens, the mesh CA, and a workload's certificate.
import { promises as fsp } from 'node:fs';
import type { Command } from 'commander';
import { splitPem, summarise, type CertificateSummary } from '../../common/x509.js';
import { addControlPlaneOption, controlPlaneUrl, createApiClient } from '../api-client.js';
import { processIo, type CliIo } from '../io.js';
import { collectValid, parseLabel } from '../flags.js';
import { formatClientError, formatTable } from '../output.js';

/** `version=v2,tier=db` (empty map: `app only`). */
const formatLabels = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || 'app only';

interface ApiOpts {
  controlPlane?: string;
  output?: string;
}
interface TokenInfo {
  id: string;
  role: string;
  service?: string;
  namespace?: string;
  labels?: Record<string, string>;
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
}

const client = (o: ApiOpts) => createApiClient(controlPlaneUrl(o.controlPlane));

function failed(io: CliIo, e: Parameters<typeof formatClientError>[0]): number {
  io.err(
    formatClientError(e)
      .map((l) => `${l}\n`)
      .join(''),
  );
  return 1;
}

function certLines(c: CertificateSummary & { trustedUntil?: string }, indent = ''): string {
  const rows: [string, string][] = [
    ['subject', c.subject || '(empty)'],
    ['issuer', c.issuer],
    ['serial', c.serial],
    ['not before', c.notBefore],
    ['not after', c.notAfter],
    ...(c.uris.length > 0 ? [['spiffe id', c.uris.join(', ')] as [string, string]] : []),
    ['ca', String(c.isCa)],
    ['sha256', c.sha256],
    ...(c.trustedUntil ? [['trusted until', c.trustedUntil] as [string, string]] : []),
  ];
  return rows.map(([k, v]) => `${indent}${k.padEnd(14)}${v}\n`).join('');
}

type TokenCreateOptions = ApiOpts & { service?: string; namespace?: string; ttl?: string; readOnly?: boolean; label?: string[] };

async function tokenCreate(o: TokenCreateOptions, io: CliIo): Promise<number> {
  if (!o.readOnly && !o.service) {
    io.err('error: a join token is for one service: give --service NAME (or --read-only for an operator token)\n');
    return 1;
  }
  if (o.readOnly && o.label?.length) {
    io.err('error: --label is for join tokens (the labels a proxy may claim), not --read-only ones\n');
    return 1;
  }
  const labels = o.label?.length ? { labels: Object.fromEntries(o.label.map(parseLabel)) } : {};
  const body = o.readOnly
    ? { role: 'read-only', ...(o.ttl ? { ttl: o.ttl } : {}) }
    : { role: 'join', service: o.service, namespace: o.namespace ?? 'default', ...labels, ...(o.ttl ? { ttl: o.ttl } : {}) };
  const r = await client(o).request<{ token: string; info: TokenInfo }>('POST', '/api/v1/tokens', body);
  if (!r.ok) return failed(io, r.error);
  if (o.output === 'json') io.out(JSON.stringify(r.value, null, 2) + '\n');
  else {
    io.out(`${r.value.token}\n`);
    io.err(
      `token ${r.value.info.id} (${r.value.info.role}${r.value.info.service ? ` for ${r.value.info.namespace}/${r.value.info.service}` : ''}${r.value.info.labels ? `, labels ${formatLabels(r.value.info.labels)}` : ''}${r.value.info.expiresAt ? `, expires ${r.value.info.expiresAt}` : ''}); it is shown only this once\n`,
    );
  }
  return 0;
}

async function tokenList(o: ApiOpts, io: CliIo): Promise<number> {
  const r = await client(o).request<{ items: TokenInfo[] }>('GET', '/api/v1/tokens');
  if (!r.ok) return failed(io, r.error);
  if (o.output === 'json') {
    io.out(JSON.stringify(r.value.items, null, 2) + '\n');
    return 0;
  }
  const state = (t: TokenInfo) => (t.revokedAt ? 'revoked' : t.expiresAt && Date.parse(t.expiresAt) <= Date.now() ? 'expired' : 'valid');
  io.out(
    formatTable(
      ['ID', 'ROLE', 'SERVICE', 'LABELS', 'CREATED', 'EXPIRES', 'STATE'],
      r.value.items.map((t) => [
        t.id,
        t.role,
        t.service ? `${t.namespace}/${t.service}` : '-',
        t.labels ? formatLabels(t.labels) : t.role === 'join' ? 'any' : '-',
        t.createdAt,
        t.expiresAt ?? 'never',
        state(t),
      ]),
    ),
  );
  return 0;
}

async function tokenRevoke(id: string, o: ApiOpts, io: CliIo): Promise<number> {
  const r = await client(o).request<TokenInfo>('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
  if (!r.ok) return failed(io, r.error);
  io.out(`token ${r.value.id} revoked\n`);
  return 0;
}

type CaShowOptions = ApiOpts & { pem?: boolean };

async function caShow(o: CaShowOptions, io: CliIo): Promise<number> {
  const r = await client(o).request<{
    trustDomain: string;
    workloadTtlSeconds: number;
    signing: CertificateSummary;
    roots: (CertificateSummary & { trustedUntil?: string })[];
    trustBundle: string;
  }>('GET', '/api/v1/ca');
  if (!r.ok) return failed(io, r.error);
  if (o.pem) {
    io.out(r.value.trustBundle);
    return 0;
  }
  if (o.output === 'json') {
    io.out(JSON.stringify(r.value, null, 2) + '\n');
    return 0;
  }
  io.out(`trust domain  ${r.value.trustDomain}\nworkload ttl  ${r.value.workloadTtlSeconds}s\nsigning certificate:\n${certLines(r.value.signing, '  ')}`);
  r.value.roots.forEach((root, i) => io.out(`root ${i + 1}${i === 0 ? ' (newest)' : ''}:\n${certLines(root, '  ')}`));
  return 0;
}

type CaRotateOptions = ApiOpts & { overlap?: string };

async function caRotate(o: CaRotateOptions, io: CliIo): Promise<number> {
  const r = await client(o).request<{ roots: (CertificateSummary & { trustedUntil?: string })[] }>('POST', '/api/v1/ca/rotate', o.overlap ? { overlap: o.overlap } : {});
  if (!r.ok) return failed(io, r.error);
  io.out(`rotated: new root ${r.value.roots[0]!.sha256.slice(0, 16)}; ${r.value.roots.length - 1} older root(s) trusted until ${r.value.roots[1]?.trustedUntil ?? '-'}\n`);
  return 0;
}

/** `trellis cert inspect FILE` or `--admin URL` (a running proxy's certificate, from its config dump). */
type CertInspectOptions = { admin?: string };

async function certInspect(file: string | undefined, o: CertInspectOptions, io: CliIo): Promise<number> {
  let pem: string;
  if (o.admin) {
    const res = await fetch(`${o.admin.replace(/\/+$/, '')}/config_dump`, { signal: AbortSignal.timeout(5000) }).catch((e: Error) => e);
    if (res instanceof Error) {
      io.err(`error: cannot reach the proxy admin at ${o.admin}: ${res.message}\n`);
      return 1;
    }
    const dump = (await res.json()) as { identity?: { certificateChain?: string } };
    if (!dump.identity?.certificateChain) {
      io.err(`error: the proxy at ${o.admin} has no workload certificate yet\n`);
      return 1;
    }
    pem = dump.identity.certificateChain;
  } else if (file) {
    pem = await fsp.readFile(file, 'utf8').catch((e: Error) => {
      throw new Error(`cannot read ${file}: ${e.message}`);
    });
  } else {
    io.err('error: give a PEM file or --admin URL of a proxy\n');
    return 1;
  }
  const certs = splitPem(pem);
  if (certs.length === 0) {
    io.err('error: no PEM certificate found\n');
    return 1;
  }
  certs.forEach((c, i) => io.out(`${i === 0 ? 'certificate' : `chain ${i}`}:\n${certLines(summarise(c), '  ')}`));
  return 0;
}

const output = (c: Command) => c.option('-o, --output <format>', 'json for machine-readable output');

export function register(program: Command): void {
  const token = program.command('token').description('join tokens (a proxy proves which service it runs) and read-only operator tokens');
  addControlPlaneOption(
    output(
      token
        .command('create')
        .description('create a join token for one service (or --read-only for operators); the token is printed once')
        .option('--service <name>', 'the service whose identity the token may obtain')
        .option('-n, --namespace <ns>', "the service's namespace", 'default')
        .option('--label <key=value>', 'a label the proxy may claim, with this value only (repeatable); with none, any label but app', collectValid(parseLabel), [])
        .option('--ttl <duration>', 'expire after e.g. 30m, 24h, 7d (default: never)')
        .option('--read-only', 'an operator token that may only read'),
    ),
  ).action(async (o: TokenCreateOptions) => {
    process.exitCode = await tokenCreate(o, processIo);
  });
  addControlPlaneOption(output(token.command('list').description('list tokens (never their secrets)'))).action(async (o: ApiOpts) => {
    process.exitCode = await tokenList(o, processIo);
  });
  addControlPlaneOption(token.command('revoke').description('revoke a token; proxies using it are disconnected and refused').argument('<id>')).action(
    async (id: string, o: ApiOpts) => {
      process.exitCode = await tokenRevoke(id, o, processIo);
    },
  );

  const ca = program.command('ca').description("the mesh's certificate authority");
  addControlPlaneOption(output(ca.command('show').description('show the signing certificate and trusted roots').option('--pem', 'print the trust bundle as PEM'))).action(
    async (o: CaShowOptions) => {
      process.exitCode = await caShow(o, processIo);
    },
  );
  addControlPlaneOption(
    ca
      .command('rotate')
      .description('replace the root; the old ones stay trusted for the overlap')
      .option('--overlap <duration>', 'how long old roots stay trusted, e.g. 48h', '48h'),
  ).action(async (o: CaRotateOptions) => {
    process.exitCode = await caRotate(o, processIo);
  });

  program
    .command('cert')
    .description('workload certificates')
    .command('inspect')
    .description("show a certificate: a PEM file, or a running proxy's (--admin)")
    .argument('[file]')
    .option('--admin <url>', 'admin URL of a proxy, e.g. http://127.0.0.1:15020')
    .action(async (file: string | undefined, o: CertInspectOptions) => {
      process.exitCode = await certInspect(file, o, processIo);
    });
}
