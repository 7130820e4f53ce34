import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { markdownTable } from './markdown-table.js';

/** The subset of V8's .cpuprofile format (node --cpu-prof) read here. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  fn: string;
  where: string;
  ms: number;
  share: number;
}

/** Shortens a script URL to the part a reader recognises: dist/…, node_modules/<pkg>/…, node:… */
function shortLocation(url: string, line: number): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const i = path.lastIndexOf('node_modules/');
  const short = i >= 0 ? path.slice(i + 'node_modules/'.length) : path.replace(/^.*?\/dist\//, 'dist/');
  return `${short}:${line + 1}`;
}

/**
 * Self time per function (summed over every place V8 saw it), from the
 * sample time deltas rather than hit counts, so sampling gaps weigh right.
 */
export function topSelfTime(profile: CpuProfile, limit: number): SelfTime[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const totals = new Map<string, SelfTime>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = byNode.get(id);
    if (!frame) return;
    all += delta;
    const fn = frame.functionName || '(anonymous)';
    const where = shortLocation(frame.url, frame.lineNumber);
    const key = `${fn}@${where}`;
    const t = totals.get(key) ?? { fn, where, ms: 0, share: 0 };
    t.ms += delta;
    totals.set(key, t);
  });
  return [...totals.values()]
    .map((t) => ({ ...t, share: all > 0 ? t.ms / all : 0 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, limit);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/top-self-time.js <file.cpuprofile> [how many, default 25]');
    process.exit(2);
  }
  const rows = topSelfTime(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(n ?? 25));
  console.log(markdownTable(['self ms', 'share', 'function', 'where'],
    rows.map((r) => [r.ms.toFixed(0), `${(r.share * 100).toFixed(1)}%`, r.fn, r.where])));
}
