import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { eventually } from '../support/eventually.js';
import { startHub, type HubProcess } from '../support/hub-process.js';

/** The samples of one metric in a Prometheus text exposition. */
function samples(text: string, name: string): Array<{ labels: string; value: number }> {
  const re = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm');
  return [...text.matchAll(re)].map((m) => ({ labels: m[1] ?? '', value: Number(m[2]) }));
}

describe('metrics: bounded series', () => {
  let hub: HubProcess;
  let client: Client;
  before(async () => {
    hub = await startHub({ args: ['--metrics-subscriptions', '5'] });
    client = await connect(hub.url);
  });
  after(async () => {
    await client.close();
    await hub.stop();
  });

  it('gives only the largest backlogs a series of their own, and totals over every subscription', async () => {
    // Topic m<k> has one subscription with a backlog of k messages.
    for (let k = 1; k <= 12; k++) {
      const sub = await client.subscribe(`m${k}`, 'audit', { from: 'earliest' });
      await sub.close();
      for (let i = 0; i < k; i++) await client.publish(`m${k}`, `x${i}`);
    }
    await eventually(async () => {
      const text = await (await fetch(`${hub.httpUrl}/metrics`)).text();
      const backlog = samples(text, 'corral_subscription_backlog');
      assert.deepEqual(backlog.map((s) => [s.labels, s.value]).sort((a, b) => Number(b[1]) - Number(a[1])),
        [12, 11, 10, 9, 8].map((k) => [`{topic="m${k}",subscription="audit"}`, k]));
      assert.deepEqual(samples(text, 'corral_subscriptions'), [{ labels: '', value: 12 }]);
      assert.deepEqual(samples(text, 'corral_backlog_messages'), [{ labels: '', value: 78 }]);
    });
  });
});
