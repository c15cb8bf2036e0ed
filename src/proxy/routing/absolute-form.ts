// Requests to an HTTP proxy listener (`HTTP_PROXY`) carry absolute-form targets
// (`http://host:port/path?q`, RFC 9112 3.2.2); the upstream wants origin-form and the URI's
// authority as Host.

export interface OriginForm {
  readonly authority: string;
  readonly path: string;
}

/**
 * Splits an absolute-form `http://` target; undefined when `target` is not one (origin-form
 * targets are left to the caller). The scheme is matched case-insensitively; the authority
 * is lower-cased and loses any userinfo.
 */
export function parseAbsoluteForm(target: string): OriginForm | undefined {
  if (target.length < 8 || target.charCodeAt(0) === 47 /* '/' */) return undefined;
  if (target.slice(0, 7).toLowerCase() !== 'http://') return undefined;
  const slash = target.indexOf('/', 7);
  const question = target.indexOf('?', 7);
  const end = slash < 0 ? (question < 0 ? target.length : question) : question < 0 ? slash : Math.min(slash, question);
  let authority = target.slice(7, end).toLowerCase();
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (authority === '') return undefined;
  let path = target.slice(end);
  if (path === '') path = '/';
  else if (path.charCodeAt(0) === 63 /* '?' */) path = '/' + path;
  return { authority, path };
}
