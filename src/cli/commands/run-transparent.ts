// `trellis run --transparent --netns NS`: the workload runs in its own network namespace with
// capture set up. The command re-runs itself inside the namespace (`ip netns exec`, which also
// gives it the namespace's /etc/netns/NS/resolv.conf); there it sets up the iptables rules,
// starts the proxy under the group id the rules exempt, then the unmodified application
// (no HTTP_PROXY, no upstream ports: it calls `http://payments.mesh:8080/`), and removes
// the rules when they stop.
import { spawn } from 'node:child_process';
import { exited, stopChild } from '../../common/child-process.js';
import { proxyArgv } from '../../common/self.js';
import { removeCapture, setupCapture } from '../../capture/index.js';
import { canManageNamespaces, listNamespaces, run } from '../../netns/index.js';
import { CAPTURE_DEFAULTS, captureSpec } from './capture.js';
import type { RunOptions } from './run.js';
import { lifecycleArgv, supervision } from '../lifecycle-flags.js';
import { superviseSidecar } from './sidecar-supervisor.js';
import { adminSocketBeside, xdsSocketOf } from '../../xds/unix-sockets.js';

export interface TransparentOptions extends RunOptions {
  transparent?: boolean;
  netns?: string;
  /** Set on the re-run inside the namespace. */
  inNetns?: boolean;
  proxyGid: number;
  /** More application ports than --port (each an inbound entry). */
  extraPort: number[];
  dnsUpstream?: string;
  excludeInboundPorts: number[];
  excludeOutboundPorts: number[];
  excludeOutboundCidrs: string[];
}

/** The first global IPv4 address of the current namespace. */
function namespaceAddress(): string {
  const out = run(['ip', '-4', '-o', 'addr', 'show', 'scope', 'global']);
  const m = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out);
  if (!m) throw new Error('the network namespace has no IPv4 address; give it one (ip addr add ...) or pass --address');
  return m[1]!;
}

export async function runTransparent(opts: TransparentOptions, command: string[]): Promise<number> {
  if (command.length === 0) throw new Error('no application command given (usage: trellis run --transparent --netns NS --service NAME --port PORT -- COMMAND...)');
  const can = canManageNamespaces();
  if (!can.ok) throw new Error(`--transparent: ${can.reason}; use explicit mode (--upstream, HTTP_PROXY) instead`);
  if (!opts.netns) throw new Error('--transparent needs --netns NAME: the network namespace the workload runs in (for example one made with `ip netns add` and given an address)');
  if (!opts.inNetns) return reRunInNamespace(opts.netns);

  const address = opts.address !== '127.0.0.1' ? opts.address : namespaceAddress();
  const spec = captureSpec({
    proxyGid: [opts.proxyGid],
    excludeInboundPorts: opts.excludeInboundPorts,
    excludeOutboundPorts: opts.excludeOutboundPorts,
    excludeOutboundCidrs: opts.excludeOutboundCidrs,
  });
  const adminPort = opts.adminPort ?? 15020;
  // The control plane cannot reach 127.0.0.1 in this namespace: it collects stats and tap on a socket beside the xDS one.
  const xdsSocket = xdsSocketOf(opts.xdsAddress);
  const adminSocket = xdsSocket === undefined ? [] : ['--admin-socket', adminSocketBeside(xdsSocket, opts.netns)];
  setupCapture(spec);
  try {
    const argv = [
      ...proxyArgv(),
      '--service',
      opts.service,
      '--namespace',
      opts.namespace,
      '--address',
      address,
      ...[opts.port, ...opts.extraPort].flatMap((p) => ['--inbound', `${p}:${p}`]),
      '--admin-port',
      String(adminPort),
      ...adminSocket,
      '--xds-address',
      opts.xdsAddress,
      ...(opts.caFile ? ['--ca-file', opts.caFile] : []),
      '--transparent',
      '--capture-inbound-port',
      String(spec.inboundPort),
      '--capture-outbound-port',
      String(spec.outboundPort),
      '--dns-port',
      String(spec.dnsPort ?? 0),
      ...(spec.excludeInboundPorts.length > 0 ? ['--capture-exclude-inbound-ports', spec.excludeInboundPorts.join(',')] : []),
      ...(opts.dnsUpstream ? ['--dns-upstream', opts.dnsUpstream] : []),
      ...opts.label.flatMap((l) => ['--label', l]),
      ...(opts.accessLogFile !== undefined ? ['--access-log-file', opts.accessLogFile] : []),
      ...lifecycleArgv(opts),
    ];
    return await superviseSidecar(
      {
        proxyArgv: argv,
        proxySpawn: { gid: opts.proxyGid },
        adminPort,
        readyTimeout: opts.readyTimeout,
        appEnv: { PORT: String(opts.port) },
        ...supervision(opts),
        ...(opts.joinToken ? { joinToken: opts.joinToken } : {}),
      },
      command,
    );
  } finally {
    removeCapture();
  }
}

/** Runs this same command inside `netns`, passes signals on, and makes sure the rules are gone after. */
async function reRunInNamespace(netns: string): Promise<number> {
  if (!listNamespaces().includes(netns)) throw new Error(`--netns ${netns}: no such network namespace (ip netns list)`);
  const argv = process.argv.slice(1);
  const sep = argv.indexOf('--');
  argv.splice(sep === -1 ? argv.length : sep, 0, '--in-netns');
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, ...argv], { stdio: 'inherit' });
  const forward = (s: NodeJS.Signals) => stopChild(child, s);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await exited(child);
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    try {
      removeCapture(netns);
    } catch {
      /* the namespace may be gone already */
    }
  }
}

export { CAPTURE_DEFAULTS };
