// Applying a route's header changes to a flat `[name, value, ...]` list (HTTP/1.1 heads, and
// response heads) or to a node:http2 headers object: remove, then set (replace), then add.
import type http2 from 'node:http2';
import type { HeaderMods } from '../config/route-filter-config.js';

/** A new flat list with `mods` applied (names compared ignoring case). */
export function modifyFlat(headers: readonly string[], mods: HeaderMods): string[] {
  const drop = new Set(mods.remove);
  for (const [name] of mods.set) drop.add(name);
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (!drop.has(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  for (const [name, value] of mods.set) out.push(name, value);
  for (const [name, value] of mods.add) out.push(name, value);
  return out;
}

/** Applies `mods` to an HTTP/2 headers object in place. */
export function modifyObject(headers: http2.OutgoingHttpHeaders, mods: HeaderMods): void {
  for (const name of mods.remove) delete headers[name];
  for (const [name, value] of mods.set) headers[name] = value;
  for (const [name, value] of mods.add) {
    const old = headers[name];
    headers[name] = old === undefined ? value : Array.isArray(old) ? [...old, value] : [String(old), value];
  }
}
