// Decodes Envoy RBAC filter configs (HTTP and network) into the proxy's AuthzRules: the
// principals (any, and/or/not ids, authenticated with a principal name, metadata of the JWT
// filter's payload) and permissions (any, not,
// and/or rules, header, url path) Trellis uses. Anything else is refused, never ignored: an
// authorization rule the proxy would not enforce as written must not be half-applied.
import type { AuthzPolicy, AuthzRules, PermissionMatch, PrincipalMatch, StringMatch, ValueMatch } from '../config/authz-config.js';
import { FILTER_JWT_AUTHN, JWT_PAYLOAD_METADATA_KEY } from '../../xds/type-urls.js';
import { at, isObj, type Obj, type ProblemSink } from './decode-fields.js';
import { XDS_PROBLEM, show } from './errors.js';

function stringMatch(s: ProblemSink, raw: unknown, path: string): StringMatch | undefined {
  if (isObj(raw) && typeof raw.exact === 'string' && raw.prefix === undefined) return { exact: raw.exact };
  if (isObj(raw) && typeof raw.prefix === 'string' && raw.exact === undefined) return { prefix: raw.prefix };
  if (isObj(raw) && typeof raw.suffix === 'string' && raw.exact === undefined && raw.prefix === undefined) return { suffix: raw.suffix };
  return s.add(path, XDS_PROBLEM.UNSUPPORTED, `only exact, prefix or suffix string matches are supported, got ${show(raw)}`);
}

/** A metadata matcher on the JWT filter's payload (the only dynamic metadata the proxy has). */
function jwtMetadata(s: ProblemSink, m: unknown, path: string): PrincipalMatch | undefined {
  if (!isObj(m) || m.filter !== FILTER_JWT_AUTHN)
    return s.add(path, XDS_PROBLEM.UNSUPPORTED, `only metadata of filter ${FILTER_JWT_AUTHN} (the JWT payload) is supported, got ${show(isObj(m) ? m.filter : m)}`);
  if (m.invert === true) return s.add(at(path, 'invert'), XDS_PROBLEM.UNSUPPORTED, 'invert is not supported by Trellis proxy; use notId');
  const keys = Array.isArray(m.path) ? m.path.map((x) => (isObj(x) && typeof x.key === 'string' ? x.key : undefined)) : [];
  if (keys.length < 2 || keys[0] !== JWT_PAYLOAD_METADATA_KEY || !keys.every((k) => k !== undefined))
    return s.add(at(path, 'path'), XDS_PROBLEM.UNSUPPORTED, `must be [${show(JWT_PAYLOAD_METADATA_KEY)}, claim, ...] keys, got ${show(m.path)}`);
  const v = m.value;
  let value: ValueMatch | undefined;
  if (isObj(v) && v.presentMatch === true) value = { present: true };
  else if (isObj(v) && v.stringMatch !== undefined) {
    const sm = stringMatch(s, v.stringMatch, at(path, 'value.stringMatch'));
    value = sm && { string: sm };
  } else if (isObj(v) && isObj(v.listMatch) && isObj(v.listMatch.oneOf) && v.listMatch.oneOf.stringMatch !== undefined) {
    const sm = stringMatch(s, v.listMatch.oneOf.stringMatch, at(path, 'value.listMatch.oneOf.stringMatch'));
    value = sm && { listOneOf: sm };
  } else return s.add(at(path, 'value'), XDS_PROBLEM.UNSUPPORTED, `only presentMatch, stringMatch and listMatch.oneOf.stringMatch are supported, got ${show(v)}`);
  return value && { jwt: { path: keys.slice(1), value } };
}

const list = (raw: unknown, field: string): unknown[] | undefined => (isObj(raw) && Array.isArray(raw[field]) ? (raw[field] as unknown[]) : undefined);

function principal(s: ProblemSink, raw: unknown, path: string): PrincipalMatch | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a Principal, got ${show(raw)}`);
  if (raw.any === true) return { any: true };
  for (const [field, key] of [
    ['andIds', 'and'],
    ['orIds', 'or'],
  ] as const) {
    if (raw[field] === undefined) continue;
    const ids = list(raw[field], 'ids') ?? [];
    const out = ids.map((x, i) => principal(s, x, `${path}.${field}.ids[${i}]`));
    if (!out.every((x) => x !== undefined)) return undefined;
    return key === 'and' ? { and: out } : { or: out };
  }
  if (raw.notId !== undefined) {
    const inner = principal(s, raw.notId, `${path}.notId`);
    return inner ? { not: inner } : undefined;
  }
  if (raw.metadata !== undefined) return jwtMetadata(s, raw.metadata, `${path}.metadata`);
  if (raw.authenticated !== undefined) {
    const a = raw.authenticated;
    if (!isObj(a) || a.principalName === undefined) return { authenticated: undefined };
    const m = stringMatch(s, a.principalName, `${path}.authenticated.principalName`);
    return m ? { authenticated: m } : undefined;
  }
  return s.add(path, XDS_PROBLEM.UNSUPPORTED, `only any, andIds, orIds, notId, metadata and authenticated principals are supported, got ${show(Object.keys(raw))}`);
}

function permission(s: ProblemSink, raw: unknown, path: string): PermissionMatch | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a Permission, got ${show(raw)}`);
  if (raw.any === true) return { any: true };
  if (raw.notRule !== undefined) {
    const inner = permission(s, raw.notRule, `${path}.notRule`);
    return inner ? { not: inner } : undefined;
  }
  for (const [field, key] of [
    ['andRules', 'and'],
    ['orRules', 'or'],
  ] as const) {
    if (raw[field] === undefined) continue;
    const rules = list(raw[field], 'rules') ?? [];
    const out = rules.map((x, i) => permission(s, x, `${path}.${field}.rules[${i}]`));
    if (!out.every((x) => x !== undefined)) return undefined;
    return key === 'and' ? { and: out } : { or: out };
  }
  if (isObj(raw.header)) {
    const h = raw.header;
    if (typeof h.name !== 'string' || h.name === '') return s.add(`${path}.header.name`, XDS_PROBLEM.REQUIRED, 'required');
    if (h.presentMatch === true) return { header: { name: h.name.toLowerCase(), match: { present: true } } };
    const m = stringMatch(s, h.stringMatch, `${path}.header.stringMatch`);
    return m ? { header: { name: h.name.toLowerCase(), match: m } } : undefined;
  }
  if (isObj(raw.urlPath)) {
    const m = stringMatch(s, raw.urlPath.path, `${path}.urlPath.path`);
    return m ? { path: m } : undefined;
  }
  return s.add(path, XDS_PROBLEM.UNSUPPORTED, `only any, notRule, andRules, orRules, header and urlPath permissions are supported, got ${show(Object.keys(raw))}`);
}

/** The rules of one RBAC filter's typed config; undefined (with problems) when not usable. */
export function decodeRbac(s: ProblemSink, config: Obj, path: string): AuthzRules | undefined {
  if (config.shadowRules !== undefined || config.matcher !== undefined)
    s.add(path, XDS_PROBLEM.UNSUPPORTED, 'shadowRules and matcher are not supported by Trellis proxy; use rules');
  const rules = config.rules;
  if (!isObj(rules)) return s.add(at(path, 'rules'), XDS_PROBLEM.REQUIRED, 'required');
  const action = rules.action ?? 'ALLOW';
  if (action !== 'ALLOW' && action !== 'DENY') return s.add(at(path, 'rules.action'), XDS_PROBLEM.UNSUPPORTED, `must be ALLOW or DENY, got ${show(action)}`);
  const raw = isObj(rules.policies) ? rules.policies : {};
  const policies: AuthzPolicy[] = [];
  for (const name of Object.keys(raw).sort()) {
    const p = raw[name];
    const ppath = `${path}.rules.policies[${JSON.stringify(name)}]`;
    const principals = (list(p, 'principals') ?? []).map((x, i) => principal(s, x, `${ppath}.principals[${i}]`));
    const permissions = (list(p, 'permissions') ?? []).map((x, i) => permission(s, x, `${ppath}.permissions[${i}]`));
    if (principals.length === 0 || permissions.length === 0) s.add(ppath, XDS_PROBLEM.INVALID, 'a policy needs at least one principal and one permission');
    if (principals.every((x) => x !== undefined) && permissions.every((x) => x !== undefined)) policies.push({ name, principals: principals, permissions: permissions });
  }
  return { action: action === 'DENY' ? 'deny' : 'allow', policies };
}
