// Picks the filter chain of a captured connection as Envoy does: destination port (an exact
// match beats a chain without port), then the most specific destination range, then the
// transport protocol, then the application protocol; no chain left means the default chain.
import type { CaptureChain, CaptureListenerConfig, DetectedProtocol } from '../config/runtime-config.js';

function ipv4(text: string): number | undefined {
  const p = text.split('.');
  if (p.length !== 4) return undefined;
  let n = 0;
  for (const x of p) {
    const v = Number(x);
    if (!/^\d{1,3}$/.test(x) || v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** How specifically `chain` matches `address`: its longest containing prefix; -1 matches any address; undefined no match. */
function specificity(chain: CaptureChain, address: string, n: number | undefined): number | undefined {
  if (chain.match.prefixes.length === 0) return -1;
  let best: number | undefined;
  for (const p of chain.match.prefixes) {
    let hit: boolean;
    if (n !== undefined) {
      const base = ipv4(p.address);
      if (base === undefined) continue;
      const size = 2 ** (32 - p.prefixLength);
      hit = Math.floor(n / size) === Math.floor(base / size);
    } else {
      // IPv6: whole addresses only (the translator gives /128 per destination).
      hit = p.prefixLength === 128 ? p.address === address : p.prefixLength === 0;
    }
    if (hit && (best === undefined || p.prefixLength > best)) best = p.prefixLength;
  }
  return best;
}

export class ChainSelector {
  private readonly byPort = new Map<number, CaptureChain[]>();
  private readonly anyPort: CaptureChain[] = [];

  constructor(private readonly listener: CaptureListenerConfig) {
    for (const c of listener.chains) {
      if (c.match.port === undefined) this.anyPort.push(c);
      else {
        let list = this.byPort.get(c.match.port);
        if (!list) this.byPort.set(c.match.port, (list = []));
        list.push(c);
      }
    }
  }

  get defaultChain(): CaptureChain | undefined {
    return this.listener.defaultChain;
  }

  /** The chains that match `address:port` by port and destination range (the most specific range only). */
  candidates(address: string, port: number): readonly CaptureChain[] {
    const n = ipv4(address);
    const pick = (list: readonly CaptureChain[]): CaptureChain[] => {
      let best = -2;
      let out: CaptureChain[] = [];
      for (const c of list) {
        const sp = specificity(c, address, n);
        if (sp === undefined || sp < best) continue;
        if (sp > best) {
          best = sp;
          out = [];
        }
        out.push(c);
      }
      return out;
    };
    const exact = this.byPort.get(port);
    const byRange = exact ? pick(exact) : [];
    return byRange.length > 0 ? byRange : pick(this.anyPort);
  }

  /** True when the candidates differ by protocol, so the connection's first bytes must be looked at. */
  static needsDetection(candidates: readonly CaptureChain[]): boolean {
    return candidates.some((c) => c.match.transport !== undefined || c.match.appProtocols.length > 0);
  }

  /**
   * The chain among `candidates` for the detected protocol (undefined: not detected); the
   * default chain when none fits. Application protocols: HTTP detection's on plaintext, the
   * ClientHello's ALPN (`alpn`) on TLS; a chain matches when it lists any of them.
   */
  pick(candidates: readonly CaptureChain[], detected?: DetectedProtocol, alpn: readonly string[] = []): CaptureChain | undefined {
    const transport = detected === 'tls' ? 'tls' : 'raw_buffer';
    const byTransport = candidates.filter((c) => c.match.transport === transport);
    const t = byTransport.length > 0 ? byTransport : candidates.filter((c) => c.match.transport === undefined);
    const apps = detected === 'http/1.1' || detected === 'h2c' ? [detected] : detected === 'tls' ? alpn : [];
    const byApp = apps.length > 0 ? t.filter((c) => c.match.appProtocols.some((p) => apps.includes(p))) : [];
    const chosen = byApp.length > 0 ? byApp : t.filter((c) => c.match.appProtocols.length === 0);
    return chosen[0] ?? this.listener.defaultChain;
  }
}
