// The HTTP filter contract and its registry (grpc-js-xds style): each HTTP filter kind the
// proxy knows registers the type URL of its HttpFilter config, how to decode that config
// into the listener's settings, and, when it takes one, its per-route override
// (typedPerFilterConfig of routes and virtual hosts, keyed by the filter's name). The HTTP
// connection manager's decoder and the route decoder look filters up here; one file per kind.
import type { AuthzRules } from '../../config/authz-config.js';
import type { JwtConfig } from '../../config/jwt-config.js';
import type { FaultConfig, RateLimitConfig } from '../../config/resilience-config.js';
import { XDS_PROBLEM } from '../errors.js';
import { at, type Obj, type ProblemSink } from '../decode-fields.js';

/** What an HTTP connection manager's filters give its listener; each field is written by one kind. */
export interface HcmFilterSettings {
  /** RBAC rules, in filter order. */
  readonly authz: AuthzRules[];
  /** Request authentication (the JWT filter), when there is one. */
  jwt?: JwtConfig;
}

/** What a route's (or virtual host's) typedPerFilterConfig gives it; each field is written by one kind. */
export interface FilterSettings {
  fault?: FaultConfig;
  rateLimit?: RateLimitConfig;
}

/** A per-route override a filter kind takes. */
export interface PerRouteConfig {
  /** Type URL of the override's config. */
  readonly typeUrl: string;
  /** Decodes `config` (its type already checked) into `into`, reporting problems at `path`. */
  decode(s: ProblemSink, config: Obj, path: string, into: FilterSettings): void;
}

export interface HttpFilterKind {
  /** The filter's well-known name: the key of its per-route overrides. */
  readonly name: string;
  /** Type URL of its HttpFilter typedConfig. */
  readonly typeUrl: string;
  /** The filter that must end the chain (the router). */
  readonly terminal?: true;
  /** Decodes its HttpFilter typedConfig (type already checked) into `into`, reporting problems at `path`. */
  decodeConfig(s: ProblemSink, config: Obj, path: string, into: HcmFilterSettings): void;
  /** Absent: the filter takes no per-route override. */
  readonly perRoute?: PerRouteConfig;
}

/** Envoy keys typed configs by the message name after the last '/', whatever the prefix. */
const messageName = (url: string): string => url.slice(url.lastIndexOf('/') + 1);

const byMessage = new Map<string, HttpFilterKind>();
const byName = new Map<string, HttpFilterKind>();

/** Makes `kind` known to the decoders (a later registration of the same type or name replaces an earlier one). */
export function registerHttpFilter(kind: HttpFilterKind): void {
  byMessage.set(messageName(kind.typeUrl), kind);
  byName.set(kind.name, kind);
}

/** The kind whose HttpFilter config has type URL `typeUrl`, if one is registered. */
export function httpFilterByType(typeUrl: unknown): HttpFilterKind | undefined {
  return typeof typeUrl === 'string' ? byMessage.get(messageName(typeUrl)) : undefined;
}

/** The kind named `name` that takes per-route overrides, if one is registered. */
export function perRouteFilter(name: string): (HttpFilterKind & { readonly perRoute: PerRouteConfig }) | undefined {
  const kind = byName.get(name);
  return kind?.perRoute === undefined ? undefined : (kind as HttpFilterKind & { readonly perRoute: PerRouteConfig });
}

/** Type URLs of every registered kind, in registration order (named in problems). */
export function httpFilterTypeUrls(): string[] {
  return [...byMessage.values()].map((k) => k.typeUrl);
}

/** Names of the kinds that take per-route overrides, in registration order (named in problems). */
export function perRouteFilterNames(): string[] {
  return [...byName.values()].filter((k) => k.perRoute !== undefined).map((k) => k.name);
}

/** For filters that act only through per-route overrides: listener-level settings would be ignored, so they are refused. */
export function refuseListenerSettings(s: ProblemSink, config: Obj, path: string): void {
  const extra = Object.keys(config).filter((k) => k !== '@type' && k !== 'statPrefix');
  if (extra.length > 0)
    s.add(at(path, extra[0]!), XDS_PROBLEM.UNSUPPORTED, 'Trellis proxy takes fault and local rate limit settings only from typedPerFilterConfig of routes and virtual hosts');
}
