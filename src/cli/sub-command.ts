import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Client, Message, StartFrom } from '../client/index.js';
import { CorralError } from '../protocol/corral-error.js';
import type { TopicsResult } from '../protocol/query-results.js';
import { LineOutput } from './line-output.js';
import { wholeNumber } from './whole-number.js';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface SubOptions extends ClientCommandOptions {
  from: StartFrom;
  count?: number;
  json?: boolean;
  credit: number;
  quiet?: boolean;
}

function startFrom(text: string): StartFrom {
  if (text === 'earliest' || text === 'latest') return text;
  if (/^\d+$/.test(text)) return Number(text);
  throw new InvalidArgumentError('expected earliest, latest or a sequence number');
}

/**
 * [P-5.2] makes a start seq beyond the last message equivalent to latest; a
 * person typing `--from 99999999` more likely mistyped, so the command asks
 * for `latest` by name. An existing subscription ignores --from anyway.
 */
async function checkStartSeq(client: Client, topic: string, subscription: string, from: number): Promise<void> {
  const t = ((await client.query('topics')) as TopicsResult).topics.find((x) => x.topic === topic);
  if (t?.subscriptions.some((s) => s.name === subscription)) return;
  const next = (t?.lastSeq ?? 0) + 1;
  if (from <= next) return;
  throw new CorralError('INVALID_ARGUMENT', `--from ${from} is beyond the end of topic ${topic}, whose next message will be seq ${next}; `
    + `use --from latest to start with the next message, or a sequence number up to ${next}`);
}

/** `corral sub`: prints messages of a durable subscription and acknowledges what it printed. */
export function addSubCommand(program: Command): void {
  addClientOptions(program
    .command('sub')
    .description('print the messages of a durable subscription, one per line, acknowledging each once printed')
    .argument('<topic>', 'topic name')
    .argument('<subscription>', 'subscription name (created when new)')
    .addOption(new Option('--from <position>', 'where a new subscription starts: latest (the next message published), earliest (the oldest stored) or a sequence number')
      .default('latest').argParser(startFrom))
    .option('--count <n>', 'exit after printing this many messages (0: create the subscription and exit)', wholeNumber(0))
    .option('--json', 'print one JSON object per line: {"seq","timestamp","key","payload"} (key and payload as UTF-8)')
    .addOption(new Option('--credit <n>', 'messages buffered ahead of printing').default(1000).argParser(wholeNumber(1)))
    .option('-q, --quiet', 'no summary on standard error'))
    .action(async (topic: string, subscription: string, opts: SubOptions) => {
      await withClient('sub', opts, async (client) => {
        if (typeof opts.from === 'number') await checkStartSeq(client, topic, subscription, opts.from);
        const sub = await client.subscribe(topic, subscription, { from: opts.from, credit: opts.credit });
        const out = new LineOutput(process.stdout);
        let stopping = false;
        // Ctrl-C or a service manager's stop: acknowledge what was printed, then detach, keeping the subscription.
        const stop = (): void => {
          if (stopping) return;
          stopping = true;
          void out.flush().catch(() => undefined).finally(() => sub.close());
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        let printed = 0;
        let lastSeq: number | undefined;
        try {
          // next() by hand: `break` in for-await would detach before the last acks are sent.
          while (!stopping && (opts.count === undefined || printed < opts.count)) {
            const r = await sub.next();
            if (r.done || stopping) break;
            const msg = r.value;
            // [P-5.4] acknowledged only once its line is written; acks are cumulative.
            out.line(format(msg, opts.json === true), () => msg.ack());
            printed++;
            lastSeq = msg.seq;
            if (out.full) await out.drained();
          }
          await out.flush();
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          await sub.close();
        }
        if (!opts.quiet) {
          const through = lastSeq === undefined ? '' : `, acknowledged through seq ${lastSeq}`;
          process.stderr.write(`corral sub: ${printed} message${printed === 1 ? '' : 's'} printed${through}; subscription ${subscription} of ${topic} kept\n`);
        }
      });
    });
}

function format(msg: Message, json: boolean): string {
  if (!json) return msg.payload.toString('utf8');
  return JSON.stringify({ seq: msg.seq, timestamp: msg.timestamp, key: msg.key?.toString('utf8') ?? null, payload: msg.payload.toString('utf8') });
}
