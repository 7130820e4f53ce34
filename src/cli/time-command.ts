import type { Command } from 'commander';
import { Option } from 'commander';
import { FarmClock } from '../services/clock/farm-clock.js';
import { formatTable } from './format-table.js';
import { wholeNumber } from './whole-number.js';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface TimeOptions extends ClientCommandOptions {
  json?: boolean;
  rounds: number;
}

/** `corral time`: the farm clock [P-12] as this machine estimates it: farm time, offset, error bound. */
export function addTimeCommand(program: Command): void {
  addClientOptions(program
    .command('time')
    .description('show the farm time (the hubs\' shared clock), this machine\'s offset from it and the error bound')
    .addOption(new Option('--rounds <n>', 'round trips to measure').default(8).argParser(wholeNumber(1)))
    .option('--json', 'print {farmTime, iso, offsetMs, errorBoundMs} as JSON'))
    .action(async (opts: TimeOptions) => {
      const t = await withClient('time', opts, async (client) => {
        const clock = await FarmClock.start(client, { rounds: opts.rounds });
        clock.close();
        return clock.read();
      });
      const iso = new Date(t.now).toISOString();
      process.stdout.write(opts.json
        ? JSON.stringify({ farmTime: t.now, iso, offsetMs: t.offset, errorBoundMs: t.errorBound }) + '\n'
        : formatTable(['FARM TIME', 'OFFSET MS', 'ERROR BOUND MS'], [[iso, signed(t.offset), `±${t.errorBound.toFixed(3)}`]]));
    });
}

function signed(ms: number): string {
  return `${ms >= 0 ? '+' : ''}${ms.toFixed(3)}`;
}
