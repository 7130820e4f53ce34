import { type Command, InvalidArgumentError } from 'commander';
import { FarmClock } from '../services/clock/farm-clock.js';
import { DataSetEditor, type ScheduleResult } from '../services/sync/data-set-editor.js';
import { parseDuration } from './parse-duration.js';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface ScheduleOptions extends ClientCommandOptions {
  at?: number;
  in?: number;
  interval?: number;
  json?: boolean;
}

function instant(text: string): number {
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`expected a date and time such as 2030-01-31T12:00:00Z, not ${JSON.stringify(text)}`);
  return t;
}

function printSchedule(r: ScheduleResult, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const next = r.activationAt === null ? 'no activation scheduled' : `${r.staged} activates at ${r.activationAt}${r.intervalMs > 0 ? `, then every ${r.intervalMs} ms` : ''}`;
  process.stdout.write(`data set ${r.dataSet}: active ${r.active || '(none)'}; ${next}\n`);
  if (r.warning) process.stderr.write(`corral: warning: ${r.warning}\n`);
}

/** `corral data schedule|rollback` [P-13.5]. */
export function addDataScheduleCommands(data: Command): void {
  addClientOptions(data
    .command('schedule')
    .description('stage production and set the instant every server activates it (farm time), and the cycle interval')
    .argument('<set>', 'data set name')
    .option('--at <time>', 'activation instant, ISO 8601 (farm time)', instant)
    .option('--in <duration>', 'activation this long from now by the farm clock (10s, 5m, 1h30m)', parseDuration)
    .option('--interval <duration>', 'repeat every interval, staging production at each activation (0 = once)', parseDuration)
    .option('--json', 'print the table as JSON'))
    .action(async (set: string, opts: ScheduleOptions) => {
      if (opts.at !== undefined && opts.in !== undefined) throw new InvalidArgumentError('give --at or --in, not both');
      const r = await withClient('data schedule', opts, async (c) => {
        let at = opts.at;
        if (opts.in !== undefined) {
          const clock = await FarmClock.start(c, { rounds: 4 });
          clock.close();
          at = clock.now() + opts.in;
        }
        return new DataSetEditor(c, set).schedule({ at, intervalMs: opts.interval });
      });
      printSchedule(r, opts.json);
    });
  addClientOptions(data
    .command('rollback')
    .description('withdraw the staged version before it activates; production returns to the active version')
    .argument('<set>', 'data set name')
    .option('--version <id>', 'refuse unless this is the staged version')
    .option('--json', 'print the table as JSON'))
    .action(async (set: string, opts: ClientCommandOptions & { version?: string; json?: boolean }) => {
      const r = await withClient('data rollback', opts, (c) => new DataSetEditor(c, set).rollback(opts.version ?? ''));
      if (!opts.json) process.stdout.write(`data set ${r.dataSet}: version ${r.rolledBack} rolled back\n`);
      printSchedule(r, opts.json);
    });
}
