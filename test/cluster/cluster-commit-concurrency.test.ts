import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { startPostgres, type PostgresServer } from '../support/embedded-postgres.js';
import { startHub, type HubProcess } from '../support/hub-process.js';

/**
 * A hub over PostgreSQL runs several group commits at once over disjoint
 * topics; each topic's publishes must still be stored and acknowledged in
 * the order sent, with consecutive seqs [P-4.1], [P-4.3].
 */
describe('cluster: group commits in flight at once over PostgreSQL', () => {
  let pg: PostgresServer;
  let hub: HubProcess;
  let client: Client;
  before(async () => {
    pg = await startPostgres();
    hub = await startHub({ args: ['--store', pg.url] });
    client = await connect(hub.url);
  });
  after(async () => {
    await client.close();
    await hub.stop();
    await pg.stop();
  });

  it('keeps each of 100 topics in order while their commits overlap', { timeout: 300_000 }, async () => {
    const topics = Array.from({ length: 100 }, (_, i) => `overlap.${i}`);
    const perTopic = 40;
    const audited = [topics[0]!, topics[50]!, topics[99]!];
    // Subscribed first: a topic without subscriptions keeps nothing [P-6.3].
    const subs = await Promise.all(audited.map((t) => client.subscribe(t, 'audit', { from: 'earliest' })));
    const results = await Promise.all(topics.flatMap((t) => Array.from({ length: perTopic }, (_, i) => client.publish(t, `${t}:${i}`))));
    topics.forEach((t, ti) => {
      const seqs = results.slice(ti * perTopic, (ti + 1) * perTopic).map((r) => r.seq);
      assert.deepEqual(seqs, Array.from({ length: perTopic }, (_, i) => i + 1), `acks of ${t}`);
    });
    // No commit failed on the way (a refused batch would have been resent and hidden behind retries).
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    assert.deepEqual(metrics.split('\n').filter((l) => l.startsWith('corral_errors_total{')), [], 'the hub refused nothing');
    // Three of them read back: the order sent.
    for (const [i, t] of audited.entries()) {
      const sub = subs[i]!;
      const got: string[] = [];
      for await (const m of sub) {
        got.push(m.payload.toString());
        m.ack();
        if (got.length === perTopic) break;
      }
      assert.deepEqual(got, Array.from({ length: perTopic }, (_, i) => `${t}:${i}`));
    }
  });
});
