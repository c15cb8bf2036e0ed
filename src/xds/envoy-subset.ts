// The part of the Envoy API a proxy decodes and encodes: the messages it exchanges over ADS and
// every type reachable from them, cut out of the full Root (protos.ts) as protobufjs JSON.
// scripts/generate-xds-subset.mjs writes it to generated/proxy-envoy-types.json; a test fails
// when that file no longer matches what this produces.
import protobuf from 'protobufjs';
import {
  CLUSTER,
  CLUSTER_LOAD_ASSIGNMENT,
  DISCOVERY_REQUEST,
  DISCOVERY_RESPONSE,
  DOWNSTREAM_TLS_CONTEXT,
  HTTP_CONNECTION_MANAGER,
  HTTP_FAULT,
  HTTP_INSPECTOR,
  HTTP_PROTOCOL_OPTIONS,
  HTTP_RBAC,
  JWT_AUTHN,
  LISTENER,
  LOCAL_RATE_LIMIT,
  NETWORK_RBAC,
  OPENTELEMETRY_TRACER,
  ORIGINAL_DST_FILTER,
  ROUTE_CONFIGURATION,
  ROUTER,
  SECRET,
  STDOUT_ACCESS_LOG,
  TCP_PROXY,
  TLS_INSPECTOR,
  TYPED_STRUCT,
  UPSTREAM_TLS_CONTEXT,
} from './type-urls.js';

/**
 * The messages a proxy exchanges: the ADS envelopes, the resources, and every typed_config
 * (an Any) the control plane puts in them. A type missing here would decode as an opaque Any.
 */
export const PROXY_MESSAGES = [
  DISCOVERY_REQUEST,
  DISCOVERY_RESPONSE,
  LISTENER,
  ROUTE_CONFIGURATION,
  CLUSTER,
  CLUSTER_LOAD_ASSIGNMENT,
  SECRET,
  HTTP_CONNECTION_MANAGER,
  TCP_PROXY,
  ROUTER,
  HTTP_RBAC,
  NETWORK_RBAC,
  JWT_AUTHN,
  HTTP_FAULT,
  LOCAL_RATE_LIMIT,
  DOWNSTREAM_TLS_CONTEXT,
  UPSTREAM_TLS_CONTEXT,
  ORIGINAL_DST_FILTER,
  TLS_INSPECTOR,
  HTTP_INSPECTOR,
  OPENTELEMETRY_TRACER,
  TYPED_STRUCT,
  STDOUT_ACCESS_LOG,
  HTTP_PROTOCOL_OPTIONS,
] as const;

type Json = Record<string, unknown>;

/** Options that change encoding or decoding (`packed`, ...), without the annotations (`(validate.rules)...`) only protoc plugins read. */
function wireOptions(options: Json | undefined): Json | undefined {
  if (!options) return undefined;
  const kept = Object.entries(options).filter(([k]) => !k.startsWith('('));
  return kept.length ? Object.fromEntries(kept) : undefined;
}

function withoutAnnotations(json: object): Json {
  const out: Json = { ...json };
  const options = wireOptions(out.options as Json | undefined);
  if (options) out.options = options;
  else delete out.options;
  return out;
}

/** One type's JSON without its nested types (placed by name instead), field types fully qualified. */
function typeJson(type: protobuf.Type): Json {
  const json = withoutAnnotations(type.toJSON());
  delete json.nested;
  const fields: Json = {};
  for (const field of type.fieldsArray) {
    if (field.declaringField) continue; // a map's or group's synthetic field
    const f = withoutAnnotations(field.toJSON());
    if (field.resolvedType) f.type = field.resolvedType.fullName;
    fields[field.name] = f;
  }
  json.fields = fields;
  if (json.oneofs) json.oneofs = Object.fromEntries(Object.entries(json.oneofs as Record<string, Json>).map(([name, o]) => [name, withoutAnnotations(o)]));
  return json;
}

function enumJson(e: protobuf.Enum): Json {
  const json = withoutAnnotations(e.toJSON());
  delete json.valuesOptions; // annotations on values only
  return json;
}

/** The types reachable from `roots` through fields, as a protobufjs JSON descriptor. */
export function envoySubset(root: protobuf.Root, roots: readonly string[] = PROXY_MESSAGES): Json {
  const reached = new Map<string, protobuf.Type | protobuf.Enum>();
  const queue: (protobuf.Type | protobuf.Enum)[] = roots.map((name) => root.lookupType(name));
  while (queue.length) {
    const t = queue.pop()!;
    if (reached.has(t.fullName)) continue;
    reached.set(t.fullName, t);
    if (t instanceof protobuf.Type) for (const field of t.fieldsArray) if (field.resolve().resolvedType) queue.push(field.resolvedType!);
  }
  const tree: Json = {};
  // Sorted, so the generated file changes only when the set of types or a type does.
  for (const fullName of [...reached.keys()].sort()) {
    const t = reached.get(fullName)!;
    let ns = tree;
    for (const part of fullName.slice(1).split('.').slice(0, -1)) {
      const nested = ((ns.nested as Json | undefined) ??= {});
      ns = (nested[part] as Json | undefined) ??= {};
    }
    const nested = ((ns.nested as Json | undefined) ??= {});
    const own = t instanceof protobuf.Type ? typeJson(t) : enumJson(t);
    // A type both reached and a namespace of reached ones keeps both.
    nested[t.name] = { ...own, ...(nested[t.name] as Json | undefined) };
  }
  return tree;
}
