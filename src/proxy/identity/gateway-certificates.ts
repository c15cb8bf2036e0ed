// A gateway's certificates for its HTTPS listeners, from SDS (secrets `gateway~NS~NAME`, chain
// and key as PEM): checked as a whole on apply, then swapped in; listeners build their TLS
// contexts from it and rebuild them when its generation moves.
import tls from 'node:tls';
import { err, ok, type Result } from '../../common/result.js';

export interface GatewayCertificate {
  readonly cert: string;
  readonly key: string;
}

export class GatewayCertificates {
  #byName: ReadonlyMap<string, GatewayCertificate> = new Map();
  #generation = 0;

  /** Bumped on every change: a listener's contexts made at an older generation are stale. */
  get generation(): number {
    return this.#generation;
  }

  get(name: string): GatewayCertificate | undefined {
    return this.#byName.get(name);
  }

  /** Replaces the certificates with those of one SDS response; refuses the whole response if one is not a usable pair. */
  apply(secrets: ReadonlyMap<string, GatewayCertificate>): Result<void, string> {
    for (const [name, c] of secrets) {
      try {
        tls.createSecureContext({ cert: c.cert, key: c.key });
      } catch (e) {
        return err(`secret ${name}: the certificate and key cannot serve TLS: ${(e as Error).message}`);
      }
    }
    const same = secrets.size === this.#byName.size && [...secrets].every(([n, c]) => this.#byName.get(n)?.cert === c.cert && this.#byName.get(n)?.key === c.key);
    if (same) return ok(undefined);
    this.#byName = new Map(secrets);
    this.#generation++;
    return ok(undefined);
  }
}
