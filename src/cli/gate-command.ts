import { type Command, InvalidArgumentError, Option } from 'commander';
import { Gate } from '../services/gates/gate.js';
import type { GateConfig, GateStatus } from '../services/gates/gate-frames.js';
import { formatTable } from './format-table.js';
import { parseDuration } from './parse-duration.js';
import { wholeNumber } from './whole-number.js';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface GateOptions extends ClientCommandOptions {
  json?: boolean;
  limit?: number;
  lease?: number;
  grace?: number;
  classes?: number;
  perMinute?: number;
  opensAt?: number;
}

function farmTime(text: string): number {
  const t = text === 'now' ? 0 : Date.parse(text);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`expected an ISO date and time, or "now", not ${JSON.stringify(text)}`);
  return t;
}

/** The settings given on the command line; a limit of 0 goes to the hub, which refuses it with INVALID_LIMIT. */
function settings(opts: GateOptions): Partial<GateConfig> {
  const s: Partial<GateConfig> = {};
  if (opts.limit !== undefined) s.limit = opts.limit;
  if (opts.lease !== undefined) s.leaseMs = opts.lease;
  if (opts.grace !== undefined) s.graceMs = opts.grace;
  if (opts.classes !== undefined) s.classes = opts.classes;
  if (opts.perMinute !== undefined) s.perMinute = opts.perMinute;
  if (opts.opensAt !== undefined) s.opensAt = opts.opensAt;
  return s;
}

function withSettings(cmd: Command): Command {
  return cmd
    .addOption(new Option('--limit <n>', 'most concurrent holders').argParser(wholeNumber(0)))
    .addOption(new Option('--lease <duration>', 'a holder that does not renew within this loses its slot (e.g. 30s)').argParser(parseDuration))
    .addOption(new Option('--grace <duration>', 'a waiter not heard from within this loses its place').argParser(parseDuration))
    .addOption(new Option('--classes <n>', 'priority classes (1-8; class 0 first)').argParser(wholeNumber(1)))
    .addOption(new Option('--per-minute <n>', 'most admissions in any minute (0 = no limit)').argParser(wholeNumber(0)))
    .addOption(new Option('--opens-at <time>', 'farm time the gate opens (ISO 8601, or "now"); earlier arrivals are placed at random then').argParser(farmTime));
}

function print(s: GateStatus, json: boolean | undefined): void {
  process.stdout.write(json ? JSON.stringify(s) + '\n' : formatTable(
    ['GATE', 'LIMIT', 'HOLDERS', 'WAITING', 'PREQUEUED', 'ADMISSIONS', 'LAST MINUTE', 'OWNER'],
    [[s.gate, String(s.config.limit), String(s.holders), String(s.waiting), String(s.prequeued), String(s.admissions), String(s.lastMinute), s.hubId]],
  ));
}

/** `corral gate create|set|status|release|drain` [P-15]: operate a gate. */
export function addGateCommand(program: Command): void {
  const gate = program.command('gate').description('admission gates: a limit on concurrent holders, the rest wait in a FIFO queue');
  const run = (name: string, opts: GateOptions, fn: (g: Gate) => Promise<GateStatus | undefined>): Promise<void> =>
    withClient('gate', opts, async (client) => {
      const s = await fn(Gate.open(client, name));
      if (s) print(s, opts.json);
    });
  const create = gate.command('create');
  addClientOptions(withSettings(create.argument('<name>', 'gate name').description('create a gate (--limit is required)'))
    .option('--json', 'print the gate\'s status as JSON'))
    .action(async (name: string, opts: GateOptions) => {
      if (opts.limit === undefined) create.error('error: --limit is required');
      await run(name, opts, (g) => g.create({ ...settings(opts), limit: opts.limit! }));
    });
  addClientOptions(withSettings(gate.command('set').argument('<name>', 'gate name').description('change a gate\'s settings'))
    .option('--json', 'print the gate\'s status as JSON'))
    .action((name: string, opts: GateOptions) => run(name, opts, (g) => g.set(settings(opts))));
  addClientOptions(gate.command('status').argument('<name>', 'gate name').description('holders, waiters and admissions of a gate')
    .option('--json', 'print the status as JSON'))
    .action((name: string, opts: GateOptions) => run(name, opts, (g) => g.status()));
  addClientOptions(gate.command('release').argument('<name>', 'gate name').argument('<ticket>', 'the holder\'s ticket').description('release a holder\'s slot')
    .option('--json', 'print the gate\'s status afterwards as JSON'))
    .action((name: string, ticket: string, opts: GateOptions) => run(name, opts, async (g) => {
      await g.release(ticket);
      return g.status();
    }));
  addClientOptions(gate.command('drain').argument('<name>', 'gate name').description('every waiter loses its place (GATE_DRAINED); holders keep their slots')
    .option('--json', 'print the status afterwards as JSON'))
    .action((name: string, opts: GateOptions) => run(name, opts, (g) => g.drain()));
}
