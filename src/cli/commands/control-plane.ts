// `trellis control-plane`: runs the control plane on its embedded store until SIGINT/SIGTERM.
import { InvalidArgumentError, type Command } from 'commander';
import { startControlPlane } from '../../control-plane/index.js';
import { OTLP_PROTOCOLS } from '../../api/telemetry.js';
import { resolveOtlpProtocol } from '../../otlp/otlp-protocol-env.js';
import { trustDomainProblem, DEFAULT_TRUST_DOMAIN } from '../../xds/spiffe.js';
import { otlpSocketBeside } from '../../xds/unix-sockets.js';
import { XDS_MAX_MESSAGE_BYTES } from '../../xds/message-limits.js';
import { hostPort, parseHostPort, socketPathFlag } from '../flags.js';

interface Options {
  dataDir: string;
  apiAddress: string;
  xdsAddress: string;
  xdsSocket?: string;
  collectInterval: number;
  forwardSpans?: string;
  forwardSpansProtocol?: string;
  trustDomain: string;
  certTtl: string;
  caCert?: string;
  caKey?: string;
  caChain?: string;
  xdsMaxMessageBytes: number;
  jwksRefresh: string;
}

// Below this no proxy's config fits; above XDS_MAX_MESSAGE_BYTES proxies would refuse what is sent.
const MIN_XDS_MESSAGE_BYTES = 4096;

/** Seconds of `30s`, `15m`, `24h` or `7d`. */
export function parseDuration(flag: string) {
  return (value: string): string => {
    if (!/^\d+(s|m|h|d)$/.test(value) || /^0+[smhd]$/.test(value)) throw new InvalidArgumentError(`${flag}=${value} is not valid: expected a duration like 30m, 24h or 7d`);
    return value;
  };
}
const seconds = (d: string): number => Number(d.slice(0, -1)) * { s: 1, m: 60, h: 3600, d: 86400 }[d.slice(-1) as 's' | 'm' | 'h' | 'd'];

export function register(program: Command): void {
  program
    .command('control-plane')
    .description('run the control plane: embedded store, REST API, registry and xDS server')
    .option('--data-dir <dir>', 'where the store keeps its files', process.env.TRELLIS_DATA_DIR ?? './trellis-data')
    .option('--api-address <host:port>', 'REST API address', hostPort('--api-address'), '127.0.0.1:15000')
    .option('--xds-address <host:port>', 'xDS (gRPC ADS) address', hostPort('--xds-address'), '127.0.0.1:15010')
    .option(
      '--xds-socket <path>',
      'also serve xDS on this Unix socket (proxies in other network namespaces use unix:PATH), and the span receiver beside it (PATH without .sock, then .otlp.sock)',
      socketPathFlag('--xds-socket'),
    )
    .option(
      '--collect-interval <ms>',
      "how often the proxies' request stats are collected",
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 100 || n > 60_000) throw new InvalidArgumentError(`--collect-interval ${v} is not valid: expected milliseconds from 100 to 60000`);
        return n;
      },
      1000,
    )
    .option(
      '--forward-spans <url>',
      'also send the spans it receives to this OTLP collector (base URL, e.g. http://otel:4318; for grpc its endpoint, e.g. http://otel:4317)',
      (v) => {
        if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(v)) throw new InvalidArgumentError(`--forward-spans ${v} is not valid: expected an http:// or https:// base URL`);
        return v.replace(/\/+$/, '');
      },
    )
    .option(
      '--forward-spans-protocol <protocol>',
      `how --forward-spans sends them: ${OTLP_PROTOCOLS.join(', ')} (default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)`,
    )
    .option(
      '--xds-max-message-bytes <bytes>',
      `the largest xDS response sent to a proxy; a larger one is not sent and the proxy's status says why (at most ${XDS_MAX_MESSAGE_BYTES}, what proxies accept)`,
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < MIN_XDS_MESSAGE_BYTES || n > XDS_MAX_MESSAGE_BYTES)
          throw new InvalidArgumentError(`--xds-max-message-bytes=${v} is not valid: expected bytes from ${MIN_XDS_MESSAGE_BYTES} to ${XDS_MAX_MESSAGE_BYTES}`);
        return n;
      },
      XDS_MAX_MESSAGE_BYTES,
    )
    .option(
      '--trust-domain <domain>',
      'SPIFFE trust domain of the mesh',
      (v: string) => {
        const p = trustDomainProblem(v);
        if (p) throw new InvalidArgumentError(`--trust-domain=${v} is not valid: ${p}`);
        return v;
      },
      DEFAULT_TRUST_DOMAIN,
    )
    .option('--cert-ttl <duration>', 'lifetime of workload certificates', parseDuration('--cert-ttl'), '24h')
    .option(
      '--jwks-refresh <duration>',
      "how often RequestAuthentications' JWK Sets (jwksUri, jwksFile) are fetched again; a URL's Cache-Control max-age wins within bounds",
      parseDuration('--jwks-refresh'),
      '20m',
    )
    .option('--ca-cert <file>', 'first start only: your CA certificate (a root, or an intermediate with --ca-chain) instead of a generated root')
    .option('--ca-key <file>', 'first start only: the key of --ca-cert (ECDSA P-256)')
    .option('--ca-chain <file>', "first start only: the intermediate's chain up to its root")
    .addHelpText('after', '\nExample:\n  trellis control-plane --data-dir /var/lib/trellis')
    .action(async (opts: Options) => {
      if ((opts.caCert === undefined) !== (opts.caKey === undefined)) throw new Error('--ca-cert and --ca-key go together');
      if (opts.forwardSpansProtocol !== undefined && opts.forwardSpans === undefined) throw new Error('--forward-spans-protocol goes with --forward-spans');
      const forwardProtocol = opts.forwardSpans !== undefined ? resolveOtlpProtocol('--forward-spans-protocol', opts.forwardSpansProtocol, process.env) : undefined;
      if (forwardProtocol?.ok === false) throw new Error(forwardProtocol.error);
      const cp = await startControlPlane({
        trustDomain: opts.trustDomain,
        workloadCertTtlSeconds: seconds(opts.certTtl),
        jwksRefreshMs: seconds(opts.jwksRefresh) * 1000,
        ...(opts.caCert && opts.caKey ? { ca: { certFile: opts.caCert, keyFile: opts.caKey, ...(opts.caChain ? { chainFile: opts.caChain } : {}) } } : {}),
        dataDir: opts.dataDir,
        api: parseHostPort(opts.apiAddress, '--api-address'),
        xds: parseHostPort(opts.xdsAddress, '--xds-address'),
        ...(opts.xdsSocket ? { xdsSocket: opts.xdsSocket } : {}),
        collectIntervalMs: opts.collectInterval,
        xdsMaxMessageBytes: opts.xdsMaxMessageBytes,
        ...(opts.forwardSpans !== undefined && forwardProtocol?.ok === true ? { forwardSpansTo: opts.forwardSpans, forwardSpansProtocol: forwardProtocol.value } : {}),
      });
      if (cp.adminToken) process.stdout.write(`admin token (shown only this once; the control plane keeps only its hash): ${cp.adminToken}\n`);
      process.stdout.write(
        `trellis control plane ready: api ${cp.apiUrl}, xds ${cp.xdsAddress}${opts.xdsSocket ? ` and unix:${opts.xdsSocket} (spans: unix:${otlpSocketBeside(opts.xdsSocket)})` : ''}, data ${cp.store.dataDir} (revision ${cp.store.revision()}), dashboard ${cp.apiUrl}/dashboard/, trust domain ${cp.ca.trustDomain}, trust bundle ${cp.trustBundleFile} (API and xDS are TLS: clients verify with it)\n`,
      );
      // Stay subscribed while closing: a repeated signal would otherwise kill it before its sockets are removed.
      await new Promise<void>((resolve) => {
        process.on('SIGINT', resolve);
        process.on('SIGTERM', resolve);
      });
      await cp.close();
    });
}
