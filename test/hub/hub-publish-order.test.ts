import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../src/client/client.js';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import { PROTOCOL_VERSION, PUBLISH_ORDER_FEATURE, type ErrorFrame, type Frame, type PublishAckFrame, type WelcomeFrame } from '../../src/protocol/frames.js';
import { removeDir, startHub, tempDir, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';
import { readPayloads } from '../support/read-payloads.js';

type Answer = PublishAckFrame | ErrorFrame;

async function helloWithOrder(port: number): Promise<RawConnection> {
  const c = await RawConnection.open(port);
  c.send({ type: FrameType.HELLO, version: PROTOCOL_VERSION, token: '', client: 'raw-test', features: [PUBLISH_ORDER_FEATURE] });
  const welcome = await c.waitFor((f): f is WelcomeFrame => f.type === FrameType.WELCOME);
  assert.ok(welcome.features.includes(PUBLISH_ORDER_FEATURE), 'the hub grants publish-order');
  return c;
}

let nextCorr = 1;

/** Sends one PUBLISH whose payload names its producer seq, and waits for its answer. */
async function publish(c: RawConnection, topic: string, producerSeq: number, afterSeq: number | undefined, producerId = 'p1'): Promise<Answer> {
  const corr = nextCorr++;
  c.send({ type: FrameType.PUBLISH, corr, topic, key: undefined, producerId, producerSeq, payload: Buffer.from(String(producerSeq)), afterSeq });
  return await c.waitFor((f: Frame): f is Answer => (f.type === FrameType.PUBLISH_ACK || f.type === FrameType.ERROR) && f.corr === corr);
}

function stored(a: Answer): number {
  assert.equal(a.type, FrameType.PUBLISH_ACK, `stored, not refused: ${JSON.stringify(a)}`);
  return a.seq;
}

function refusedWith(a: Answer, code: keyof typeof ERROR_CODES): void {
  assert.equal(a.type, FrameType.ERROR, `refused, not stored: ${JSON.stringify(a)}`);
  assert.equal(a.code, ERROR_CODES[code].wire, `refused with ${code}: ${a.message}`);
}

/** The topic's payloads in stored order, read from the earliest message. */
async function storedPayloads(hub: HubProcess, topic: string, n: number): Promise<string[]> {
  const client = await Client.connect(hub.url);
  try {
    return await readPayloads(client, topic, 'audit', n);
  } finally {
    await client.close();
  }
}

describe('hub: a publish naming an earlier one is stored only after it [P-4.6]', () => {
  let hub: HubProcess;
  const dataDir = tempDir();
  before(async () => {
    hub = await startHub({ dataDir });
  });
  after(async () => {
    await hub.stop();
    removeDir(dataDir);
  });

  it('refuses a publish whose earlier one is not stored, stores it once that one is, and keeps the order', async () => {
    const c = await helloWithOrder(hub.port);
    refusedWith(await publish(c, 'chain', 5, 4), 'OUT_OF_ORDER'); // an unknown producer naming an earlier publish
    assert.equal(stored(await publish(c, 'chain', 1, 0)), 1);
    refusedWith(await publish(c, 'chain', 3, 2), 'OUT_OF_ORDER'); // 2 was never stored
    assert.equal(stored(await publish(c, 'chain', 2, 1)), 2);
    assert.equal(stored(await publish(c, 'chain', 3, 2)), 3);
    // The earlier one given up: the next names the one before it.
    assert.equal(stored(await publish(c, 'chain', 5, 3)), 4);
    // A publish naming one stored further back is in order too.
    assert.equal(stored(await publish(c, 'chain', 6, 1)), 5);
    assert.deepEqual(await storedPayloads(hub, 'chain', 5), ['1', '2', '3', '5', '6']);
    c.close();
  });

  it('answers a retry of a stored publish as a duplicate whatever it names', async () => {
    const c = await helloWithOrder(hub.port);
    assert.equal(stored(await publish(c, 'retry', 1, 0)), 1);
    assert.equal(stored(await publish(c, 'retry', 2, 1)), 2);
    const again = await publish(c, 'retry', 2, 1);
    assert.equal(stored(again), 2);
    assert.equal((again as PublishAckFrame).duplicate, 1);
    c.close();
  });

  it('remembers what each producer stored across a restart of the hub', async () => {
    const c = await helloWithOrder(hub.port);
    assert.equal(stored(await publish(c, 'restart', 1, 0, 'q')), 1);
    c.close();
    await hub.kill();
    hub = await startHub({ dataDir });
    const d = await helloWithOrder(hub.port);
    refusedWith(await publish(d, 'restart', 3, 2, 'q'), 'OUT_OF_ORDER');
    assert.equal(stored(await publish(d, 'restart', 2, 1, 'q')), 2);
    d.close();
  });

  it('refuses an afterSeq that is not below the producer seq, and keeps serving the connection', async () => {
    const c = await helloWithOrder(hub.port);
    refusedWith(await publish(c, 'bad.after', 4, 4), 'INVALID_ARGUMENT');
    refusedWith(await publish(c, 'bad.after', 4, 9), 'INVALID_ARGUMENT');
    assert.equal(stored(await publish(c, 'bad.after', 4, 0)), 1);
    c.close();
  });

  it('stores a publish without afterSeq as before (a client without the feature)', async () => {
    const c = await RawConnection.hello(hub.port);
    assert.equal(stored(await publish(c, 'legacy', 7, undefined)), 1);
    assert.equal(stored(await publish(c, 'legacy', 9, undefined)), 2);
    c.close();
  });
});
