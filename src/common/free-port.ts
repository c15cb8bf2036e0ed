// Finds free TCP ports on loopback for listeners that must be chosen up front (e.g. `trellis
// run` telling its proxy where to listen). Ports come from below the kernel's ephemeral range,
// so that outgoing connections, which take their local port from that range, cannot grab a
// chosen port before its listener binds it.
import { readFileSync } from 'node:fs';
import net from 'node:net';

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

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port that was free a moment ago on `host`. Another process may still take it; callers retry on EADDRINUSE. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST));
    if (await canBind(port, host)) return port;
  }
  throw new Error(`no free port found on ${host} between ${LOWEST} and ${HIGHEST} after 200 tries`);
}

/** `count` distinct free ports. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}
