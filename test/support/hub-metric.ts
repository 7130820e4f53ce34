import type { HubProcess } from './hub-process.js';

/** The value of one series of a hub's /metrics (0 when absent): the first line of `name` that contains `label`. */
export async function hubMetric(hub: Pick<HubProcess, 'httpUrl'>, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${hub.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) && l.includes(label));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}
