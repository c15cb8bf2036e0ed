// Where a redirected connection was going: SOL_IP/SO_ORIGINAL_DST (IPv4, also mapped into a
// dual-stack socket) or SOL_IPV6/IP6T_SO_ORIGINAL_DST (IPv6; link-local with `%interface`)
// through the tiny N-API addon in native/ (built by `npm ci`), because Node.js exposes no getsockopt.
import { createRequire } from 'node:module';
import type net from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../../common/self.js';

/** The addon's path (built by scripts/build-native.mjs). */
export const ORIGINAL_DST_ADDON = path.join(PROJECT_ROOT, 'build/original-dst.node');

interface Addon {
  originalDst(fd: number): { address: string; port: number } | { errno: number; message: string };
}

let addon: Addon | undefined;

/**
 * Loads the addon once; throws a clear error when it is missing or cannot load, so a proxy
 * in transparent mode refuses to start rather than misroute connections.
 */
export function loadOriginalDst(): void {
  if (addon) return;
  try {
    addon = createRequire(import.meta.url)(ORIGINAL_DST_ADDON) as Addon;
  } catch (e) {
    throw new Error(
      `transparent mode needs the SO_ORIGINAL_DST addon at ${ORIGINAL_DST_ADDON}, which could not be loaded (${(e as Error).message.split('\n')[0]}); run \`npm ci\` (or \`node scripts/build-native.mjs\`) with a C compiler installed`,
    );
  }
}

export type OriginalDst = { ok: true; address: string; port: number } | { ok: false; reason: string };

/**
 * The destination `socket` had before iptables redirected it. A connection that was not
 * redirected (made straight to the listener) has none: `ok: false` with the reason.
 */
export function originalDst(socket: net.Socket): OriginalDst {
  loadOriginalDst();
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return { ok: false, reason: 'the socket has no file descriptor' };
  const r = addon!.originalDst(fd);
  if ('errno' in r) return { ok: false, reason: `getsockopt(SO_ORIGINAL_DST): ${r.message}` };
  return { ok: true, address: r.address, port: r.port };
}
