// Parsers for repeatable command-line flags shared by `trellis proxy` and `trellis run`.
import { InvalidArgumentError } from 'commander';
import { unixSocketPathProblem } from '../common/listen-unix.js';

function port(value: string, flag: string, whole: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`${flag}=${whole} is not valid: port ${JSON.stringify(value)} must be an integer 1..65535`);
  return n;
}

/** A comma-separated port list (`22,8443`), repeatable: each use adds to the list. */
export const portList =
  (flag: string) =>
  (value: string, previous: number[] = []): number[] => [
    ...previous,
    ...value
      .split(',')
      .filter(Boolean)
      .map((p) => port(p, flag, value)),
  ];

export interface UpstreamFlag {
  service: string;
  namespace: string;
  port: number;
  localPort: number;
}

/** `payments:8080=9001` or `payments.shop:8080=9001`. */
export function parseUpstream(value: string): UpstreamFlag {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.([a-z0-9]([-a-z0-9]*[a-z0-9])?))?:(\d+)=(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--upstream=${value} is not valid: expected SERVICE[.NAMESPACE]:PORT=LOCAL_PORT, e.g. payments:8080=9001`);
  return { service: m[1]!, namespace: m[3] ?? 'default', port: port(m[5]!, '--upstream', value), localPort: port(m[6]!, '--upstream', value) };
}

/** `15006:3000`: the proxy listens on 15006 for the app's port 3000. */
export function parseInbound(value: string): { port: number; appPort: number } {
  const m = /^(\d+):(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--inbound=${value} is not valid: expected LISTEN_PORT:APP_PORT, e.g. 15006:3000`);
  return { port: port(m[1]!, '--inbound', value), appPort: port(m[2]!, '--inbound', value) };
}

/** `version=v2`. */
export function parseLabel(value: string): [string, string] {
  const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)=([-A-Za-z0-9_.]*)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--label=${value} is not valid: expected KEY=VALUE, e.g. version=v2`);
  return [m[1]!, m[2]!];
}

/** A repeatable option whose every value is checked as it is parsed (commander reports the error). */
export const collectValid =
  (check: (value: string) => unknown) =>
  (value: string, previous: string[]): string[] => {
    check(value);
    return [...previous, value];
  };

/** `host:port` (IPv6 as `[::1]:15010`). */
export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`${flag}=${value} is not valid: expected HOST:PORT, e.g. 127.0.0.1:15010`);
  }
  return { host: m[1] ?? m[2]!, port };
}

/** A checked `host:port` option value (kept as the string). */
export const hostPort =
  (flag: string) =>
  (value: string): string => {
    parseHostPort(value, flag);
    return value;
  };

/** An xDS server address for a proxy: `host:port`, or `unix:/absolute/path` (a control plane's --xds-socket). */
export const xdsTarget =
  (flag: string) =>
  (value: string): string => {
    if (value.startsWith('unix:')) {
      if (!value.slice(5).startsWith('/')) throw new InvalidArgumentError(`${flag}=${value} is not valid: expected unix:/ABSOLUTE/PATH`);
      return value;
    }
    parseHostPort(value, flag);
    return value;
  };

/** A Unix socket path option value: absolute and short enough for a socket address. */
export const socketPathFlag =
  (flag: string) =>
  (value: string): string => {
    const problem = unixSocketPathProblem(value);
    if (problem !== undefined) throw new InvalidArgumentError(`${flag}=${value} is not valid: ${problem}`);
    return value;
  };
