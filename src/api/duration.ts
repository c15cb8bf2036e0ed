// Durations as the Gateway API writes them (GEP-2257): `500ms`, `10s`, `1m30s`, `1h`, as strings.
import { z } from 'zod';
import { describeValue } from './problem.js';
import { checked } from './schema-kit.js';

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const FORMAT = /^(?:[0-9]{1,5}(?:h|m|s|ms)){1,4}$/;

/** Milliseconds of a Gateway API duration, or the reason it is not one. */
export function parseDuration(text: string): number | string {
  if (!FORMAT.test(text)) return `must be a duration such as "500ms", "10s" or "1m30s" (1 to 4 groups of up to 5 digits and h, m, s or ms), got ${describeValue(text)}`;
  let ms = 0;
  for (const m of text.matchAll(/([0-9]+)(ms|h|m|s)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms;
}

/** The Gateway API form of `ms` (`1500` → `1s500ms`); `0s` for zero. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['h', 'm', 's', 'ms']) {
    const n = Math.floor(rest / UNIT_MS[unit]!);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * UNIT_MS[unit]!;
  }
  return out;
}

/**
 * A duration field: a string parsed to milliseconds, within `minMs..maxMs`. Parsed values are
 * kept as strings in the canonical resource (what the user wrote), so read them with durationMs.
 */
export function durationField(minMs: number, maxMs: number) {
  return checked(z.string(), (v) => {
    const ms = parseDuration(v);
    if (typeof ms === 'string') return ms;
    if (ms < minMs) return `must be at least ${formatDuration(minMs)}, got ${describeValue(v)}`;
    if (ms > maxMs) return `must be at most ${formatDuration(maxMs)}, got ${describeValue(v)}`;
    return undefined;
  });
}

/** Milliseconds of a duration already accepted by durationField. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (typeof ms === 'string') throw new Error(`durationMs: ${ms}`);
  return ms;
}
