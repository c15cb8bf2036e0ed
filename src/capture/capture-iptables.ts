// Applies, lists and removes the capture rules in a network namespace with iptables (nat
// table). Setup is idempotent: it removes whatever Trellis rules are there, then adds them.
import { run } from '../netns/index.js';
import { CHAINS, chainRules, checkCaptureSpec, jumpRules, type CaptureSpec } from './capture-rules.js';

/** `iptables` in namespace `netns` (undefined: the current one). */
function iptables(netns: string | undefined, args: string[]): string {
  const argv = ['iptables', '-w', '5', '-t', 'nat', ...args];
  return run(netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv]);
}

function tryIptables(netns: string | undefined, args: string[]): boolean {
  try {
    iptables(netns, args);
    return true;
  } catch {
    return false;
  }
}

/** Removes every Trellis chain and jump in the nat table of `netns`; nothing there is fine. */
export function removeCapture(netns?: string): void {
  // Jumps may differ from the current spec (an older setup), so find them by their target.
  for (const line of listCapture(netns)) {
    if (!line.startsWith('-A PREROUTING') && !line.startsWith('-A OUTPUT')) continue;
    const args = line.split(' ').slice(1);
    tryIptables(netns, ['-D', ...args]);
  }
  for (const chain of Object.values(CHAINS)) {
    if (tryIptables(netns, ['-F', chain])) iptables(netns, ['-X', chain]);
  }
}

/** Sets up capture in `netns` for `spec`; removes the rules again if a step fails. */
export function setupCapture(spec: CaptureSpec, netns?: string): void {
  const problems = checkCaptureSpec(spec);
  if (problems.length > 0) throw new Error(`capture settings are not valid: ${problems.join('; ')}`);
  removeCapture(netns);
  try {
    for (const chain of Object.values(CHAINS)) {
      if (chain === CHAINS.dns && spec.dnsPort === undefined) continue;
      iptables(netns, ['-N', chain]);
    }
    for (const [chain, ...rule] of chainRules(spec)) iptables(netns, ['-A', chain!, ...rule]);
    for (const [chain, ...rule] of jumpRules(spec)) iptables(netns, ['-A', chain!, ...rule]);
  } catch (e) {
    removeCapture(netns);
    throw e;
  }
}

/** The Trellis rules in the nat table of `netns`, in `iptables -S` form. */
export function listCapture(netns?: string): string[] {
  return iptables(netns, ['-S']).split('\n').filter((l) => l.includes('TRELLIS_'));
}
