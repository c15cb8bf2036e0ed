// The JWK Sets of RequestAuthentications' jwksUri and jwksFile, obtained by the control plane
// (proxies never reach an issuer) and refreshed: every `refreshMs` (a URL's Cache-Control
// max-age instead, within bounds); after a failure the last good keys stay and the source is
// tried again with backoff. A change of keys (or of a source's failure) calls `onChange`, which
// pushes new config. The snapshot is a new map on every change (the translator caches per input).
import type { Logger } from '../../common/log.js';
import type { RequestAuthentication } from '../../api/resource.js';
import type { Result } from '../../common/result.js';
import type { FetchedJwks } from '../translator/types.js';
import { fetchJwksUrl, readJwksFile, type FetchedKeys } from './jwks-fetch.js';

/** Default refresh interval: 20 minutes, as Istio's. */
export const DEFAULT_JWKS_REFRESH_MS = 20 * 60_000;
const MAX_REFRESH_MS = 24 * 3600_000;
/** A max-age below this is raised to it (unless the configured interval is shorter). */
const MIN_MAX_AGE_MS = 60_000;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 5 * 60_000;
const FETCH_TIMEOUT_MS = 10_000;

export interface JwksCacheOptions {
  refreshMs?: number;
  onChange: () => void;
  logger: Logger;
  /** For tests: how a source is obtained (default: fetchJwksUrl / readJwksFile). */
  obtain?: (source: JwksSource) => Promise<Result<FetchedKeys, string>>;
}

export type JwksSource = { readonly kind: 'uri'; readonly key: string } | { readonly kind: 'file'; readonly key: string };

interface SourceState {
  readonly source: JwksSource;
  json?: string;
  error?: string;
  failures: number;
  timer?: NodeJS.Timeout;
  closed: boolean;
}

export class JwksCache {
  readonly #sources = new Map<string, SourceState>();
  #snapshot: ReadonlyMap<string, FetchedJwks> = new Map();
  readonly #refreshMs: number;

  constructor(private readonly opts: JwksCacheOptions) {
    this.#refreshMs = opts.refreshMs ?? DEFAULT_JWKS_REFRESH_MS;
  }

  /** What the translator reads (MeshState.jwks): by URL or file path. */
  get snapshot(): ReadonlyMap<string, FetchedJwks> {
    return this.#snapshot;
  }

  /** Follows the sources the RequestAuthentications name: new ones are obtained now, gone ones stopped. */
  sync(ras: readonly RequestAuthentication[]): void {
    const wanted = new Map<string, JwksSource>();
    for (const ra of ras)
      for (const r of ra.spec.jwtRules) {
        if (r.jwksUri !== undefined) wanted.set(r.jwksUri, { kind: 'uri', key: r.jwksUri });
        else if (r.jwksFile !== undefined) wanted.set(r.jwksFile, { kind: 'file', key: r.jwksFile });
      }
    let removed = false;
    for (const [key, state] of this.#sources) {
      if (wanted.has(key)) continue;
      this.#stop(state);
      this.#sources.delete(key);
      removed = true;
    }
    for (const [key, source] of wanted) {
      if (this.#sources.has(key)) continue;
      const state: SourceState = { source, failures: 0, closed: false };
      this.#sources.set(key, state);
      void this.#refresh(state);
    }
    if (removed) this.#publish();
  }

  close(): void {
    for (const s of this.#sources.values()) this.#stop(s);
    this.#sources.clear();
  }

  #stop(state: SourceState): void {
    state.closed = true;
    clearTimeout(state.timer);
  }

  async #refresh(state: SourceState): Promise<void> {
    const { source } = state;
    const got = await (this.opts.obtain ?? obtain)(source);
    if (state.closed) return;
    let delay: number;
    const before = [state.json, state.error];
    if (got.ok) {
      state.json = got.value.json;
      state.error = undefined;
      state.failures = 0;
      delay = this.#nextRefresh(got.value.maxAgeSeconds);
    } else {
      state.error = got.error;
      state.failures++;
      delay = Math.min(FIRST_RETRY_MS * 2 ** (state.failures - 1), MAX_RETRY_MS, this.#refreshMs);
      this.opts.logger.warn(
        { source: source.key, error: got.error, retryInMs: delay, keptKeys: state.json !== undefined },
        state.json === undefined ? 'JWKS not obtained: tokens of its issuer are refused until it is' : 'JWKS refresh failed: the last keys obtained stay in use',
      );
    }
    state.timer = setTimeout(() => void this.#refresh(state), delay);
    state.timer.unref();
    if (before[0] !== state.json || before[1] !== state.error) {
      if (got.ok) this.opts.logger.info({ source: source.key, refreshInMs: delay }, 'JWKS obtained');
      this.#publish();
    }
  }

  /** The configured interval, or a max-age within [min(interval, 1 min), 24 h]. */
  #nextRefresh(maxAgeSeconds: number | undefined): number {
    if (maxAgeSeconds === undefined) return this.#refreshMs;
    return Math.max(Math.min(this.#refreshMs, MIN_MAX_AGE_MS), Math.min(maxAgeSeconds * 1000, MAX_REFRESH_MS));
  }

  #publish(): void {
    const next = new Map<string, FetchedJwks>();
    for (const [key, s] of this.#sources) {
      if (s.json === undefined && s.error === undefined) continue;
      next.set(key, { ...(s.json !== undefined ? { json: s.json } : {}), ...(s.error !== undefined ? { error: s.error } : {}) });
    }
    this.#snapshot = next;
    this.opts.onChange();
  }
}

function obtain(source: JwksSource): Promise<Result<FetchedKeys, string>> {
  return source.kind === 'uri' ? fetchJwksUrl(source.key, FETCH_TIMEOUT_MS) : readJwksFile(source.key);
}
