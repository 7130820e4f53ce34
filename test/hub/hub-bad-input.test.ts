import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { encodeFrame } from '../../src/protocol/encode.js';
import { ERROR_CODES, errorCodeFromWire, type ErrorCode } from '../../src/protocol/error-codes.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import { PROTOCOL_VERSION, type ErrorFrame, type Frame } from '../../src/protocol/frames.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

const isError = (f: Frame): f is ErrorFrame => f.type === FrameType.ERROR;

async function expectError(c: RawConnection, code: ErrorCode, corr?: number): Promise<ErrorFrame> {
  const e = await c.waitFor((f): f is ErrorFrame => isError(f) && f.code === ERROR_CODES[code].wire && (corr === undefined || f.corr === corr));
  assert.equal(errorCodeFromWire(e.code), code);
  return e;
}

/** The hub still serves a healthy client end to end. */
async function stillServes(hub: HubProcess): Promise<void> {
  const c = await RawConnection.hello(hub.port, 's3cret');
  c.send({ type: FrameType.PUBLISH, corr: 1, topic: 'healthy', key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from('ok') });
  const ack = await c.waitFor((f) => f.type === FrameType.PUBLISH_ACK);
  assert.equal(ack.type, FrameType.PUBLISH_ACK);
  c.close();
}

describe('bad input gets a stable error code; the hub and other clients carry on', () => {
  let hub: HubProcess;
  let bystander: RawConnection;
  before(async () => {
    hub = await startHub({ args: ['--max-payload', '4096', '--token', 's3cret'] });
    bystander = await RawConnection.hello(hub.port, 's3cret');
    bystander.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 1, topic: 'healthy', subscription: 'watch', start: { kind: 'latest' }, credit: 1000 });
    await bystander.waitFor((f) => f.type === FrameType.SUBSCRIBED);
  });
  after(async () => {
    // The bystander saw every healthy publish the tests made.
    assert.ok(!bystander.closed, 'bystander connection survived');
    assert.ok(bystander.frames.filter((f) => f.type === FrameType.DELIVER).length >= 1);
    bystander.close();
    await hub.stop();
  });

  it('refuses a wrong token with UNAUTHORIZED and closes', async () => {
    const c = await RawConnection.open(hub.port);
    c.send({ type: FrameType.HELLO, version: PROTOCOL_VERSION, token: 'nope', client: 't', features: [] });
    await expectError(c, 'UNAUTHORIZED');
    await c.waitClosed();
  });

  it('refuses an unknown protocol version', async () => {
    const c = await RawConnection.open(hub.port);
    c.send({ type: FrameType.HELLO, version: 99, token: 's3cret', client: 't', features: [] });
    await expectError(c, 'UNSUPPORTED_VERSION');
    await c.waitClosed();
  });

  it('requires HELLO first', async () => {
    const c = await RawConnection.open(hub.port);
    c.send({ type: FrameType.PING, id: 1 });
    await expectError(c, 'HANDSHAKE_REQUIRED');
    await c.waitClosed();
  });

  it('answers random bytes with an error and closes only that connection', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await RawConnection.open(hub.port);
      c.sendBytes(randomBytes(64 + i * 97));
      await c.waitClosed();
      const e = c.frames.find(isError);
      assert.ok(e, 'an ERROR frame before the close');
    }
    await stillServes(hub);
  });

  it('closes a connection whose length prefix exceeds the frame limit with FRAME_TOO_LARGE', async () => {
    const c = await RawConnection.hello(hub.port, 's3cret');
    const head = Buffer.alloc(5);
    head.writeUInt32BE(512 * 1024 * 1024, 0);
    head[4] = FrameType.PUBLISH;
    c.sendBytes(head);
    await expectError(c, 'FRAME_TOO_LARGE');
    await c.waitClosed();
    await stillServes(hub);
  });

  it('answers a truncated body with BAD_FRAME and keeps the connection', async () => {
    const c = await RawConnection.hello(hub.port, 's3cret');
    const good = encodeFrame({ type: FrameType.PUBLISH, corr: 42, topic: 'x', key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from('abc') });
    // Same frame with its last 3 bytes cut and the length prefix shortened to match.
    const cut = Buffer.from(good.subarray(0, good.length - 3));
    cut.writeUInt32BE(cut.length - 4, 0);
    c.sendBytes(cut);
    const e = await expectError(c, 'BAD_FRAME');
    assert.equal(e.corr, 42);
    c.send({ type: FrameType.PING, id: 7 });
    await c.waitFor((f) => f.type === FrameType.PONG);
    c.close();
  });

  it('rejects invalid topic and subscription names, oversize payloads and unknown frame types', async () => {
    const c = await RawConnection.hello(hub.port, 's3cret');
    c.send({ type: FrameType.PUBLISH, corr: 1, topic: 'bad topic|x', key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from('x') });
    assert.equal((await expectError(c, 'INVALID_TOPIC')).corr, 1);
    c.send({ type: FrameType.PUBLISH, corr: 2, topic: 'x'.repeat(256), key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from('x') });
    await c.waitForCount((f) => isError(f) && f.code === ERROR_CODES.INVALID_TOPIC.wire, 2);
    c.send({ type: FrameType.SUBSCRIBE, corr: 3, subId: 1, topic: 'ok', subscription: '', start: { kind: 'latest' }, credit: 1 });
    assert.equal((await expectError(c, 'INVALID_SUBSCRIPTION')).corr, 3);
    c.send({ type: FrameType.PUBLISH, corr: 4, topic: 'ok', key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.alloc(4097) });
    assert.equal((await expectError(c, 'PAYLOAD_TOO_LARGE')).corr, 4);
    const unknown = Buffer.from([0, 0, 0, 5, 0x3e, 0, 0, 0, 0]);
    c.sendBytes(unknown);
    await expectError(c, 'UNKNOWN_FRAME_TYPE');
    c.send({ type: FrameType.PING, id: 1 });
    await c.waitFor((f) => f.type === FrameType.PONG);
    c.close();
  });

  it('rejects acks and credit for unknown subscriptions, acks beyond the log, and duplicate handles', async () => {
    const c = await RawConnection.hello(hub.port, 's3cret');
    c.send({ type: FrameType.ACK, subId: 99, seq: 1 });
    await expectError(c, 'UNKNOWN_SUBSCRIPTION');
    c.send({ type: FrameType.CREDIT, subId: 98, credit: 10 });
    await c.waitForCount((f) => isError(f) && f.code === ERROR_CODES.UNKNOWN_SUBSCRIPTION.wire, 2);
    c.send({ type: FrameType.SUBSCRIBE, corr: 5, subId: 1, topic: 'acks', subscription: 's', start: { kind: 'latest' }, credit: 10 });
    await c.waitFor((f) => f.type === FrameType.SUBSCRIBED);
    c.send({ type: FrameType.ACK, subId: 1, seq: 1_000_000 });
    await expectError(c, 'INVALID_ARGUMENT');
    c.send({ type: FrameType.SUBSCRIBE, corr: 6, subId: 1, topic: 'acks', subscription: 't', start: { kind: 'latest' }, credit: 10 });
    assert.equal((await expectError(c, 'DUPLICATE_SUBSCRIPTION_ID')).corr, 6);
    c.send({ type: FrameType.UNSUBSCRIBE, corr: 7, topic: 'acks', subscription: 'never-made' });
    await expectError(c, 'UNKNOWN_SUBSCRIPTION', 7);
    c.send({ type: FrameType.QUERY, corr: 8, kind: 'nonsense', args: '{}' });
    assert.equal((await expectError(c, 'UNKNOWN_QUERY')).corr, 8);
    c.close();
    await stillServes(hub);
  });

  it('a second attach of one subscription takes it over from the first connection', async () => {
    const a = await RawConnection.hello(hub.port, 's3cret');
    const b = await RawConnection.hello(hub.port, 's3cret');
    a.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 3, topic: 'shared', subscription: 'one', start: { kind: 'latest' }, credit: 10 });
    await a.waitFor((f) => f.type === FrameType.SUBSCRIBED);
    b.send({ type: FrameType.SUBSCRIBE, corr: 1, subId: 4, topic: 'shared', subscription: 'one', start: { kind: 'latest' }, credit: 10 });
    await b.waitFor((f) => f.type === FrameType.SUBSCRIBED);
    const e = await expectError(a, 'SUBSCRIPTION_TAKEN_OVER');
    assert.equal(e.subId, 3);
    a.close();
    b.close();
  });
});

