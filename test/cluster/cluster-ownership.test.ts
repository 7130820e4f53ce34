import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FrameType } from '../../src/protocol/frame-type.js';
import type { Frame, PublishAckFrame, RedirectFrame } from '../../src/protocol/frames.js';
import { startPostgres, type PostgresServer } from '../support/embedded-postgres.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

const isReply = (f: Frame): f is PublishAckFrame | RedirectFrame => f.type === FrameType.PUBLISH_ACK || f.type === FrameType.REDIRECT;

function publish(c: RawConnection, topic: string, corr: number, payload: string): void {
  c.send({ type: FrameType.PUBLISH, corr, topic, key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from(payload) });
}

async function ownerOf(hub: HubProcess, topic: string): Promise<string | undefined> {
  const body = (await (await fetch(`${hub.httpUrl}/api/topics`)).json()) as { topics: Array<{ topic: string; owner?: string }> };
  return body.topics.find((t) => t.topic === topic)?.owner;
}

async function hubIdOf(hub: HubProcess): Promise<string> {
  return ((await (await fetch(`${hub.httpUrl}/healthz`)).json()) as { hubId: string }).hubId;
}

describe('cluster: ownership and redirect over PostgreSQL', () => {
  let pg: PostgresServer;
  let hubs: HubProcess[];
  before(async () => {
    pg = await startPostgres();
    hubs = await Promise.all([0, 1, 2].map(() => startHub({ args: ['--store', pg.url] })));
  });
  after(async () => {
    await Promise.all(hubs.map((h) => h.stop()));
    await pg.stop();
  });

  it('serves a topic on its owner and redirects requests reaching another hub to it', async () => {
    const first = await RawConnection.hello(hubs[0]!.port);
    publish(first, 'redirect.me', 1, 'a');
    const reply = await first.waitFor(isReply);
    const ids = await Promise.all(hubs.map(hubIdOf));
    const ownerId = reply.type === FrameType.PUBLISH_ACK ? ids[0]! : reply.hubId;
    const owner = hubs[ids.indexOf(ownerId)]!;
    for (const h of hubs) {
      const c = await RawConnection.hello(h.port);
      publish(c, 'redirect.me', 7, 'b');
      const r = await c.waitFor(isReply);
      if (h === owner) assert.equal(r.type, FrameType.PUBLISH_ACK, 'the owner serves');
      else {
        assert.equal(r.type, FrameType.REDIRECT, 'another hub redirects');
        const red = r as RedirectFrame;
        assert.equal(red.hubId, ownerId);
        assert.equal(red.address, `127.0.0.1:${owner.port}`);
        assert.equal(red.corr, 7);
      }
      c.close();
    }
    assert.equal(await ownerOf(hubs[1]!, 'redirect.me'), ownerId);
    first.close();
  });

  it('gives a new topic exactly one owner when 50 clients on 3 hubs race for it', async () => {
    const conns = await Promise.all(Array.from({ length: 50 }, (_, i) => RawConnection.hello(hubs[i % 3]!.port)));
    conns.forEach((c, i) => publish(c, 'race.topic', i + 1, `r${i}`));
    const replies = await Promise.all(conns.map((c) => c.waitFor(isReply)));
    const ids = await Promise.all(hubs.map(hubIdOf));
    const served = new Set<string>();
    replies.forEach((r, i) => served.add(r.type === FrameType.PUBLISH_ACK ? ids[i % 3]! : (r as RedirectFrame).hubId));
    assert.equal(served.size, 1, `owners named: ${[...served].join(', ')}`);
    const acked = replies.filter((r): r is PublishAckFrame => r.type === FrameType.PUBLISH_ACK).map((r) => r.seq).sort((a, b) => a - b);
    assert.deepEqual(acked, Array.from({ length: acked.length }, (_, i) => i + 1), 'one log, consecutive seqs');
    for (const c of conns) c.close();
  });

  it('spreads new topics over the hubs', async () => {
    const c = await RawConnection.hello(hubs[0]!.port);
    for (let i = 0; i < 60; i++) publish(c, `spread.${i}`, i + 1, 'x');
    const replies = (await c.waitForCount(isReply, 60)) as Array<PublishAckFrame | RedirectFrame>;
    const ids = await Promise.all(hubs.map(hubIdOf));
    const owners = replies.map((r) => (r.type === FrameType.PUBLISH_ACK ? ids[0]! : r.hubId));
    const perHub = ids.map((id) => owners.filter((o) => o === id).length);
    if (perHub.some((n) => n === 0)) {
      // What the placing hub compared: each hub's reported load.
      const loads = await (await fetch(`${hubs[0]!.httpUrl}/api/hubs`)).text();
      assert.fail(`topics per hub: ${perHub.join(', ')}; loads: ${loads}`);
    }
    c.close();
  });
});
