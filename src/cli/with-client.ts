import { type Command, InvalidArgumentError, Option } from 'commander';
import { connect, type Client } from '../client/index.js';
import { parseHubUrl } from '../protocol/hub-url.js';
import { isCorralError } from '../protocol/corral-error.js';
import { readPem, secretFrom } from './security-options.js';

export const DEFAULT_URL = 'corral://127.0.0.1:7400';

/** While the hub is away, a line this often (the client retries on its own, with backoff up to 5 s). */
const STILL_RECONNECTING_EVERY_MS = 10_000;

/** Options every client command takes. */
export interface ClientCommandOptions {
  url: string;
  token?: string;
  tokenFile?: string;
  ca?: string;
}

function hubUrl(v: string): string {
  try {
    parseHubUrl(v);
  } catch (err) {
    throw new InvalidArgumentError(isCorralError(err) ? err.message : String(err));
  }
  return v;
}

/** Adds --url and --token or --token-file (or CORRAL_URL, CORRAL_TOKEN, CORRAL_TOKEN_FILE) to a client command. */
export function addClientOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'hub address: corral://host:port[,host:port...] (corrals:// for TLS)').env('CORRAL_URL').default(DEFAULT_URL).argParser(hubUrl))
    .addOption(new Option('--token <token>', 'token the hub requires').env('CORRAL_TOKEN'))
    .addOption(new Option('--token-file <path>', 'the same, read from the first line of a file').env('CORRAL_TOKEN_FILE').conflicts('token'))
    .addOption(new Option('--ca <path>', 'CA certificates (PEM) to trust for corrals:// hubs, besides the system\'s').env('CORRAL_CA'));
}

/** Connects, runs `fn`, and closes the client however `fn` ends. */
export async function withClient<T>(name: string, opts: ClientCommandOptions, fn: (client: Client) => Promise<T>): Promise<T> {
  const token = secretFrom(opts.token, opts.tokenFile);
  const tls = opts.ca !== undefined ? { ca: readPem(opts.ca, 'CA file') } : undefined;
  const client = await connect(opts.url, { token, name: `corral-cli/${name}`, tls });
  // Never silent while the hub is away: a command waiting on a reconnect says so, and keeps saying so.
  let away: NodeJS.Timeout | undefined;
  client.on('disconnect', (err) => {
    process.stderr.write(`corral: lost the connection to the hub (${err.message}); reconnecting…\n`);
    const since = Date.now();
    clearInterval(away);
    away = setInterval(() => {
      process.stderr.write(`corral: still reconnecting to ${opts.url} (${Math.round((Date.now() - since) / 1000)} s); Ctrl-C to give up\n`);
    }, STILL_RECONNECTING_EVERY_MS);
    away.unref();
  });
  client.on('reconnect', (hub) => {
    clearInterval(away);
    process.stderr.write(`corral: reconnected to ${hub.hubId} at ${hub.address}\n`);
  });
  try {
    return await fn(client);
  } finally {
    clearInterval(away);
    await client.close();
  }
}
