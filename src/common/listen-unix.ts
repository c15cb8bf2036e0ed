// Serves on a Unix socket that only its owner may open: how processes in different network
// namespaces reach each other through the file system they share. A socket file left by a
// crashed run is replaced; a live one, or a file that is not a socket, is never touched.
import { chmodSync, existsSync, lstatSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The longest path a Unix socket address holds on Linux (sun_path is 108 bytes with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Why `p` cannot name a Unix socket, or undefined when it can. */
export function unixSocketPathProblem(p: string): string | undefined {
  if (p.length === 0) return 'must be a path, got nothing';
  if (p.includes('\0')) return 'must not contain a NUL byte';
  if (!path.isAbsolute(p)) return `must be an absolute path, got ${JSON.stringify(p)}`;
  const bytes = Buffer.byteLength(p);
  if (bytes > MAX_SOCKET_PATH_BYTES) return `must be at most ${MAX_SOCKET_PATH_BYTES} bytes (a Unix socket address), got ${bytes}: ${p}`;
  return undefined;
}

/** True when something accepts connections on the socket at `p`. */
export function unixSocketLive(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Listens on the Unix socket `socketPath` with mode 0600; rejects with one line,
 * `cannot serve <what> on the Unix socket <path>: <reason>`. Node removes the file when the
 * server closes.
 */
export async function listenUnix(server: net.Server, socketPath: string, what: string): Promise<void> {
  const fail = (reason: string) => new Error(`cannot serve ${what} on the Unix socket ${socketPath}: ${reason}`);
  const problem = unixSocketPathProblem(socketPath);
  if (problem !== undefined) throw fail(problem);
  // libuv reports a missing directory as EACCES: look first, to say which it is.
  if (!existsSync(path.dirname(socketPath))) throw fail(`its directory ${path.dirname(socketPath)} does not exist`);
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(socketPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fail((e as Error).message);
  }
  if (existing !== undefined) {
    if (!existing.isSocket()) throw fail('the path exists and is not a socket; remove it or choose another path');
    if (await unixSocketLive(socketPath)) throw fail('another process is serving on it');
    rmSync(socketPath, { force: true }); // stale: left by a run that crashed
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => reject(fail(e.code === 'EACCES' ? 'permission denied' : e.message));
    server.once('error', onError);
    // The bind happens inside listen(): the umask makes the file owner-only from its first moment.
    const previous = process.umask(0o177);
    try {
      server.listen(socketPath, () => {
        server.off('error', onError);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
  chmodSync(socketPath, 0o600);
}
