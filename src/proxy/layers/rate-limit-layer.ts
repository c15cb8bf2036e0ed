// Layer: local rate limit (a token bucket per route config; a config shared by a virtual host
// is one bucket for the whole destination). Over the limit: 429 (RATE_LIMITED). Buckets start
// full when a new route config arrives. Routes without a rate limit pass straight through.
import { rateLimited } from '../errors.js';
import type { RateLimitConfig } from '../config/resilience-config.js';
import type { HttpLayer } from '../http/layer.js';
import type { RoutedRequest } from '../http/request-context.js';
import { TokenBucket } from '../resilience/token-bucket.js';

const buckets = new WeakMap<RateLimitConfig, TokenBucket>();

export const rateLimitLayer: HttpLayer<RoutedRequest> = {
  name: 'rate-limit',
  request(ctx, next) {
    const config = ctx.route.rule.rateLimit;
    if (config === undefined) {
      next(ctx);
      return;
    }
    let bucket = buckets.get(config);
    if (bucket === undefined) buckets.set(config, (bucket = new TokenBucket(config)));
    if (!bucket.take()) {
      ctx.fail(rateLimited(ctx.route.name, config.tokensPerFill, config.fillIntervalMs));
      return;
    }
    next(ctx);
  },
};
