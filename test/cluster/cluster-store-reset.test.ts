import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/client/index.js';
import { startPostgres, type PostgresServer } from '../support/embedded-postgres.js';
import { eventually } from '../support/eventually.js';
import { startHub, type HubProcess } from '../support/hub-process.js';

/** ReadyForQuery: the server's handshake of a new connection is over. */
const READY_FOR_QUERY = Buffer.from([0x5a, 0, 0, 0, 5]);

/**
 * A TCP proxy in front of PostgreSQL that, while armed, resets a new
 * connection (RST) as the client sends its first request after the handshake:
 * what a hub meets when PostgreSQL restarts or fails over just as the hub
 * reconnects. The handshake itself passes, so the driver counts the
 * connection as open.
 */
class ResettingProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  resetsLeft = 0;
  resets = 0;

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
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
  }

  private pair(client: Socket): void {
    const upstream = createConnection(this.target, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const doomed = this.resetsLeft > 0;
    if (doomed) this.resetsLeft--;
    let ready = false;
    upstream.on('data', (chunk: Buffer) => {
      if (chunk.includes(READY_FOR_QUERY)) ready = true;
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      if (doomed && ready) {
        this.resets++;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    const end = (): void => {
      this.pairs.delete(pair);
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

describe('cluster: PostgreSQL connections reset as they open', () => {
  let pg: PostgresServer;
  let proxy: ResettingProxy;
  let hub: HubProcess;
  before(async () => {
    pg = await startPostgres();
    proxy = new ResettingProxy(pg.port);
    const port = await proxy.listen();
    hub = await startHub({ args: ['--store', pg.url.replace(`:${pg.port}/`, `:${port}/`)] });
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
      const sub = await client.subscribe('reset', 'audit', { from: 'earliest' });
      const got: string[] = [];
      for await (const m of sub) {
        got.push(m.payload.toString());
        m.ack();
        if (got.length === 2) break;
      }
      assert.deepEqual(got, ['before', 'after']);
    } finally {
      await client.close();
    }
  });
});
