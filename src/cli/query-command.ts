import type { Command } from 'commander';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface QueryOptions extends ClientCommandOptions {
  json?: boolean;
}

export interface QueryCommandSpec<T> {
  name: string;
  description: string;
  /** QUERY kind [P-7.1]. */
  kind: string;
  /** The human-readable rendering; `--json` prints the hub's answer as is. */
  render(result: T): string;
}

/** A read-only command that asks the hub one QUERY and prints a table, or the JSON with --json. */
export function addQueryCommand<T>(program: Command, spec: QueryCommandSpec<T>): void {
  addClientOptions(program
    .command(spec.name)
    .description(spec.description)
    .option('--json', 'print the hub\'s JSON answer'))
    .action(async (opts: QueryOptions) => {
      const result = (await withClient(spec.name, opts, (client) => client.query(spec.kind))) as T;
      process.stdout.write(opts.json ? JSON.stringify(result) + '\n' : spec.render(result));
    });
}
