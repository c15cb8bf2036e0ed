// Applies, lists and removes the capture rules in a network namespace with iptables and
// ip6tables (nat table). Setup is idempotent: it removes whatever Trellis rules are there, then
// adds them, IPv4 and IPv6 alike; it fails (removing what it wrote) rather than leave one family
// uncaptured, since an application listening on `::` would then answer around its proxy.
import { existsSync } from 'node:fs';
import { run } from '../netns/index.js';
import { CHAINS, chainNames, chainRules, checkCaptureSpec, jumpRules, type CaptureSpec, type IpFamily } from './capture-rules.js';

/** True when this kernel has IPv6 (not booted with ipv6.disable=1): then IPv6 must be captured too. */
export function kernelHasIpv6(): boolean {
  return existsSync('/proc/sys/net/ipv6');
}

/** The families capture covers on this machine. */
function families(): IpFamily[] {
  return kernelHasIpv6() ? [4, 6] : [4];
}

/** `iptables` (family 4) or `ip6tables` (6) in namespace `netns` (undefined: the current one). */
function iptables(netns: string | undefined, family: IpFamily, args: string[]): string {
  const argv = [family === 4 ? 'iptables' : 'ip6tables', '-w', '5', '-t', 'nat', ...args];
  return run(netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv]);
}

function tryIptables(netns: string | undefined, family: IpFamily, args: string[]): boolean {
  try {
    iptables(netns, family, args);
    return true;
  } catch {
    return false;
  }
}

/** Removes every Trellis chain and jump in the nat tables of `netns`; nothing there is fine. */
export function removeCapture(netns?: string): void {
  for (const family of families()) {
    let lines: string[];
    try {
      lines = listCapture(netns, family);
    } catch {
      continue; // no ip6tables (or no nat table): nothing of ours can be there
    }
    // Jumps may differ from the current spec (an older setup), so find them by their target.
    for (const line of lines) {
      if (!line.startsWith('-A PREROUTING') && !line.startsWith('-A OUTPUT')) continue;
      tryIptables(netns, family, ['-D', ...line.split(' ').slice(1)]);
    }
    for (const chain of Object.values(CHAINS)) {
      if (tryIptables(netns, family, ['-F', chain])) iptables(netns, family, ['-X', chain]);
    }
  }
}

/** Sets up capture in `netns` for `spec`, IPv4 and (where the kernel has it) IPv6; removes the rules again if a step fails. */
export function setupCapture(spec: CaptureSpec, netns?: string): void {
  const problems = checkCaptureSpec(spec);
  if (problems.length > 0) throw new Error(`capture settings are not valid: ${problems.join('; ')}`);
  removeCapture(netns);
  let family: IpFamily = 4;
  try {
    for (family of families()) {
      for (const chain of chainNames(spec, family)) iptables(netns, family, ['-N', chain]);
      for (const [chain, ...rule] of chainRules(spec, family)) iptables(netns, family, ['-A', chain!, ...rule]);
      for (const [chain, ...rule] of jumpRules(spec, family)) iptables(netns, family, ['-A', chain!, ...rule]);
    }
  } catch (e) {
    removeCapture(netns);
    if (family === 6) {
      throw new Error(
        `IPv6 capture could not be set up, so nothing was captured (an application listening on :: would be reachable around its proxy): ${(e as Error).message}; load the ip6table_nat module (or the nf_tables nat support) or boot with ipv6.disable=1`,
        { cause: e },
      );
    }
    throw e;
  }
}

/** The Trellis rules in the nat table of `netns` for `family`, in `ip[6]tables -S` form. */
export function listCapture(netns?: string, family: IpFamily = 4): string[] {
  return iptables(netns, family, ['-S'])
    .split('\n')
    .filter((l) => l.includes('TRELLIS_'));
}

/** Every Trellis rule in `netns` as `trellis capture list` prints it: IPv4's, then IPv6's under a heading. */
export function describeCapture(netns?: string): string[] {
  const v4 = listCapture(netns, 4);
  if (!kernelHasIpv6()) return v4;
  let v6: string[];
  try {
    v6 = listCapture(netns, 6);
  } catch (e) {
    v6 = [`(ip6tables: ${(e as Error).message})`];
  }
  return v4.length + v6.length === 0 ? [] : [...v4, '# IPv6 (ip6tables -t nat)', ...v6];
}
