import type { Command } from 'commander';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

/** `corral unsub`: deletes a durable subscription [P-5.7]. */
export function addUnsubCommand(program: Command): void {
  addClientOptions(program
    .command('unsub')
    .description('delete a durable subscription; its backlog no longer holds messages back from garbage collection')
    .argument('<topic>', 'topic name')
    .argument('<subscription>', 'subscription name'))
    .action(async (topic: string, subscription: string, opts: ClientCommandOptions) => {
      await withClient('unsub', opts, (client) => client.unsubscribe(topic, subscription));
    });
}
