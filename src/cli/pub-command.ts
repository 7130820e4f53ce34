import { createInterface } from 'node:readline';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Client } from '../client/index.js';
import type { TopicsResult } from '../protocol/query-results.js';
import { LineOutput } from './line-output.js';
import { Progress } from './progress.js';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface PubOptions extends ClientCommandOptions {
  key?: string;
  printSeq?: boolean;
  file?: string;
  quiet?: boolean;
}

/** Sequence numbers of what one `corral pub` published. */
interface Published {
  count: number;
  first: number | undefined;
  last: number | undefined;
  /** Retries the hub had stored already but whose original's seq it no longer knows [P-4.4]. */
  unknown: number;
}

/**
 * What --print-seq prints for a message: its seq, or UNKNOWN_SEQ when the
 * hub answered a retry of it as stored already without knowing the
 * original's seq any more [P-4.4] (never a made-up number).
 */
export const UNKNOWN_SEQ = 'unknown';

function seqText(seq: number | undefined): string {
  return seq === undefined ? UNKNOWN_SEQ : String(seq);
}

/** Adds one acknowledged publish to the summary. */
function count(p: Published, seq: number | undefined): void {
  p.count++;
  if (seq === undefined) {
    p.unknown++;
    return;
  }
  p.first = Math.min(p.first ?? seq, seq);
  p.last = Math.max(p.last ?? seq, seq);
}

async function readWhole(path: string): Promise<Buffer> {
  if (path !== '-') return readFile(path);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A topic without subscriptions and without retention keeps nothing [P-6.3]:
 * what was just published is trimmed within seconds. Say so, and what to do.
 */
async function warnIfUnkept(client: Client, topic: string): Promise<void> {
  const t = ((await client.query('topics')) as TopicsResult).topics.find((x) => x.topic === topic);
  if (t === undefined || t.subscriptions.length > 0 || t.retainCount > 0 || t.retainMs > 0) return;
  process.stderr.write(`corral pub: warning: topic ${topic} has no subscription and no retention, so nothing keeps these messages: `
    + `they are trimmed within seconds. Create the subscription first (corral sub ${topic} <name> --count 0), `
    + `or keep messages (corral retain ${topic} --count N, or corral start --retain-count N)\n`);
}

/** Publishes in flight at most; the client pipelines them over one connection. */
const MAX_IN_FLIGHT = 1000;

/** `corral pub`: one message, or every line of standard input as one message. */
export function addPubCommand(program: Command): void {
  addClientOptions(program
    .command('pub')
    .description('publish one message, every line of standard input as one message, or a whole file (--file) as one message')
    .argument('<topic>', 'topic name')
    .argument('[message]', 'the message; "-" (or nothing) reads standard input, one message per line')
    .option('--file <path>', 'publish the whole file as one message ("-": all of standard input)')
    .option('--key <key>', 'key stored with every message')
    .option('--print-seq', 'print "<seq>\\t<message>" for every acknowledged message, in input order')
    .option('-q, --quiet', 'no summary on standard error'))
    .action(async (topic: string, message: string | undefined, opts: PubOptions, cmd: Command) => {
      if (opts.file !== undefined && message !== undefined) cmd.error('error: give a message or --file, not both', { exitCode: 2 });
      await withClient('pub', opts, async (client) => {
        const out = new LineOutput(process.stdout);
        let published: Published;
        if (opts.file !== undefined || (message !== undefined && message !== '-')) {
          const payload = opts.file !== undefined ? await readWhole(opts.file) : message!;
          const { seq } = await client.publish(topic, payload, { key: opts.key });
          if (opts.printSeq) out.line(`${seqText(seq)}\t${opts.file !== undefined ? opts.file : message!}`);
          published = { count: 0, first: undefined, last: undefined, unknown: 0 };
          count(published, seq);
        } else {
          published = await publishLines(client, topic, opts, out);
        }
        await out.flush();
        if (!opts.quiet) {
          const range = published.first === undefined ? '' : published.first === published.last ? ` (seq ${published.first})` : ` (seq ${published.first}-${published.last})`;
          process.stderr.write(`corral pub: published ${published.count} message${published.count === 1 ? '' : 's'} to ${topic}${range}\n`);
          if (published.unknown > 0) {
            process.stderr.write(`corral pub: ${published.unknown} of them ${published.unknown === 1 ? 'was a retry' : 'were retries'} the hub had stored already, `
              + `whose seq it no longer knows (trimmed, or older than its de-duplication window); printed as "${UNKNOWN_SEQ}"\n`);
          }
        }
        if (published.count > 0) await warnIfUnkept(client, topic);
      });
    });
}

interface Line {
  text: string;
  acked: boolean;
  seq: number | undefined;
}

/**
 * Reads lines and keeps up to MAX_IN_FLIGHT publishes outstanding. Output
 * stays in input order; on the first failure reading stops, what is in flight
 * settles, and the error is thrown.
 */
async function publishLines(client: Client, topic: string, opts: PubOptions, out: LineOutput): Promise<Published> {
  const waiting: Line[] = [];
  let printed = 0;
  let read = 0;
  let inFlight = 0;
  let failure: unknown;
  const published: Published = { count: 0, first: undefined, last: undefined, unknown: 0 };
  let wake: (() => void) | undefined;
  const progress = new Progress(() => `corral pub: ${read} read, ${published.count} acknowledged`);
  const settled = (): void => {
    inFlight--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const printReady = (): void => {
    while (printed < waiting.length && waiting[printed]!.acked) {
      const line = waiting[printed++]!;
      if (opts.printSeq) out.line(`${seqText(line.seq)}\t${line.text}`);
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
      const line: Line = { text, acked: false, seq: undefined };
      waiting.push(line);
      read++;
      inFlight++;
      client.publish(topic, text, { key: opts.key }).then((r) => {
        line.acked = true;
        line.seq = r.seq;
        count(published, r.seq);
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
  return published;
}
