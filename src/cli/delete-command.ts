import type { Command } from 'commander';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

/** `corral delete`: deletes a topic's messages, subscriptions and retention [P-6.5]. */
export function addDeleteCommand(program: Command): void {
  addClientOptions(program
    .command('delete')
    .description('delete a topic: its stored messages, its subscriptions (attached consumers end) and its retention; sequence numbers continue')
    .argument('<topic>', 'topic name'))
    .action(async (topic: string, opts: ClientCommandOptions) => {
      await withClient('delete', opts, (client) => client.deleteTopic(topic));
      process.stderr.write(`corral delete: topic ${topic} deleted (messages, subscriptions and retention)\n`);
    });
}
