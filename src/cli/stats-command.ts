import type { Command } from 'commander';
import type { StatsResult } from '../protocol/query-results.js';
import { formatTable } from './format-table.js';
import { addQueryCommand } from './query-command.js';

/** `corral stats`: QUERY "stats" [P-7.1]; prints every member the hub sends, nested ones as a.b. */
export function addStatsCommand(program: Command): void {
  addQueryCommand<StatsResult>(program, {
    name: 'stats',
    description: 'show the hub\'s statistics',
    kind: 'stats',
    render: (result) => formatTable(['KEY', 'VALUE'], flatten(result, '')),
  });
}

function flatten(value: unknown, prefix: string): Array<[string, string]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix === '' ? k : `${prefix}.${k}`));
  }
  return [[prefix, typeof value === 'string' ? value : JSON.stringify(value)]];
}
