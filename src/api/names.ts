// Syntax of names (DNS-1123, label keys and values, hostnames, HTTP tokens) and the reasons a name is refused.
import { FORBIDDEN_IN_FIELD_VALUE } from '../common/http-field.js';
import { describeValue } from './problem.js';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A DNS-1123 label: lowercase letters, digits and `-`, alphanumeric at both ends, at most 63 characters. */
export const isDns1123Label = (s: string): boolean => s.length <= 63 && LABEL.test(s);

/** A DNS-1123 subdomain: dot-separated DNS-1123 labels, at most 253 characters. */
export const isDns1123Subdomain = (s: string): boolean => s.length <= 253 && s.split('.').every(isDns1123Label);

/** An HTTP token (RFC 9110), the syntax of header names. */
export const isHttpToken = (s: string): boolean => TOKEN.test(s);

/** Why `s` is not a DNS-1123 label, or `undefined` when it is one. */
export function checkDns1123Label(s: string): string | undefined {
  if (isDns1123Label(s)) return undefined;
  return `must be a DNS-1123 label (lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters), got ${describeValue(s)}`;
}

/** Why `s` is not a DNS-1123 subdomain, or `undefined` when it is one. */
export function checkDns1123Subdomain(s: string): string | undefined {
  if (isDns1123Subdomain(s)) return undefined;
  return `must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".", each part starting and ending with a letter or digit, at most 253 characters), got ${describeValue(s)}`;
}

/** Why `s` is not a label key (`[prefix/]name` as in Kubernetes), or `undefined`. */
export function checkLabelKey(s: string): string | undefined {
  const slash = s.indexOf('/');
  const prefix = slash >= 0 ? s.slice(0, slash) : undefined;
  const name = slash >= 0 ? s.slice(slash + 1) : s;
  const nameOk = name.length <= 63 && LABEL_NAME.test(name);
  const prefixOk = prefix === undefined || isDns1123Subdomain(prefix);
  if (nameOk && prefixOk) return undefined;
  return `key must be an optional DNS subdomain prefix and "/", then at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit, got ${describeValue(s)}`;
}

/** Why `s` is not a label value (empty, or up to 63 of letters, digits, `-_.`, alphanumeric at both ends), or `undefined`. */
export function checkLabelValue(s: string): string | undefined {
  if (s === '' || (s.length <= 63 && LABEL_NAME.test(s))) return undefined;
  return `must be empty or at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit, got ${describeValue(s)}`;
}

/** Why `s` is not a Gateway API hostname (a DNS subdomain, optionally with a leading `*.`), or `undefined`. */
export function checkHostname(s: string): string | undefined {
  const rest = s.startsWith('*.') ? s.slice(2) : s;
  if (/^[0-9.]+$/.test(rest) || s.includes(':')) return `must be a host name, not an IP address, got ${describeValue(s)}`;
  if (isDns1123Subdomain(rest)) return undefined;
  return `must be a lowercase DNS name, optionally starting with "*." (e.g. "payments.example.com" or "*.example.com"), got ${describeValue(s)}`;
}

/** Why `s` cannot be an HTTP header value, or `undefined`. */
export function checkHeaderValue(s: string): string | undefined {
  if (!FORBIDDEN_IN_FIELD_VALUE.test(s)) return undefined;
  return `must not hold control characters other than tab (a CR or LF would end the header line), got ${describeValue(s)}`;
}

/** Why `s` is not an HTTP header name, or `undefined`. */
export function checkHeaderName(s: string): string | undefined {
  if (s.length > 0 && s.length <= 256 && isHttpToken(s)) return undefined;
  return `must be an HTTP header name (letters, digits and !#$%&'*+-.^_\`|~, at most 256 characters), got ${describeValue(s)}`;
}
