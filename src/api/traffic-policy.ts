// Parsing a TrafficPolicy: per-destination resilience settings for one Service (targetRef).
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { ok } from '../common/result.js';
import { TRELLIS_API_VERSION } from './resource.js';
import { durationField } from './duration.js';
import { envelope, namespacedMetadata, toNamespacedMeta } from './metadata.js';
import { checkDns1123Label, checkDns1123Subdomain, checkHeaderName } from './names.js';
import type { Problem } from './problem.js';
import { describeValue } from './problem.js';
import { checked, closedObject, parseWithSchema } from './schema-kit.js';
import { GRPC_RETRY_CODES, RETRY_ON, type TrafficPolicy, type TrafficPolicySpec } from './traffic-policy-types.js';

/** Limits of TrafficPolicy fields. */
export const MAX_RETRY_ATTEMPTS = 10;
const HOUR_MS = 3_600_000;
const MAX_LIMIT = 1_000_000;

const targetRef = closedObject(
  {
    group: checked(z.string(), (g) =>
      g === '' || g === 'core' ? undefined : `a TrafficPolicy targets a Service; group must be "" (the core group), got ${describeValue(g)}`,
    ).default(''),
    kind: checked(z.string(), (k) => (k === 'Service' ? undefined : `a TrafficPolicy targets a Service; kind must be "Service", got ${describeValue(k)}`)).default('Service'),
    name: checked(z.string(), checkDns1123Label),
  },
  { namespace: 'a TrafficPolicy applies to a Service in its own namespace', sectionName: 'a TrafficPolicy applies to every port of its Service' },
);

const hashOn = closedObject({
  header: checked(z.string(), checkHeaderName).optional(),
  cookie: checked(z.string(), (c) =>
    /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/.test(c) ? undefined : `must be a cookie name (token characters, 1 to 256), got ${describeValue(c)}`,
  ).optional(),
  sourceIP: z.literal(true).optional(),
}).superRefine((h, ctx) => {
  const set = [h.header, h.cookie, h.sourceIP].filter((x) => x !== undefined).length;
  if (set !== 1) ctx.addIssue({ code: 'custom', message: `exactly one of header, cookie and sourceIP is required, got ${set}`, input: h });
});

const loadBalancer = closedObject({
  type: z.enum(['RoundRobin', 'LeastRequest', 'Random', 'RingHash']),
  hashOn: hashOn.optional(),
}).superRefine((lb, ctx) => {
  if (lb.type === 'RingHash' && lb.hashOn === undefined)
    ctx.addIssue({ code: 'custom', message: 'required for RingHash: what to hash (header, cookie or sourceIP)', path: ['hashOn'], input: undefined });
  if (lb.type !== 'RingHash' && lb.hashOn !== undefined)
    ctx.addIssue({ code: 'custom', message: `only RingHash hashes; remove it or set type: RingHash (type is ${describeValue(lb.type)})`, path: ['hashOn'], input: lb.hashOn });
});

const timeouts = closedObject({
  connect: durationField(1, 60_000).optional(),
  request: durationField(0, HOUR_MS).optional(),
  perTry: durationField(1, HOUR_MS).optional(),
});

const statusCode = z.int().min(400).max(599);

const retry = closedObject({
  attempts: z.int().min(0).max(MAX_RETRY_ATTEMPTS),
  on: z.array(z.enum(RETRY_ON)).max(RETRY_ON.length).optional(),
  codes: z.array(statusCode).max(16).optional(),
  grpcCodes: z.array(z.enum(GRPC_RETRY_CODES)).max(GRPC_RETRY_CODES.length).optional(),
  backoff: closedObject({ base: durationField(1, HOUR_MS), max: durationField(1, HOUR_MS).optional() }).optional(),
  nonIdempotent: z.boolean().default(false),
  budget: closedObject({ percent: z.number().min(0).max(100), minConcurrency: z.int().min(0).max(MAX_LIMIT).default(3) }).optional(),
});

const limit = z.int().min(0).max(MAX_LIMIT);
const circuitBreaker = closedObject({ maxConnections: limit.optional(), maxPendingRequests: limit.optional(), maxRequests: limit.optional(), maxRetries: limit.optional() });

const outlierDetection = closedObject({
  consecutiveErrors: z.int().min(1).max(1000).optional(),
  interval: durationField(1, HOUR_MS).default('10s'),
  baseEjectionTime: durationField(1, HOUR_MS).default('30s'),
  maxEjectionPercent: z.int().min(0).max(100).default(10),
  failureRate: closedObject({ threshold: z.int().min(1).max(100), minimumRequests: z.int().min(1).max(MAX_LIMIT).default(100) }).optional(),
}).superRefine((o, ctx) => {
  if (o.consecutiveErrors === undefined && o.failureRate === undefined)
    ctx.addIssue({ code: 'custom', message: 'set consecutiveErrors, failureRate or both: nothing would eject an endpoint', input: o });
});

const percent = z.number().min(0).max(100);
const faultInjection = closedObject({
  delay: closedObject({ fixedDelay: durationField(1, HOUR_MS), percent }).optional(),
  abort: closedObject({ httpStatus: z.int().min(200).max(599).optional(), grpcStatus: z.int().min(1).max(16).optional(), percent })
    .superRefine((a, ctx) => {
      if ((a.httpStatus === undefined) === (a.grpcStatus === undefined))
        ctx.addIssue({ code: 'custom', message: 'exactly one of httpStatus and grpcStatus is required', input: a });
    })
    .optional(),
  headers: z
    .array(closedObject({ name: checked(z.string(), checkHeaderName), value: z.string().max(4096) }))
    .max(16)
    .optional(),
}).superRefine((f, ctx) => {
  if (f.delay === undefined && f.abort === undefined) ctx.addIssue({ code: 'custom', message: 'set delay, abort or both', input: f });
});

const rateLimit = closedObject({ requests: z.int().min(1).max(MAX_LIMIT), per: durationField(1, HOUR_MS), burst: z.int().min(1).max(MAX_LIMIT).optional() });

const spec = closedObject({
  targetRef,
  loadBalancer: loadBalancer.optional(),
  timeouts: timeouts.optional(),
  retry: retry.optional(),
  circuitBreaker: circuitBreaker.optional(),
  outlierDetection: outlierDetection.optional(),
  faultInjection: faultInjection.optional(),
  rateLimit: rateLimit.optional(),
});

const trafficPolicySchema = envelope('TrafficPolicy', [TRELLIS_API_VERSION], namespacedMetadata(checkDns1123Subdomain), spec);

/** Drops `undefined` entries so canonical resources compare and store cleanly. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Parses a raw TrafficPolicy document. Defaults: retry `on` = connect-failure and reset (plus
 * retriable-status-codes when `codes` is set), budget minConcurrency 3, outlier interval 10s,
 * baseEjectionTime 30s, maxEjectionPercent 10, failureRate minimumRequests 100.
 */
export function parseTrafficPolicy(raw: unknown): Result<TrafficPolicy, Problem[]> {
  const r = parseWithSchema(trafficPolicySchema, raw);
  if (!r.ok) return r;
  const { metadata, spec: s } = r.value;
  const out: TrafficPolicySpec = { targetRef: { group: '', kind: 'Service', name: s.targetRef.name } };
  if (s.loadBalancer) out.loadBalancer = defined({ type: s.loadBalancer.type, hashOn: s.loadBalancer.hashOn ? (defined(s.loadBalancer.hashOn) as never) : undefined });
  if (s.timeouts && Object.keys(defined(s.timeouts)).length > 0) out.timeouts = defined(s.timeouts);
  if (s.retry) {
    const on = [...(s.retry.on ?? ['connect-failure', 'reset'])];
    if (s.retry.codes?.length && !on.includes('retriable-status-codes')) on.push('retriable-status-codes');
    out.retry = defined({
      attempts: s.retry.attempts,
      on: [...new Set(on)],
      codes: s.retry.codes?.length ? [...new Set(s.retry.codes)] : undefined,
      grpcCodes: s.retry.grpcCodes?.length ? [...new Set(s.retry.grpcCodes)] : undefined,
      backoff: s.retry.backoff ? defined(s.retry.backoff) : undefined,
      nonIdempotent: s.retry.nonIdempotent,
      budget: s.retry.budget,
    });
  }
  if (s.circuitBreaker) out.circuitBreaker = defined(s.circuitBreaker);
  if (s.outlierDetection) out.outlierDetection = defined(s.outlierDetection);
  if (s.faultInjection)
    out.faultInjection = defined({
      ...s.faultInjection,
      abort: s.faultInjection.abort ? defined(s.faultInjection.abort) : undefined,
      headers: s.faultInjection.headers?.length ? s.faultInjection.headers : undefined,
    });
  if (s.rateLimit) out.rateLimit = defined(s.rateLimit);
  return ok({ apiVersion: TRELLIS_API_VERSION, kind: 'TrafficPolicy', metadata: toNamespacedMeta(metadata), spec: out });
}
