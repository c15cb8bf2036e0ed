// Running commands inside a Linux network namespace (`ip netns exec`), with errors that say
// which command failed and what it printed.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Runs `argv` in the machine's own namespace and returns its stdout; throws with stderr on failure. */
export function run(argv: readonly string[], input?: string): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input: input ?? '', timeout: 20_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`\`${argv.join(' ')}\` failed: ${(err.stderr || err.message).trim()}`);
  }
}

/** Like runIn, without blocking the event loop (for polling loops). */
export function runInAsync(ns: string, argv: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: timeoutMs }, (e, stdout, stderr) => {
      if (e) reject(new Error(`\`ip netns exec ${ns} ${argv.join(' ')}\` failed: ${(stderr || e.message).trim()}`));
      else resolve(stdout);
    });
  });
}

/** Runs `argv` inside namespace `ns` and returns its stdout. */
export function runIn(ns: string, argv: readonly string[], input?: string): string {
  return run(['ip', 'netns', 'exec', ns, ...argv], input);
}

/** Starts `argv` inside namespace `ns` (ip netns exec replaces itself with the command, so the pid is the command's). */
export function spawnIn(ns: string, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...argv], opts);
}

/** The network namespaces that exist now (names from `ip netns list`). */
export function listNamespaces(): string[] {
  return run(['ip', 'netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.length > 0);
}

/** Process ids inside namespace `ns`. */
export function namespacePids(ns: string): number[] {
  try {
    return run(['ip', 'netns', 'pids', ns]).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Kills every process in `ns` (SIGKILL) and deletes the namespace with its interfaces; idempotent. */
export function deleteNamespace(ns: string): void {
  for (const pid of namespacePids(ns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (listNamespaces().includes(ns)) run(['ip', 'netns', 'del', ns]);
}

/** True when this process may manage namespaces and iptables (root on Linux with `ip` present). */
export function canManageNamespaces(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces and iptables need root' };
  try {
    run(['ip', 'netns', 'list']);
    run(['iptables', '--version']);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  return { ok: true };
}
