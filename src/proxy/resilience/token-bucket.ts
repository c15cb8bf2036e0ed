// A token bucket for local rate limiting: starts full, refills whole fills lazily on take().

import type { RateLimitConfig } from '../config/resilience-config.js';

export class TokenBucket {
  private tokens: number;
  private lastFill: number;

  constructor(
    private readonly config: RateLimitConfig,
    now = performance.now(),
  ) {
    this.tokens = config.maxTokens;
    this.lastFill = now;
  }

  /** Takes one token; false when none is left (the request is over the limit). */
  take(now = performance.now()): boolean {
    const c = this.config;
    const fills = Math.floor((now - this.lastFill) / c.fillIntervalMs);
    if (fills > 0) {
      this.tokens = Math.min(c.maxTokens, this.tokens + fills * c.tokensPerFill);
      this.lastFill += fills * c.fillIntervalMs;
    }
    if (this.tokens <= 0) return false;
    this.tokens--;
    return true;
  }
}
