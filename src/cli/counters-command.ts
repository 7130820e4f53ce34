import type { Command } from 'commander';
import { Counters } from '../services/counters/counters.js';
import { formatTable } from './format-table.js';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface CountersOptions extends ClientCommandOptions {
  json?: boolean;
}

/** `corral counters <partition>`: a partition's counter tree [P-14] as its root hub sees it. */
export function addCountersCommand(program: Command): void {
  addClientOptions(program
    .command('counters')
    .description('show a tree-counters partition: its root hub, its variables\' global values, its members and what each delivered')
    .argument('[partition]', 'the partition of variables', 'default')
    .option('--json', 'print the tree as JSON (values as decimal strings)'))
    .action(async (partition: string, opts: CountersOptions) => {
      const tree = await withClient('counters', opts, (client) => Counters.readTree(client, partition));
      if (opts.json) {
        process.stdout.write(JSON.stringify(tree) + '\n');
        return;
      }
      process.stdout.write(`partition ${tree.partition}: root ${tree.hubId} (epoch ${tree.epoch}), ${tree.members.length} members\n\n`);
      process.stdout.write(formatTable(['VARIABLE', 'GLOBAL', 'ADOPTED BY ROOT'], tree.variables.map((v) => [v.name, v.global, v.root])));
      process.stdout.write('\n');
      process.stdout.write(formatTable(['MEMBER', 'EPOCH', 'CONNECTED', 'SYNCS', 'DELIVERED'], tree.members.map((m) => [
        m.memberId, String(m.epoch), m.connected ? 'yes' : 'no', String(m.seq),
        Object.entries(m.totals).map(([k, v]) => `${k}=${v}`).join(' '),
      ])));
    });
}
