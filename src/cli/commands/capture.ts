// `trellis capture setup|list|remove`: the init step of transparent mode (like istio-iptables
// or linkerd-init): iptables and ip6tables rules in a workload's network namespace that send
// its TCP and DNS to the proxy. Idempotent; `remove` takes every Trellis rule away again.
import type { Command } from 'commander';
import { describeCapture, removeCapture, setupCapture, type CaptureSpec } from '../../capture/index.js';
import { canManageNamespaces } from '../../netns/index.js';

/** Default ports of a captured proxy and the group id its traffic is exempt by. */
export const CAPTURE_DEFAULTS = { inboundPort: 15006, outboundPort: 15001, dnsPort: 15053, proxyGid: 1337 } as const;

interface SetupOptions {
  netns?: string;
  inboundPort: number;
  outboundPort: number;
  dnsPort: number;
  proxyUid: number[];
  proxyGid: number[];
  excludeInboundPorts: number[];
  excludeOutboundPorts: number[];
  excludeOutboundCidrs: string[];
}

const list =
  (parse: (v: string) => number | string) =>
  (value: string, previous: unknown[] = []) => [...previous, ...value.split(',').filter(Boolean).map(parse)];
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${JSON.stringify(v)} is not a number`);
  return n;
};

/** The capture spec from `trellis capture setup` flags (also used by `trellis run --transparent`). */
export function captureSpec(opts: Partial<SetupOptions>): CaptureSpec {
  const gids = opts.proxyGid?.length ? opts.proxyGid : opts.proxyUid?.length ? [] : [CAPTURE_DEFAULTS.proxyGid];
  return {
    inboundPort: opts.inboundPort ?? CAPTURE_DEFAULTS.inboundPort,
    outboundPort: opts.outboundPort ?? CAPTURE_DEFAULTS.outboundPort,
    ...((opts.dnsPort ?? CAPTURE_DEFAULTS.dnsPort) > 0 ? { dnsPort: opts.dnsPort ?? CAPTURE_DEFAULTS.dnsPort } : {}),
    proxyUids: opts.proxyUid ?? [],
    proxyGids: gids,
    excludeInboundPorts: opts.excludeInboundPorts ?? [],
    excludeOutboundPorts: opts.excludeOutboundPorts ?? [],
    excludeOutboundCidrs: opts.excludeOutboundCidrs ?? [],
  };
}

function needRoot(): void {
  const can = canManageNamespaces();
  if (!can.ok) throw new Error(`capture needs iptables: ${can.reason}`);
}

export function register(program: Command): void {
  const capture = program.command('capture').description("transparent mode's iptables rules in a workload's network namespace");
  capture
    .command('setup')
    .description("send the namespace's outbound and inbound TCP (and DNS) to the proxy; replaces earlier Trellis rules")
    .option('--netns <name>', 'network namespace (default: the current one)')
    .option('--inbound-port <port>', "the proxy's inbound capture port", num, CAPTURE_DEFAULTS.inboundPort)
    .option('--outbound-port <port>', "the proxy's outbound capture port", num, CAPTURE_DEFAULTS.outboundPort)
    .option('--dns-port <port>', "the proxy's DNS port (UDP 53 is redirected there); 0 = leave DNS alone", num, CAPTURE_DEFAULTS.dnsPort)
    .option('--proxy-uid <ids>', "user ids whose traffic is not captured (the proxy's), comma-separated", list(num), [])
    .option('--proxy-gid <ids>', `group ids whose traffic is not captured (default ${CAPTURE_DEFAULTS.proxyGid} unless --proxy-uid is given)`, list(num), [])
    .option('--exclude-inbound-ports <ports>', 'inbound ports not captured, comma-separated', list(num), [])
    .option('--exclude-outbound-ports <ports>', 'outbound ports not captured, comma-separated', list(num), [])
    .option('--exclude-outbound-cidrs <cidrs>', 'outbound address ranges not captured (IPv4 or IPv6 CIDR), comma-separated', list(String), [])
    .addHelpText('after', '\nExample:\n  trellis capture setup --netns pod1 --exclude-inbound-ports 22 --exclude-outbound-cidrs 10.0.0.0/8')
    .action((opts: SetupOptions) => {
      needRoot();
      setupCapture(captureSpec(opts), opts.netns);
      process.stdout.write(describeCapture(opts.netns).join('\n') + '\n');
    });
  capture
    .command('list')
    .description('print the Trellis rules in the nat tables (iptables, then ip6tables)')
    .option('--netns <name>', 'network namespace (default: the current one)')
    .action((opts: { netns?: string }) => {
      needRoot();
      const rules = describeCapture(opts.netns);
      process.stdout.write(rules.length ? rules.join('\n') + '\n' : 'no Trellis capture rules\n');
    });
  capture
    .command('remove')
    .description('remove every Trellis rule (transparent capture off)')
    .option('--netns <name>', 'network namespace (default: the current one)')
    .action((opts: { netns?: string }) => {
      needRoot();
      removeCapture(opts.netns);
    });
}
