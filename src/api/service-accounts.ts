// The `trellis.io/service-accounts` annotation of a Service: further identities (besides its own
// name and its selector's `app`) whose workloads it admits as endpoints, comma-separated.
import { checkDns1123Label } from './names.js';
import { describeValue } from './problem.js';

/** A Service annotation listing more identities (service accounts) it admits as endpoints. */
export const SERVICE_ACCOUNTS_ANNOTATION = 'trellis.io/service-accounts';

/** The identities an annotation value lists (`reviews-v2, ratings` → reviews-v2, ratings). */
export function splitServiceAccounts(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The identities the annotation lists on these annotations (none when absent). */
export function serviceAccountsOf(annotations: Readonly<Record<string, string>> | undefined): string[] {
  const value = annotations?.[SERVICE_ACCOUNTS_ANNOTATION];
  return value === undefined ? [] : splitServiceAccounts(value);
}

/** Why an annotation value is not a comma-separated list of service names, or undefined. */
export function checkServiceAccounts(value: string): string | undefined {
  const names = splitServiceAccounts(value);
  if (names.length === 0) return `must list at least one service name (comma-separated, e.g. "reviews-v2,ratings"), got ${describeValue(value)}`;
  for (const name of names) {
    const problem = checkDns1123Label(name);
    if (problem !== undefined) return `each comma-separated entry must be a service name: ${problem}`;
  }
  return undefined;
}
