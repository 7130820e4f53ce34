import type { Command } from 'commander';
import type { HubsResult } from '../protocol/query-results.js';
import { formatTable } from './format-table.js';
import { addQueryCommand } from './query-command.js';

/** `corral hubs`: QUERY "hubs" [P-7.1]: the live hubs of the cluster with their load. */
export function addHubsCommand(program: Command): void {
  addQueryCommand<HubsResult>(program, {
    name: 'hubs',
    description: 'list live hubs: id, address, process id, load and topic count',
    kind: 'hubs',
    render: (result) => formatTable(
      ['HUB', 'ADDRESS', 'PID', 'TOPICS', 'MSG/S', 'CONNECTIONS', 'BUSY %', 'LAG MS'],
      result.hubs.map((h) => [h.hubId, h.address ?? '-', h.pid, h.load.topics, h.load.msgRate, h.load.connections,
        h.load.busy === undefined ? '-' : Math.round(h.load.busy * 100), h.load.lagMs]),
    ),
  });
}
