// Shared readers for the decoders: each reads one field of a decoded Envoy message, records
// a Problem with its path when the field is unusable, and returns the typed value or undefined.
import { isIP } from 'node:net';
import type { JsonValue } from '../../xds/envoy-types.js';
import type { WeightedCluster } from '../config/runtime-config.js';
import { XDS_PROBLEM, show, type Problem, type XdsProblemCode } from './errors.js';
import { structToJson } from '../../xds/node-metadata.js';

export type Obj = Record<string, unknown>;

/** Collects the problems of one resource; paths are relative to the resource. */
export class ProblemSink {
  readonly problems: Problem[] = [];
  constructor(readonly resource: string) {}

  add(path: string, code: XdsProblemCode, message: string): undefined {
    this.problems.push({ code, resource: this.resource, path, message });
    return undefined;
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }
}

/** `a.b` (or `b` at the root). */
export const at = (path: string, field: string): string => (path ? `${path}.${field}` : field);

/** `a[3]`. */
export const idx = (path: string, i: number): string => `${path}[${i}]`;

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `obj[field]`; a problem if absent (when required) or not an object. */
export function readObj(s: ProblemSink, obj: Obj, field: string, path: string, required = true): Obj | undefined {
  const v = obj[field];
  const p = at(path, field);
  if (v === undefined || v === null) return required ? s.add(p, XDS_PROBLEM.REQUIRED, 'required') : undefined;
  if (!isObj(v)) return s.add(p, XDS_PROBLEM.INVALID, `must be an object, got ${show(v)}`);
  return v;
}

/** The array at `obj[field]`, or [] when absent (protobufjs omits empty repeated fields). */
export function readList(s: ProblemSink, obj: Obj, field: string, path: string): unknown[] {
  const v = obj[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    s.add(at(path, field), XDS_PROBLEM.INVALID, `must be a list, got ${show(v)}`);
    return [];
  }
  return v;
}

/** A non-empty string at `obj[field]`. */
export function readName(s: ProblemSink, obj: Obj, field: string, path: string): string | undefined {
  const v = obj[field];
  const p = at(path, field);
  if (v === undefined || v === null || v === '') return s.add(p, XDS_PROBLEM.REQUIRED, 'required');
  if (typeof v !== 'string') return s.add(p, XDS_PROBLEM.INVALID, `must be a string, got ${show(v)}`);
  return v;
}

/** An optional string; undefined when absent. */
export function readOptionalString(s: ProblemSink, obj: Obj, field: string, path: string): string | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') return s.add(at(path, field), XDS_PROBLEM.INVALID, `must be a string, got ${show(v)}`);
  return v;
}

/** `{ address, port }` from an Envoy Address (`socketAddress` with an IP literal and `portValue` 1..65535). */
/** A DNS host name (STRICT_DNS endpoints): letters, digits, `-` and `.`, at most 253 characters. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/;

/** A SocketAddress: an IP literal, or with `hostNames` (STRICT_DNS clusters) also a DNS name the proxy resolves when it connects. */
export function readSocketAddress(s: ProblemSink, obj: Obj, field: string, path: string, hostNames = false): { address: string; port: number; ipv4Compat: boolean } | undefined {
  const addr = readObj(s, obj, field, path);
  if (!addr) return undefined;
  const sockPath = at(at(path, field), 'socketAddress');
  const sock = readObj(s, addr, 'socketAddress', at(path, field));
  if (!sock) return undefined;
  const address = sock.address;
  const portValue = sock.portValue ?? 0; // proto3 omits 0
  let good = true;
  if (typeof address !== 'string' || (isIP(address) === 0 && !(hostNames && HOST_NAME.test(address)))) {
    s.add(at(sockPath, 'address'), XDS_PROBLEM.INVALID, `must be an IP address literal${hostNames ? ' or a DNS host name' : ''}, got ${show(address)}`);
    good = false;
  }
  if (typeof portValue !== 'number' || !Number.isInteger(portValue) || portValue < 1 || portValue > 65535) {
    s.add(at(sockPath, 'portValue'), XDS_PROBLEM.INVALID, `must be a port in 1..65535, got ${show(portValue)}`);
    good = false;
  }
  return good ? { address: address as string, port: portValue as number, ipv4Compat: sock.ipv4Compat === true } : undefined;
}

/** A google.protobuf.Duration in ms; `fallback` when absent (an empty `{}` is 0). */
export function readDurationMs(s: ProblemSink, obj: Obj, field: string, path: string, fallback: number): number | undefined {
  const v = obj[field];
  const p = at(path, field);
  if (v === undefined || v === null) return fallback;
  if (!isObj(v)) return s.add(p, XDS_PROBLEM.INVALID, `must be a duration { seconds, nanos }, got ${show(v)}`);
  const seconds = v.seconds ?? 0;
  const nanos = v.nanos ?? 0;
  if (typeof seconds !== 'number' || typeof nanos !== 'number' || seconds < 0 || nanos < 0 || !Number.isFinite(seconds)) {
    return s.add(p, XDS_PROBLEM.INVALID, `must be a non-negative duration, got ${show(v)}`);
  }
  return Math.round(seconds * 1000 + nanos / 1e6);
}

/** A non-negative integer weight, from a plain number or a UInt32Value `{ value }` (proto3 omits 0). */
export function readWeight(s: ProblemSink, value: unknown, path: string, wrapped: boolean): number | undefined {
  let w: unknown = value ?? 0;
  if (wrapped && value !== undefined) {
    if (!isObj(value)) return s.add(path, XDS_PROBLEM.INVALID, `must be a UInt32Value { value }, got ${show(value)}`);
    w = value.value ?? 0;
  }
  if (typeof w !== 'number' || !Number.isInteger(w) || w < 0) {
    return s.add(path, XDS_PROBLEM.INVALID, `must be a non-negative integer, got ${show(w)}`);
  }
  return w;
}

/** Per million from an Envoy FractionalPercent (denominator HUNDRED when omitted; all when absent). */
export function readPerMillion(s: ProblemSink, raw: unknown, path: string): number | undefined {
  if (raw === undefined) return 1_000_000;
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a FractionalPercent, got ${show(raw)}`);
  const n = raw.numerator ?? 0;
  const scale = { HUNDRED: 10_000, TEN_THOUSAND: 100, MILLION: 1 }[String(raw.denominator ?? 'HUNDRED')];
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return s.add(at(path, 'numerator'), XDS_PROBLEM.INVALID, `must be a non-negative integer, got ${show(n)}`);
  if (scale === undefined) return s.add(at(path, 'denominator'), XDS_PROBLEM.INVALID, `must be HUNDRED, TEN_THOUSAND or MILLION, got ${show(raw.denominator)}`);
  return Math.min(1_000_000, n * scale);
}

/** True if the `@type` of an Any-typed config is `expected`; records a problem otherwise. */
/** The type URL of an Any-typed config, however it was written (`@type` in JSON, `type_url`/`typeUrl` in memory). */
export const typeUrlOf = (config: Obj): unknown => config['@type'] ?? config.type_url ?? config.typeUrl;

export function checkType(s: ProblemSink, config: Obj, path: string, expected: readonly string[]): string | undefined {
  const t = typeUrlOf(config);
  if (typeof t !== 'string' || t === '') return s.add(at(path, '@type'), XDS_PROBLEM.REQUIRED, `required (one of ${expected.join(', ')})`);
  const name = (url: string): string => url.slice(url.lastIndexOf('/') + 1);
  // Envoy keys typed configs by the message name after the last '/', whatever the prefix.
  if (!expected.some((e) => name(e) === name(t))) {
    return s.add(at(path, '@type'), XDS_PROBLEM.UNSUPPORTED, `unsupported type ${show(t)}; expected one of ${expected.join(', ')}`);
  }
  return t;
}

type JsonObject = { [key: string]: JsonValue };
const VALUE_KINDS = ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'];

/** True if `value` looks like a decoded google.protobuf.Struct (`{ fields: { k: { stringValue } } }`) rather than plain JSON. */
export function isStruct(value: unknown): boolean {
  return (
    isObj(value) && isObj(value.fields) && Object.values(value.fields).every((v) => isObj(v) && Object.keys(v).length <= 1 && Object.keys(v).every((k) => VALUE_KINDS.includes(k)))
  );
}

/**
 * `metadata.filterMetadata.trellis` as JSON. Decoded messages carry it as a Struct
 * (`{ fields }`); plain JSON is accepted too, for resources built in memory.
 */
export function readTrellisMetadata(s: ProblemSink, obj: Obj, path: string): JsonObject | undefined {
  const meta = obj.metadata;
  if (!isObj(meta) || !isObj(meta.filterMetadata)) return undefined;
  const trellis = meta.filterMetadata.trellis;
  if (trellis === undefined) return undefined;
  if (!isObj(trellis)) return s.add(at(path, 'metadata.filterMetadata.trellis'), XDS_PROBLEM.INVALID, `must be a Struct, got ${show(trellis)}`);
  return isStruct(trellis) ? structToJson(trellis) : (trellis as JsonObject);
}

/** A string field of Trellis metadata; a problem if present but not a string. */
export function metadataString(s: ProblemSink, meta: JsonObject | undefined, key: string, path: string): string | undefined {
  const v: JsonValue | undefined = meta?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') return s.add(at(path, `metadata.filterMetadata.trellis.${key}`), XDS_PROBLEM.INVALID, `must be a string, got ${show(v)}`);
  return v;
}

/** The label of a resource in problems: `listener "name"`, or its position when it has no name. */
export function resourceLabel(kind: string, raw: unknown, nameField: string, index: number): string {
  const name = isObj(raw) ? raw[nameField] : undefined;
  return typeof name === 'string' && name !== '' ? `${kind} ${JSON.stringify(name)}` : `${kind} #${index}`;
}

/**
 * `weightedClusters.clusters` of a TCP proxy (plain uint32 weights) or a route (UInt32Value
 * weights): names required, weights non-negative integers, not all zero.
 */
export function readWeightedClusters(s: ProblemSink, parent: Obj, path: string, wrapped: boolean): WeightedCluster[] | undefined {
  const wc = parent.weightedClusters;
  if (!isObj(wc)) return s.add(path, XDS_PROBLEM.INVALID, `must be an object, got ${show(wc)}`);
  const list = readList(s, wc, 'clusters', path);
  const cpath = at(path, 'clusters');
  if (list.length === 0) return s.add(cpath, XDS_PROBLEM.REQUIRED, 'required: at least one cluster');
  const out: WeightedCluster[] = [];
  const before = s.problems.length;
  list.forEach((c, i) => {
    if (!isObj(c)) return void s.add(idx(cpath, i), XDS_PROBLEM.INVALID, `must be a ClusterWeight object, got ${show(c)}`);
    const cluster = readName(s, c, 'name', idx(cpath, i));
    const weight = readWeight(s, c.weight, at(idx(cpath, i), 'weight'), wrapped);
    if (cluster !== undefined && weight !== undefined) out.push({ cluster, weight });
  });
  if (s.problems.length !== before) return undefined;
  if (out.every((c) => c.weight === 0)) return s.add(cpath, XDS_PROBLEM.INVALID, 'weights must not all be zero');
  return out;
}
