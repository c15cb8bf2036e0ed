// Reading Prometheus text in tests: the sum of the samples of one metric whose labels include
// a given subset (so a test names the labels it is about and no others).

/** Parses `name{a="x",b="y"} value` lines; label values unescaped. */
export function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let labelText = '';
    let valueText: string;
    if (rest.startsWith('{')) {
      const end = rest.lastIndexOf('}');
      labelText = rest.slice(1, end);
      valueText = rest.slice(end + 1).trim();
    } else if (rest.startsWith(' ')) valueText = rest.trim();
    else continue;
    const labels: Record<string, string> = {};
    for (const m of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    out.push({ labels, value: Number(valueText.split(' ')[0]) });
  }
  return out;
}

/** The sum of `name`'s samples whose labels include `subset`; undefined when none matches. */
export function seriesSum(text: string, name: string, subset: Record<string, string>): number | undefined {
  let sum: number | undefined;
  for (const s of samples(text, name)) {
    if (Object.entries(subset).every(([k, v]) => s.labels[k] === v)) sum = (sum ?? 0) + s.value;
  }
  return sum;
}
