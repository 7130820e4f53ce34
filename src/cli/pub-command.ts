import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { Client } from '../client/index.js';
import { LineOutput } from './line-output.js';
import { Progress } from './progress.js';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface PubOptions extends ClientCommandOptions {
  key?: string;
  printSeq?: boolean;
}

/** Publishes in flight at most; the client pipelines them over one connection. */
const MAX_IN_FLIGHT = 1000;

/** `corral pub`: one message, or every line of standard input as one message. */
export function addPubCommand(program: Command): void {
  addClientOptions(program
    .command('pub')
    .description('publish one message, or every line of standard input as one message')
    .argument('<topic>', 'topic name')
    .argument('[message]', 'the message; "-" (or nothing) reads standard input, one message per line')
    .option('--key <key>', 'key stored with every message')
    .option('--print-seq', 'print "<seq>\\t<message>" for every acknowledged message, in input order'))
    .action(async (topic: string, message: string | undefined, opts: PubOptions) => {
      await withClient('pub', opts, async (client) => {
        const out = new LineOutput(process.stdout);
        if (message === undefined || message === '-') await publishLines(client, topic, opts, out);
        else {
          const { seq } = await client.publish(topic, message, { key: opts.key });
          if (opts.printSeq) out.line(`${seq}\t${message}`);
        }
        await out.flush();
      });
    });
}

interface Line {
  text: string;
  /** Undefined until acknowledged. */
  seq: number | undefined;
}

/**
 * Reads lines and keeps up to MAX_IN_FLIGHT publishes outstanding. Output
 * stays in input order; on the first failure reading stops, what is in flight
 * settles, and the error is thrown.
 */
async function publishLines(client: Client, topic: string, opts: PubOptions, out: LineOutput): Promise<void> {
  const waiting: Line[] = [];
  let printed = 0;
  let read = 0;
  let acked = 0;
  let inFlight = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const progress = new Progress(() => `corral pub: ${read} read, ${acked} acknowledged`);
  const settled = (): void => {
    inFlight--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const printReady = (): void => {
    while (printed < waiting.length && waiting[printed]!.seq !== undefined) {
      const line = waiting[printed++]!;
      if (opts.printSeq) out.line(`${line.seq!}\t${line.text}`);
    }
    if (printed > 4096) {
      waiting.splice(0, printed);
      printed = 0;
    }
  };
  const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
  try {
    for await (const text of input) {
      if (failure !== undefined) break;
      const line: Line = { text, seq: undefined };
      waiting.push(line);
      read++;
      inFlight++;
      client.publish(topic, text, { key: opts.key }).then((r) => {
        line.seq = r.seq;
        acked++;
        printReady();
        settled();
      }, (err: unknown) => {
        failure ??= err;
        settled();
      });
      while (failure === undefined && (inFlight >= MAX_IN_FLIGHT || out.full)) {
        if (out.full) await out.drained();
        else await new Promise<void>((resolve) => { wake = resolve; });
      }
    }
    while (inFlight > 0) await new Promise<void>((resolve) => { wake = resolve; });
  } finally {
    input.close();
    process.stdin.destroy();
    progress.stop();
  }
  if (failure !== undefined) throw failure;
}
