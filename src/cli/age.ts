// Ages of resources in tables, as kubectl writes them.

/** kubectl's short ages: `45s`, `3m12s`, `25m`, `5h10m`, `20h`, `3d4h`, `40d`, `2y3d`. */
export function formatAge(since: string | undefined, now: Date): string {
  const t = since ? Date.parse(since) : NaN;
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - t) / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  const y = Math.floor(d / 365);
  const two = (a: number, ua: string, b: number, ub: string) => (b === 0 ? `${a}${ua}` : `${a}${ua}${b}${ub}`);
  if (s < 120) return `${s}s`;
  if (m < 10) return two(m, 'm', s % 60, 's');
  if (m < 180) return `${m}m`;
  if (h < 8) return two(h, 'h', m % 60, 'm');
  if (h < 48) return `${h}h`;
  if (d < 8) return two(d, 'd', h % 24, 'h');
  if (d < 730) return `${d}d`;
  if (y < 8) return two(y, 'y', d % 365, 'd');
  return `${y}y`;
}
