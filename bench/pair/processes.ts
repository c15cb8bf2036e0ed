// The bench's children: each pinned to a core, in its own process group, killed with the temp
// directory on exit; and what /proc says about a process's CPU time and memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The load generators run on one core, the servers and proxies under test on the other. */
export const LOAD_CPU = '0';
export const SERVER_CPU = os.cpus().length > 1 ? '1' : '0';
/** Open files allowed to every child: the client and side A hold a descriptor per connection of `conns`. */
const NOFILE = 65536;

export interface StartOptions {
  readonly cpu?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly stdout?: 'ignore' | 'pipe';
}

export class Processes {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-'));
  private readonly children: ChildProcess[] = [];

  constructor() {
    process.on('exit', () => this.cleanup());
    process.on('SIGINT', () => process.exit(130));
    process.on('SIGTERM', () => process.exit(143));
  }

  /** Starts `cmd` pinned to `cpu`, with the open-file limit raised (as far as the hard limit allows). */
  start(cmd: string, args: readonly string[], options: StartOptions = {}): ChildProcess {
    // `exec` keeps one pid (sh → taskset → cmd), so /proc/PID is the program's own.
    const script = `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec taskset -c "$0" "$@"`;
    // Own process group, so that cleanup also reaches what it forks (nginx's workers).
    const child = spawn('sh', ['-c', script, options.cpu ?? SERVER_CPU, cmd, ...args], {
      detached: true,
      stdio: ['ignore', options.stdout ?? 'ignore', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    child.stderr!.on('data', (c) => process.stderr.write(`[${path.basename(cmd)}] ${c}`));
    this.children.push(child);
    return child;
  }

  /** Runs a load generator to its end (killed after `timeoutMs`): its stdout and exit status. */
  async run(cmd: string, args: readonly string[], timeoutMs: number): Promise<{ stdout: string; status: number | null }> {
    const child = this.start(cmd, args, { cpu: LOAD_CPU, stdout: 'pipe' });
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    const timer = setTimeout(() => this.kill(child), timeoutMs);
    const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    this.children.splice(this.children.indexOf(child), 1);
    return { stdout, status };
  }

  /** Stops a child with SIGTERM (a Node.js process then writes its CPU profile), SIGKILL after 30 s (a loaded machine can take that long to write a profile). */
  async stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(child), 30_000);
    await exited;
    clearTimeout(timer);
  }

  private kill(child: ChildProcess): void {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  private cleanup(): void {
    for (const c of this.children) this.kill(c);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** CPU time (user + system) a process has used, in µs. */
export function cpuTimeUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in 100 Hz ticks
}

/**
 * Resident memory of a process, MB: RSS; PSS, which splits pages shared with other processes
 * (the node binary, libraries) among them; and anonymous memory (heaps, stacks), which is what
 * each more process on a host costs.
 */
export interface Memory {
  readonly rss: number;
  readonly pss: number;
  readonly anon: number;
}

export function memory(pid: number): Memory {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024, anon: kb('Anonymous') / 1024 };
}

/** The largest memory of each process seen while `work` runs, sampled every 250 ms. */
export async function peakMemoryDuring<T>(pids: readonly number[], work: () => Promise<T>): Promise<{ result: T; peaks: Memory[] }> {
  const peaks = pids.map((pid) => memory(pid));
  const sample = () =>
    pids.forEach((pid, i) => {
      const m = memory(pid);
      const p = peaks[i]!;
      peaks[i] = { rss: Math.max(p.rss, m.rss), pss: Math.max(p.pss, m.pss), anon: Math.max(p.anon, m.anon) };
    });
  const timer = setInterval(sample, 250);
  try {
    const result = await work();
    sample();
    return { result, peaks };
  } finally {
    clearInterval(timer);
  }
}
