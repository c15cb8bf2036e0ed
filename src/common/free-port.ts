// Finds free TCP ports on loopback for listeners that must be chosen up front (e.g. `trellis
// run` telling its proxy where to listen). Ports come from below the kernel's ephemeral range,
// so that outgoing connections, which take their local port from that range, cannot grab a
// chosen port before its listener binds it.
//
// A port that is free now can still be handed to two Trellis processes that look at the same
// moment (a demo starting five sidecars, tests running side by side). So every port handed out
// is also reserved for a while by a file created exclusively in a directory all Trellis
// processes on the machine share; a reservation older than RESERVATION_MS is stale.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Start of the ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range), 32768 if unknown. */
function ephemeralStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > 2048 ? start : 32768;
  } catch {
    return 32768;
  }
}

const LOWEST = 10000;
const HIGHEST = ephemeralStart() - 1;
/** Long enough for the slowest start-up to bind what it was given (a proxy waits for its first config). */
const RESERVATION_MS = 10 * 60_000;
export const RESERVATIONS = path.join(os.tmpdir(), 'trellis-port-reservations');

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Claims `port` for this process unless another process claimed it within RESERVATION_MS. */
export function reserve(port: number, now = Date.now()): boolean {
  const file = path.join(RESERVATIONS, String(port));
  try {
    mkdirSync(RESERVATIONS, { recursive: true, mode: 0o1777 });
    closeSync(openSync(file, 'wx'));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return true; // no shared directory: fall back to the bind probe alone
    try {
      if (now - statSync(file).mtimeMs < RESERVATION_MS) return false;
      rmSync(file, { force: true });
      closeSync(openSync(file, 'wx'));
      return true;
    } catch {
      return false; // another process renewed it first
    }
  }
}

let lastSweep = 0;
/** Removes stale reservations now and then, so that the directory does not grow without end. */
function sweep(now = Date.now()): void {
  if (now - lastSweep < RESERVATION_MS) return;
  lastSweep = now;
  try {
    for (const name of readdirSync(RESERVATIONS)) {
      const file = path.join(RESERVATIONS, name);
      try {
        if (now - statSync(file).mtimeMs >= RESERVATION_MS) rmSync(file, { force: true });
      } catch {
        /* raced with another sweep */
      }
    }
  } catch {
    /* nothing reserved yet */
  }
}

/** A port that was free a moment ago on `host` and that no other Trellis process was handed recently. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  sweep();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST));
    if (reserve(port) && (await canBind(port, host))) return port;
  }
  throw new Error(`no free port found on ${host} between ${LOWEST} and ${HIGHEST} after 200 tries`);
}

/** `count` distinct free ports. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}
