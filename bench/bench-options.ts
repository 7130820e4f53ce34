import { parseArgs } from 'node:util';

export const PEER_NAMES = ['nats', 'redis', 'mosquitto'] as const;
export type PeerName = (typeof PEER_NAMES)[number];
export const DURABILITIES = ['fsync', 'process'] as const;
export type CorralDurability = (typeof DURABILITIES)[number];
/** The failover figure: not a workload (it kills hubs), and only meaningful on a cluster. */
export const FAILOVER = 'FAILOVER';
/** The farm clock run: estimate error and TIME_REQUESTs per second on one hub. */
export const CLOCK = 'CLOCK';
/** The data-set run: 50 server processes, activation spread, change-only transfer, get cost. */
export const SYNC = 'SYNC';
/** Tree counters: local increments per thread, bytes per exchange, convergence, a central counter. */
export const COUNTERS = 'COUNTERS';
/** The gates run: admissions per second, release → admission latency, position fan-out, memory per waiter. */
export const GATES = 'GATES';
/** 1,000 connections that never read: the hub's memory and a well-behaved client's service. */
export const NONREADERS = 'NONREADERS';
/** Runs on one standalone hub beside the workloads (services, hostile clients): part of the default set, left out with --cluster. */
export const STANDALONE_RUNS: readonly string[] = [CLOCK, SYNC, COUNTERS, GATES, NONREADERS];

export interface BenchOptions {
  /** Workload ids to run, in their usual order. */
  only: readonly string[];
  runs: number;
  vs: readonly PeerName[];
  durability: readonly CorralDurability[];
  full: boolean;
  micro: boolean;
  scale: number;
  /** Directory for CPU profiles of the hub processes (node --cpu-prof). */
  profile: string | undefined;
  /** Run on hubs over one embedded PostgreSQL instead of one hub on SQLite. */
  cluster: boolean;
  help: boolean;
}

export const USAGE = `npm run bench -- [options]

  --only W1,W3          workloads to run (W1 W2 W3 W4 W5 M1, CLOCK (the farm
                        clock), SYNC (data sets), COUNTERS (tree counters),
                        GATES (admission gates), NONREADERS (1,000 clients
                        that never read), and FAILOVER, which implies
                        --cluster; default all workloads and service runs, or
                        none when --micro is given;
                        with --cluster W1-W5 and FAILOVER)
  --vs nats,redis,mosquitto
                        also run the workloads on these systems where installed
  --durability fsync,process
                        Corral durability modes to measure (default both)
  --runs N              run each measurement N times, report the median (default 1)
  --full                M1 at full size: 1,000 topics x 10,000 messages
  --micro               run the micro-benchmarks (codec, store append)
  --scale F             multiply every message count by F (a quick check of the
                        harness; results are not comparable with the defaults)
  --profile DIR         write a CPU profile of every hub process into DIR
  --cluster             run on 3 hubs and on 1 hub over an embedded PostgreSQL
                        (beside 1 hub on SQLite), measure CPU per message of
                        hubs, PostgreSQL and client, and the failover times
  --help`;

function list<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new Error(`unknown ${what} "${item}"; expected one of ${allowed.join(', ')}`);
  }
  return items as T[];
}

function positive(value: string | undefined, what: string, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) throw new Error(`--${what} expects a positive ${integer ? 'whole ' : ''}number, got "${value}"`);
  return n;
}

export function parseBenchOptions(argv: readonly string[], workloadIds: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: 'string' },
      vs: { type: 'string' },
      durability: { type: 'string' },
      runs: { type: 'string' },
      full: { type: 'boolean', default: false },
      micro: { type: 'boolean', default: false },
      scale: { type: 'string' },
      profile: { type: 'string' },
      cluster: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const ids = [...workloadIds, FAILOVER, ...STANDALONE_RUNS];
  const only = list(values.only?.toUpperCase(), ids, 'workload');
  const cluster = values.cluster || (only?.includes(FAILOVER) ?? false);
  return {
    only: only ? ids.filter((id) => only.includes(id)) : values.micro ? [] : cluster ? ids.filter((id) => !STANDALONE_RUNS.includes(id)) : [...workloadIds, ...STANDALONE_RUNS],
    runs: positive(values.runs, 'runs', 1, true),
    vs: list(values.vs, PEER_NAMES, 'peer') ?? [],
    durability: list(values.durability, DURABILITIES, 'durability') ?? DURABILITIES,
    full: values.full,
    micro: values.micro,
    scale: positive(values.scale, 'scale', 1, false),
    profile: values.profile,
    cluster,
    help: values.help,
  };
}
