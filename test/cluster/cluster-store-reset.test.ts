import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/client/index.js';
import { startPostgres, type PostgresServer } from '../support/embedded-postgres.js';
import { eventually } from '../support/eventually.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { readPayloads } from '../support/read-payloads.js';

/** ReadyForQuery: the server's handshake of a new connection is over. */
const READY_FOR_QUERY = Buffer.from([0x5a, 0, 0, 0, 5]);

/**
 * Resets a socket (RST), or destroys it if its shutdown has begun: a reset
 * racing a pending shutdown leaves Node's TCP handle open at exit, and the
 * process then spins in its handle clean-up instead of exiting (seen on
 * Node 20 when the hub's FIN had already ended the proxy's side).
 */
function reset(socket: Socket): void {
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}

/**
 * A TCP proxy in front of PostgreSQL with two faults:
 * - armed (`arm`), it resets a new connection (RST) as the client sends its
 *   first request after the handshake: what a hub meets when PostgreSQL
 *   restarts or fails over just as the hub reconnects. The handshake itself
 *   passes, so the driver counts the connection as open.
 * - holding (`hold`), it stops forwarding on every open connection and on
 *   those opened meanwhile, and keeps them open: a server whose machine
 *   vanished without a reset. `release` forwards new connections again; the
 *   held ones stay silent for good.
 */
class FaultyProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  resetsLeft = 0;
  resets = 0;
  private holding = false;
  /** What the client sent on held connections: requests that will never be answered. */
  private readonly heldRequests: Buffer[] = [];

  constructor(private readonly target: number) {
    this.server = createServer((client) => this.pair(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no proxy address');
    return address.port;
  }

  /** Resets the next `n` new connections after their handshake, and closes every open one so the hub reconnects. */
  arm(n: number): void {
    this.resetsLeft = n;
    for (const p of this.pairs) this.cut(p);
  }

  hold(): void {
    this.holding = true;
    for (const p of this.pairs) p.held = true;
  }

  release(): void {
    this.holding = false;
  }

  /** True once a request holding `bytes` (as the driver sends bytea: hex) went to a held connection. */
  heldRequestWith(bytes: Buffer): boolean {
    return Buffer.concat(this.heldRequests).includes(bytes.toString('hex'));
  }

  private cut(p: Pair): void {
    reset(p.client);
    p.upstream.destroy();
  }

  private pair(client: Socket): void {
    const upstream = createConnection(this.target, '127.0.0.1');
    const doomed = this.resetsLeft > 0;
    if (doomed) this.resetsLeft--;
    const p: Pair = { client, upstream, held: this.holding };
    this.pairs.add(p);
    let ready = false;
    upstream.on('data', (chunk: Buffer) => {
      if (p.held) return;
      if (chunk.includes(READY_FOR_QUERY)) ready = true;
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      if (p.held) {
        this.heldRequests.push(chunk);
        return;
      }
      if (doomed && ready) {
        this.resets++;
        this.cut(p);
        return;
      }
      upstream.write(chunk);
    });
    const end = (): void => {
      this.pairs.delete(p);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }

  async close(): Promise<void> {
    this.arm(0);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Pair {
  client: Socket;
  upstream: Socket;
  held: boolean;
}

describe('cluster: PostgreSQL connections reset as they open, or silent', () => {
  let pg: PostgresServer;
  let proxy: FaultyProxy;
  let hub: HubProcess;
  before(async () => {
    pg = await startPostgres();
    proxy = new FaultyProxy(pg.port);
    const port = await proxy.listen();
    hub = await startHub({ args: ['--store', pg.url.replace(`:${pg.port}/`, `:${port}/`), '--store-timeout', '3s'] });
  });
  after(async () => {
    await hub.kill();
    await proxy.close();
    await pg.stop();
  });

  it('keeps the hub running, and publishing works again once connections hold', { timeout: 180_000 }, async () => {
    const ended = new Promise<never>((_, reject) => hub.child.once('exit', (code, signal) => {
      reject(new Error(`the hub ended (exit ${code}, ${signal}):\n${hub.stderr().split('\n').slice(-40).join('\n')}`));
    }));
    ended.catch(() => undefined);
    const client = await connect(hub.url, { requestTimeoutMs: 120_000 });
    try {
      await (await client.subscribe('reset', 'audit', { from: 'earliest' })).close();
      await client.publish('reset', 'before');
      proxy.arm(20);
      // The driver reconnects as the hub next writes; each new connection is reset after its handshake.
      const published = client.publish('reset', 'after');
      published.catch(() => undefined);
      await Promise.race([ended, eventually(() => assert.equal(proxy.resetsLeft, 0, `${proxy.resetsLeft} resets still to come`), 120_000)]);
      await Promise.race([ended, published]);
      assert.ok(proxy.resets > 0, 'no connection was reset after its handshake');
      assert.deepEqual(await readPayloads(client, 'reset', 'audit', 2), ['before', 'after']);
    } catch (err) {
      throw withHubLog(err, hub);
    } finally {
      await client.close();
    }
  });

  it('answers a publish whose append went to a silent server, and stores it once when a new connection works', { timeout: 180_000 }, async () => {
    const client = await connect(hub.url, { requestTimeoutMs: 120_000 });
    try {
      await (await client.subscribe('silent', 'audit', { from: 'earliest' })).close();
      await client.publish('silent', 'before');
      proxy.hold();
      const published = client.publish('silent', 'during');
      published.catch(() => undefined);
      // The append is on a connection that will never answer (nor close): only the hub's deadline ends it.
      await eventually(() => assert.ok(proxy.heldRequestWith(Buffer.from('during')), 'the append has not reached the silent server yet'), 60_000);
      proxy.release();
      await published;
      assert.deepEqual(await readPayloads(client, 'silent', 'audit', 2), ['before', 'during']);
    } catch (err) {
      throw withHubLog(err, hub);
    } finally {
      await client.close();
    }
  });
});

function withHubLog(err: unknown, hub: HubProcess): Error {
  return new Error(`${(err as Error).message}\nthe hub's log:\n${hub.stderr().split('\n').slice(-60).join('\n')}`, { cause: err });
}
