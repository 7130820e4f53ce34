import type { Client, ConnectOptions } from '../../src/client/index.js';
import { connect } from '../../src/client/index.js';
import { startPostgres, type PostgresServer } from './embedded-postgres.js';
import { startHub, type HubProcess } from './hub-process.js';

/**
 * Real hub processes on 127.0.0.1 over one embedded PostgreSQL, as
 * `corral dev --hubs N` runs them, and the clients a test opened on them.
 * `reset` resumes paused hubs (SIGCONT) before stopping them, so a test that
 * failed mid-SIGSTOP leaves nothing behind.
 */
export class TestCluster {
  hubs: HubProcess[] = [];
  private clients: Client[] = [];

  private constructor(readonly pg: PostgresServer) {}

  static async start(): Promise<TestCluster> {
    return new TestCluster(await startPostgres());
  }

  /** Starts `n` hubs on the shared store; `args` are extra `corral start` arguments. */
  async startHubs(n: number, args: string[] = []): Promise<HubProcess[]> {
    const started = await Promise.all(Array.from({ length: n }, () => startHub({ args: ['--store', this.pg.url, ...args] })));
    this.hubs.push(...started);
    return started;
  }

  /** corral://h1,h2,… of the given hubs (default: all). */
  url(hubs: HubProcess[] = this.hubs): string {
    return `corral://${hubs.map((h) => `127.0.0.1:${h.port}`).join(',')}`;
  }

  async client(options?: ConnectOptions, hubs?: HubProcess[]): Promise<Client> {
    const c = await connect(this.url(hubs), options);
    this.clients.push(c);
    return c;
  }

  /**
   * The hub process that owns `topic`, as the cluster's ownership records say
   * now, asked of `among` (leave paused hubs out: they do not answer HTTP).
   */
  async ownerOf(topic: string, among: HubProcess[] = this.hubs): Promise<HubProcess | undefined> {
    const body = (await (await fetch(`${among[0]!.httpUrl}/api/topics`)).json()) as { topics: Array<{ topic: string; owner?: string }> };
    const id = body.topics.find((t) => t.topic === topic)?.owner;
    for (const h of among) {
      const health = (await (await fetch(`${h.httpUrl}/healthz`)).json()) as { hubId: string };
      if (health.hubId === id) return h;
    }
    return undefined;
  }

  /** Closes the clients, resumes and stops every hub. */
  async reset(): Promise<void> {
    for (const c of this.clients.splice(0)) await c.close();
    for (const h of this.hubs.splice(0)) {
      if (h.child.exitCode === null && h.child.signalCode === null) process.kill(h.pid, 'SIGCONT');
      await h.stop();
    }
  }

  async stop(): Promise<void> {
    await this.reset();
    await this.pg.stop();
  }
}
