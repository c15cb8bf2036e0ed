// Test hosts on one machine: one network namespace per workload ("pod"), each joined by a
// veth pair to a bridge that lives in a namespace of its own, addresses only inside those
// namespaces (IPv4 and an IPv6 ULA, fd00::/8), loopback up. Nothing is added to the machine's
// own namespace, and nothing is routed beyond the lab's bridge. Every name
// carries `trl<pid>-`, so a leftover of a crashed run (its pid gone) is removed at the next start.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deleteNamespace, listNamespaces, run, runIn, runInAsync, spawnIn } from './netns-exec.js';
import type { ChildProcess, SpawnOptions } from 'node:child_process';

const NAME_RE = /^trl(\d+)([a-z]?)-/;
/** Where `ip netns exec` finds a namespace's own /etc files (resolv.conf). */
const ETC_NETNS = '/etc/netns';

export interface LabHost {
  /** The short name given to addHost. */
  readonly name: string;
  /** The network namespace. */
  readonly netns: string;
  /** Its address on the lab's bridge. */
  readonly address: string;
  /** Its IPv6 address on the lab's bridge (a unique local address, on-link only: no IPv6 route beyond the bridge). */
  readonly address6: string;
}

export interface HostLabOptions {
  /** First three octets of the lab's /24 (default `10.211.0`); the bridge is `.1`, hosts from `.2`. */
  readonly subnet?: string;
  /** One lowercase letter to tell several labs of one process apart (default none). */
  readonly tag?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes namespaces (and their /etc/netns files) left by lab runs whose process is gone. */
export function cleanupLeftoverLabs(): string[] {
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const m = NAME_RE.exec(ns);
    if (!m || alive(Number(m[1]))) continue;
    deleteNamespace(ns);
    removed.push(ns);
  }
  let dirs: string[] = [];
  try {
    dirs = readdirSync(ETC_NETNS);
  } catch {
    /* none */
  }
  for (const d of dirs) {
    const m = NAME_RE.exec(d);
    if (m && !alive(Number(m[1]))) rmSync(path.join(ETC_NETNS, d), { recursive: true, force: true });
  }
  return removed;
}

export class HostLab {
  readonly prefix: string;
  readonly bridgeNetns: string;
  readonly subnet: string;
  /** The bridge's address in its namespace: every host's default gateway. */
  readonly gateway: string;
  /** The lab's IPv6 /64 (`fd00:10:211:0::` for subnet 10.211.0); hosts get `<prefix><n>`, the same n as their IPv4 address. */
  readonly prefix6: string;
  private readonly hosts = new Map<string, LabHost>();
  private next = 2;
  private destroyed = false;

  private constructor(opts: HostLabOptions) {
    this.prefix = `trl${process.pid}${opts.tag ?? ''}`;
    this.subnet = opts.subnet ?? '10.211.0';
    this.bridgeNetns = `${this.prefix}-br`;
    this.gateway = `${this.subnet}.1`;
    this.prefix6 = `fd00:${this.subnet.split('.').join(':')}::`;
  }

  /** Cleans leftovers of crashed runs, then makes the bridge namespace. Destroys what it made if a step fails. */
  static create(opts: HostLabOptions = {}): HostLab {
    if (opts.tag !== undefined && !/^[a-z]$/.test(opts.tag)) throw new Error(`HostLab tag must be one lowercase letter, got ${JSON.stringify(opts.tag)}`);
    cleanupLeftoverLabs();
    const lab = new HostLab(opts);
    if (listNamespaces().some((n) => n.startsWith(`${lab.prefix}-`))) throw new Error(`a lab with prefix ${lab.prefix} already exists in this process; give each lab its own tag`);
    try {
      run(['ip', 'netns', 'add', lab.bridgeNetns]);
      runIn(lab.bridgeNetns, ['ip', 'link', 'set', 'lo', 'up']);
      runIn(lab.bridgeNetns, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
      runIn(lab.bridgeNetns, ['ip', 'addr', 'add', `${lab.gateway}/24`, 'dev', 'br0']);
      runIn(lab.bridgeNetns, ['ip', '-6', 'addr', 'add', `${lab.prefix6}1/64`, 'dev', 'br0', 'nodad']);
      runIn(lab.bridgeNetns, ['ip', 'link', 'set', 'br0', 'up']);
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  /** A new host: its namespace, a veth pair to the bridge, the next address, loopback up, default route via the bridge. */
  addHost(name: string): LabHost {
    if (this.destroyed) throw new Error('HostLab.addHost after destroy()');
    if (!/^[a-z][a-z0-9]{0,9}$/.test(name)) throw new Error(`host name must be 1-10 lowercase letters or digits starting with a letter, got ${JSON.stringify(name)}`);
    if (this.hosts.has(name)) throw new Error(`host ${name} already exists in this lab`);
    if (this.next > 254) throw new Error('a lab holds at most 253 hosts');
    const n = this.next++;
    const host: LabHost = { name, netns: `${this.prefix}-${name}`, address: `${this.subnet}.${n}`, address6: `${this.prefix6}${n.toString(16)}` };
    this.hosts.set(name, host);
    run(['ip', 'netns', 'add', host.netns]);
    // Both ends are created inside namespaces: the bridge end in the bridge's, the other moved straight into the host's.
    runIn(this.bridgeNetns, ['ip', 'link', 'add', `v-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.netns]);
    runIn(this.bridgeNetns, ['ip', 'link', 'set', `v-${name}`, 'master', 'br0']);
    runIn(this.bridgeNetns, ['ip', 'link', 'set', `v-${name}`, 'up']);
    runIn(host.netns, ['ip', 'link', 'set', 'lo', 'up']);
    runIn(host.netns, ['ip', 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
    // nodad: usable at once (not "tentative" while duplicate detection runs); the lab owns the prefix.
    runIn(host.netns, ['ip', '-6', 'addr', 'add', `${host.address6}/64`, 'dev', 'eth0', 'nodad']);
    runIn(host.netns, ['ip', 'link', 'set', 'eth0', 'up']);
    runIn(host.netns, ['ip', 'route', 'add', 'default', 'via', this.gateway]);
    // Programs started with `ip netns exec` see this as /etc/resolv.conf: the lab's gateway, never the machine's resolver.
    mkdirSync(path.join(ETC_NETNS, host.netns), { recursive: true });
    writeFileSync(path.join(ETC_NETNS, host.netns, 'resolv.conf'), `nameserver ${this.gateway}\noptions timeout:1 attempts:1\n`);
    return host;
  }

  host(name: string): LabHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name} in this lab`);
    return h;
  }

  /** Runs a command to completion in a host (or `bridge`) and returns its stdout. */
  exec(name: string, argv: readonly string[]): string {
    return runIn(name === 'bridge' ? this.bridgeNetns : this.host(name).netns, argv);
  }

  /** Runs a command to completion in a host without blocking the event loop. */
  execAsync(name: string, argv: readonly string[], timeoutMs?: number): Promise<string> {
    return runInAsync(name === 'bridge' ? this.bridgeNetns : this.host(name).netns, argv, timeoutMs);
  }

  /** Starts a long-running command in a host (or `bridge`). */
  spawn(name: string, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    return spawnIn(name === 'bridge' ? this.bridgeNetns : this.host(name).netns, argv, opts);
  }

  /** Every namespace of this lab (hosts and bridge). */
  namespaces(): string[] {
    return [...[...this.hosts.values()].map((h) => h.netns), this.bridgeNetns];
  }

  /** Kills every process in the lab's namespaces and deletes them and their files; idempotent, never throws. */
  destroy(): string[] {
    this.destroyed = true;
    const problems: string[] = [];
    for (const ns of listNamespacesSafe().filter((n) => n.startsWith(`${this.prefix}-`))) {
      try {
        deleteNamespace(ns);
      } catch (e) {
        problems.push((e as Error).message);
      }
      rmSync(path.join(ETC_NETNS, ns), { recursive: true, force: true });
    }
    for (const h of this.hosts.values()) rmSync(path.join(ETC_NETNS, h.netns), { recursive: true, force: true });
    return problems;
  }
}

function listNamespacesSafe(): string[] {
  try {
    return listNamespaces();
  } catch {
    return [];
  }
}
