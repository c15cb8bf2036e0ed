// Join tokens (a proxy proves it runs one service) and operator tokens (admin, read-only) kept
// in `<dataDir>/tokens.json` (mode 0600). Only a SHA-256 of each secret is stored: the secret is
// shown once, when the token is created. A token is `trellis-<kind>.<id>.<secret>`.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { err, ok, type Result } from '../../common/result.js';
import { caError, type CaError } from '../ca/errors.js';
import { writeFileAtomic } from '../store/durable-fs.js';

export type TokenRole = 'join' | 'admin' | 'read-only';

/** A stored token as operators see it (never with its secret or hash). */
export interface TokenInfo {
  id: string;
  role: TokenRole;
  /** Join tokens: the service (and namespace) whose identity it may obtain. */
  service?: string;
  namespace?: string;
  /**
   * Join tokens: the labels besides `app` its proxy may claim, each with its one allowed value;
   * absent: any (`app` is always the service).
   */
  labels?: Record<string, string>;
  createdAt: string;
  /** Absent: never expires. */
  expiresAt?: string;
  revokedAt?: string;
}

interface StoredToken extends TokenInfo {
  sha256: string;
}

const FILE = 'tokens.json';
const PREFIX: Record<TokenRole, string> = { join: 'trellis-join', admin: 'trellis-admin', 'read-only': 'trellis-read' };

const hash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** The id part of a token string (safe to log), or undefined when it is not shaped like one. */
export function tokenId(token: string): string | undefined {
  const m = /^trellis-(?:join|admin|read)\.([a-f0-9]{12})\.[A-Za-z0-9_-]{20,}$/.exec(token);
  return m?.[1];
}

export class TokenStore {
  readonly #file: string;
  #tokens: StoredToken[] = [];
  #writing: Promise<void> = Promise.resolve();
  readonly #now: () => number;
  readonly #revoked = new Set<(id: string) => void>();

  private constructor(file: string, now: () => number) {
    this.#file = file;
    this.#now = now;
  }

  /** Loads `<dir>/tokens.json` (none yet: no tokens). */
  static async open(dir: string, now: () => number = Date.now): Promise<TokenStore> {
    const store = new TokenStore(path.join(dir, FILE), now);
    const text = await fsp.readFile(store.#file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    if (text !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        // Never start without the tokens: every operator and proxy would be locked out, or a revocation forgotten.
        throw new Error(`${store.#file} is not valid JSON (${(e as Error).message}); restore it from a copy (docs/operations.md)`);
      }
      if (!Array.isArray(parsed)) throw new Error(`${store.#file} must hold a JSON array of tokens`);
      store.#tokens = parsed as StoredToken[];
    }
    return store;
  }

  /** True when an admin token exists (the first start creates one). */
  hasAdmin(): boolean {
    return this.#tokens.some((t) => t.role === 'admin' && t.revokedAt === undefined);
  }

  /** Creates a token; answers its info and the token string, which is never shown again. */
  async create(
    role: TokenRole,
    opts: { service?: string; namespace?: string; labels?: Record<string, string>; ttlSeconds?: number } = {},
  ): Promise<{ info: TokenInfo; token: string }> {
    if (role === 'join' && !opts.service) throw new Error('a join token needs the service it is for');
    if (opts.labels?.app !== undefined && opts.labels.app !== opts.service) throw new Error(`a join token's app label is its service ${opts.service}, not ${opts.labels.app}`);
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(24).toString('base64url');
    const now = this.#now();
    const info: TokenInfo = {
      id,
      role,
      ...(role === 'join' ? { service: opts.service!, namespace: opts.namespace ?? 'default', ...(opts.labels !== undefined ? { labels: { ...opts.labels } } : {}) } : {}),
      createdAt: new Date(now).toISOString(),
      ...(opts.ttlSeconds ? { expiresAt: new Date(now + opts.ttlSeconds * 1000).toISOString() } : {}),
    };
    this.#tokens.push({ ...info, sha256: hash(secret) });
    await this.#save();
    return { info, token: `${PREFIX[role]}.${id}.${secret}` };
  }

  list(): TokenInfo[] {
    return this.#tokens.map(({ sha256: _hash, ...info }) => info);
  }

  /** Revokes token `id`; listeners (open xDS streams) hear of it at once. */
  async revoke(id: string): Promise<Result<TokenInfo, CaError>> {
    const t = this.#tokens.find((x) => x.id === id);
    if (!t) return err(caError('TOKEN_NOT_FOUND', `no token with id ${JSON.stringify(id)} (see trellis token list)`));
    t.revokedAt ??= new Date(this.#now()).toISOString();
    await this.#save();
    for (const fn of this.#revoked) fn(id);
    const { sha256: _hash, ...info } = t;
    return ok(info);
  }

  /** Runs `fn(id)` when a token is revoked. */
  onRevoke(fn: (id: string) => void): () => void {
    this.#revoked.add(fn);
    return () => this.#revoked.delete(fn);
  }

  /** The token `token` is, if it is valid now and of one of `roles`; the error never repeats the secret. */
  verify(token: string | undefined, roles: readonly TokenRole[]): Result<TokenInfo, CaError> {
    if (!token) return err(caError('TOKEN_INVALID', 'no token was presented'));
    const id = tokenId(token);
    const t = id === undefined ? undefined : this.#tokens.find((x) => x.id === id);
    const secret = token.slice(token.lastIndexOf('.') + 1);
    const expected = t ? Buffer.from(t.sha256, 'hex') : undefined;
    if (!t || !expected || !timingSafeEqual(expected, createHash('sha256').update(secret).digest()) || !roles.includes(t.role) || !token.startsWith(PREFIX[t.role] + '.')) {
      return err(caError('TOKEN_INVALID', `the token${id ? ` ${id}` : ''} is not valid here (expected a ${roles.join(' or ')} token)`));
    }
    if (t.revokedAt !== undefined) return err(caError('TOKEN_REVOKED', `the token ${id} was revoked at ${t.revokedAt}`));
    if (t.expiresAt !== undefined && Date.parse(t.expiresAt) <= this.#now()) return err(caError('TOKEN_EXPIRED', `the token ${id} expired at ${t.expiresAt}`));
    const { sha256: _hash, ...info } = t;
    return ok(info);
  }

  #save(): Promise<void> {
    const data = Buffer.from(JSON.stringify(this.#tokens, null, 2));
    this.#writing = this.#writing.then(async () => {
      await writeFileAtomic(this.#file, data);
      await fsp.chmod(this.#file, 0o600);
    });
    return this.#writing;
  }
}
