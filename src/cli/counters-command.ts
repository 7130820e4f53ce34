import type { Command } from 'commander';
import { Counters } from '../services/counters/counters.js';
import type { TreeView } from '../services/counters/counters-frames.js';
import { formatTable } from './format-table.js';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface CountersOptions extends ClientCommandOptions {
  json?: boolean;
  branch?: string;
}

function indent(text: string, depth: number): string {
  const pad = '  '.repeat(depth);
  return text.split('\n').map((l) => (l === '' ? l : pad + l)).join('\n');
}

/** One node of the tree, then its branches indented under it. */
function printNode(tree: TreeView, depth: number): void {
  const head = tree.branch === undefined
    ? `partition ${tree.partition}: root ${tree.hubId} (epoch ${tree.epoch}), ${tree.members.length} members`
    : `branch ${tree.branch}: hub ${tree.hubId} (epoch ${tree.epoch}), ${tree.members.length} members; `
      + `up to ${tree.up?.parent ?? '?'} as ${tree.up?.memberId ?? '?'} (link epoch ${tree.up?.epoch ?? 0}, seq ${tree.up?.seq ?? 0})`
      + (tree.up?.error === undefined ? '' : `; NOT LINKED: ${tree.up.error.code}: ${tree.up.error.message}`);
  const adopted = tree.branch === undefined ? 'ADOPTED BY ROOT' : 'ADOPTED BY BRANCH';
  process.stdout.write(indent([
    `${head}\n`,
    formatTable(['VARIABLE', 'GLOBAL', adopted], tree.variables.map((v) => [v.name, v.global, v.root])),
    formatTable(['MEMBER', 'EPOCH', 'CONNECTED', 'SYNCS', 'DELIVERED'], tree.members.map((m) => [
      m.memberId, String(m.epoch), m.connected ? 'yes' : 'no', String(m.seq),
      Object.entries(m.totals).map(([k, v]) => `${k}=${v}`).join(' '),
    ])),
  ].join('\n'), depth));
  for (const b of tree.branches ?? []) {
    process.stdout.write('\n');
    printNode(b, depth + 1);
  }
}

/** `corral counters <partition>`: a partition's counter tree [P-14], from its root hub down through its branches. */
export function addCountersCommand(program: Command): void {
  addClientOptions(program
    .command('counters')
    .description('show a tree-counters partition: its root hub, its variables\' global values, its members and what each delivered, and each branch below')
    .argument('[partition]', 'the partition of variables', 'default')
    .option('--json', 'print the tree as JSON (values as decimal strings)')
    .option('--branch <path>', 'start at this branch of the partition (eu/rack-1) rather than at its root: a branch that cannot link up shows why'))
    .action(async (partition: string, opts: CountersOptions) => {
      const tree = await withClient('counters', opts, (client) => Counters.readWholeTree(client, partition, opts.branch));
      if (opts.json) {
        process.stdout.write(JSON.stringify(tree) + '\n');
        return;
      }
      printNode(tree, 0);
    });
}
