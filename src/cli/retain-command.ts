import { type Command, Option } from 'commander';
import { parseDuration } from './parse-duration.js';
import { wholeNumber } from './whole-number.js';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface RetainOptions extends ClientCommandOptions {
  count: number;
  age: number;
}

/** `corral retain`: sets a topic's retention [P-6.2]. */
export function addRetainCommand(program: Command): void {
  addClientOptions(program
    .command('retain')
    .description('set how many or how recent messages a topic keeps after every subscription acknowledged them; no option switches retention off')
    .argument('<topic>', 'topic name')
    .addOption(new Option('--count <n>', 'keep at least the newest N messages (0 = no count rule)').default(0).argParser(wholeNumber(0)))
    .addOption(new Option('--age <duration>', 'keep messages younger than this, e.g. 10s, 30m, 1h, 7d (0 = no age rule)').default(0).argParser(parseDuration)))
    .action(async (topic: string, opts: RetainOptions) => {
      await withClient('retain', opts, (client) => client.configureTopic(topic, { retainCount: opts.count, retainMs: opts.age }));
    });
}
