// What verifying an end user's JWT costs a sidecar: jose over WebCrypto for RS256 (2048-bit)
// and ES256 tokens, every token new (a full signature check) against the same token repeated
// (the verified-token cache, what a client that keeps its token pays). Verifications per second,
// sequential and with 32 in flight, medians of interleaved rounds, in one process.
//   npx tsc -p tsconfig.json && node dist/bench/jwt-verify.js [--tokens 2000] [--rounds 5]
import type { JSONWebKeySet } from 'jose';
import type { JwtConfig } from '../src/proxy/config/jwt-config.js';
import { JwtVerifier } from '../src/proxy/jwt/jwt-verifier.js';
import { jwksOf, sign, testKey, type TestKey } from '../src/proxy/testing/jwt-keys.js';

const arg = (name: string, fallback: number) => Number(process.argv.find((a, i) => process.argv[i - 1] === `--${name}`) ?? fallback);
const TOKENS = arg('tokens', 2000);
const ROUNDS = arg('rounds', 5);
const ISS = 'https://id.example.com';

function config(key: TestKey): JwtConfig {
  const jwks = JSON.parse(jwksOf(key)) as JSONWebKeySet;
  return {
    providers: [
      {
        name: 'bench',
        issuer: ISS,
        audiences: ['shop'],
        keys: jwks,
        keyCount: 1,
        fromHeaders: [{ name: 'authorization', prefix: 'Bearer ' }],
        fromParams: [],
        claimToHeaders: [],
        forward: false,
        clockSkewSeconds: 60,
        removedHeaders: new Set(['authorization']),
      },
    ],
    allowMissing: true,
    claimHeaders: new Set(),
    source: 'bench',
  };
}

/** Verifies every token in `tokens` with `inFlight` at once; answers verifications per second. */
async function rate(verifier: JwtVerifier, tokens: readonly string[], inFlight: number): Promise<number> {
  const start = performance.now();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < tokens.length) {
      const token = tokens[next++]!;
      // As the JWT layer does: the cache first, a signature check on a miss.
      if (verifier.cached(token) === undefined && !(await verifier.verify(token)).ok) failed++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  if (failed > 0) throw new Error(`${failed} tokens failed`);
  return tokens.length / ((performance.now() - start) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const results = new Map<string, number[]>();
const keys = [await testKey('RS256', 'rs'), await testKey('ES256', 'es')];
const tokensOf = new Map<TestKey, string[]>();
for (const key of keys) tokensOf.set(key, await Promise.all(Array.from({ length: TOKENS }, (_, i) => sign(key, { iss: ISS, sub: `user-${i}`, aud: 'shop' }))));

for (let round = 0; round < ROUNDS; round++) {
  for (const key of keys) {
    const tokens = tokensOf.get(key)!;
    for (const inFlight of [1, 32]) {
      // Every token new: a fresh verifier with no cache.
      const fresh = await rate(new JwtVerifier(config(key), 0), tokens, inFlight);
      // One token repeated: verified once, then answered from the cache.
      const cached = new JwtVerifier(config(key));
      const repeated = await rate(
        cached,
        Array.from({ length: TOKENS * 20 }, () => tokens[0]!),
        inFlight,
      );
      for (const [name, v] of [
        [`${key.alg} new tokens, ${inFlight} in flight`, fresh],
        [`${key.alg} repeated token (cache), ${inFlight} in flight`, repeated],
      ] as const)
        results.set(name, [...(results.get(name) ?? []), v]);
    }
  }
}

console.log(`node ${process.version}, ${TOKENS} tokens per run, ${ROUNDS} rounds; verifications per second (median)`);
for (const [name, xs] of results) console.log(`${name.padEnd(44)} ${Math.round(median(xs)).toString().padStart(10)}`);
for (const key of keys)
  for (const inFlight of [1, 32]) {
    const fresh = median(results.get(`${key.alg} new tokens, ${inFlight} in flight`)!);
    const cached = median(results.get(`${key.alg} repeated token (cache), ${inFlight} in flight`)!);
    console.log(`${key.alg}, ${inFlight} in flight: the cache is ${(cached / fresh).toFixed(0)}x a signature check`);
  }
