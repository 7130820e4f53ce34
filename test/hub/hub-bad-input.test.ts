import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { encodeFrame } from '../../src/protocol/encode.js';
import { ERROR_CODES, errorCodeFromWire, type ErrorCode } from '../../src/protocol/error-codes.js';
import { FrameType, serviceRangeOf } from '../../src/protocol/frame-type.js';
import { PROTOCOL_VERSION, type ErrorFrame, type Frame, type PublishFrame } from '../../src/protocol/frames.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';
import { Rng } from '../support/rng.js';
import { sampleFrames } from '../protocol/sample-frames.js';

/** Frame types that are neither a core frame nor in a service's range. */
const CORE_TYPES = new Set<number>(Object.values(FrameType));
const UNASSIGNED_TYPES = Array.from({ length: 255 }, (_, i) => i + 1).filter((t) => !CORE_TYPES.has(t) && serviceRangeOf(t) === undefined);

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

/**
 * Seeded bad input: CORRAL_FUZZ_SEED replays a run; without it every run tries
 * a new seed, which the test's name and any failure print.
 */
const SEED = Number(process.env.CORRAL_FUZZ_SEED ?? randomInt(0x1_0000_0000)) >>> 0;
const ROUNDS = 4;
/** `--max-payload 4096` gives a frame limit of 4096 + 64 KiB (start-command.ts). */
const MAX_FRAME_BYTES = 4096 + 64 * 1024;
const TOPIC_ALPHABET = 'abcXYZ019._:/-';
const OUTSIDE_ALPHABET = [' ', '|', '*', '#', 'é', '東', '🐄', '\u0000', '\n', '"'];

interface BadCase {
  name: string;
  /** Bad input is sent before the handshake (else after a good HELLO). */
  beforeHello: boolean;
  /** The bytes to send, and the correlation id the ERROR must echo (0 when the frame has none). */
  make(rng: Rng): { bytes: Buffer; corr: number };
  code: ErrorCode;
  /** The hub closes the connection after the error [P-9.2]. */
  closes: boolean;
}

function lengthPrefixed(prefix: number, rest: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(prefix, 0);
  return Buffer.concat([head, rest]);
}

function randomPublish(rng: Rng, topic: string, payloadBytes: number): PublishFrame {
  return {
    type: FrameType.PUBLISH, corr: rng.between(1, 0xffffffff), topic,
    key: rng.int(2) === 0 ? undefined : rng.bytes(rng.int(16)), producerId: undefined, producerSeq: 0, payload: rng.bytes(payloadBytes),
  };
}

function validTopic(rng: Rng, length: number): string {
  return Array.from({ length }, () => rng.pick([...TOPIC_ALPHABET])).join('');
}

const BAD_CASES: readonly BadCase[] = [
  {
    name: 'length prefix above the frame limit, random bytes after it', beforeHello: false, code: 'FRAME_TOO_LARGE', closes: true,
    make: (rng) => ({ bytes: lengthPrefixed(rng.between(MAX_FRAME_BYTES + 1, 0xffffffff), rng.bytes(rng.int(2000))), corr: 0 }),
  },
  {
    name: 'zero length prefix, random bytes after it', beforeHello: false, code: 'BAD_FRAME', closes: true,
    make: (rng) => ({ bytes: lengthPrefixed(0, rng.bytes(rng.int(2000))), corr: 0 }),
  },
  {
    name: 'a well-formed frame other than HELLO first', beforeHello: true, code: 'HANDSHAKE_REQUIRED', closes: true,
    make: (rng) => ({ bytes: encodeFrame(rng.pick(sampleFrames().filter((f) => f.type !== FrameType.HELLO))), corr: 0 }),
  },
  {
    name: 'unknown frame type, random body', beforeHello: false, code: 'UNKNOWN_FRAME_TYPE', closes: false,
    make: (rng) => {
      // Outside the core frames and every service range [P-2.3], whatever ranges are assigned by now.
      const type = rng.pick(UNASSIGNED_TYPES);
      const body = rng.bytes(rng.int(300));
      return { bytes: Buffer.concat([lengthPrefixed(body.length + 1, Buffer.from([type])), body]), corr: 0 };
    },
  },
  {
    name: 'PUBLISH cut short by random bytes', beforeHello: false, code: 'BAD_FRAME', closes: false,
    make: (rng) => {
      const f = randomPublish(rng, validTopic(rng, rng.between(1, 40)), rng.int(500));
      const whole = encodeFrame(f);
      // Keep the type byte and corr so the ERROR can name the request.
      const cut = Buffer.from(whole.subarray(0, whole.length - rng.between(1, whole.length - 9)));
      cut.writeUInt32BE(cut.length - 4, 0);
      return { bytes: cut, corr: f.corr };
    },
  },
  {
    name: 'PUBLISH with random trailing bytes', beforeHello: false, code: 'BAD_FRAME', closes: false,
    make: (rng) => {
      const f = randomPublish(rng, validTopic(rng, rng.between(1, 40)), rng.int(500));
      const long = Buffer.concat([encodeFrame(f), rng.bytes(rng.between(1, 100))]);
      long.writeUInt32BE(long.length - 4, 0);
      return { bytes: long, corr: f.corr };
    },
  },
  {
    name: 'PUBLISH to a topic with a character outside the alphabet', beforeHello: false, code: 'INVALID_TOPIC', closes: false,
    make: (rng) => {
      const chars = [...validTopic(rng, rng.between(0, 30))];
      chars.splice(rng.int(chars.length + 1), 0, rng.pick(OUTSIDE_ALPHABET));
      const f = randomPublish(rng, chars.join(''), rng.int(100));
      return { bytes: encodeFrame(f), corr: f.corr };
    },
  },
  {
    name: 'PUBLISH to a topic longer than 255 characters', beforeHello: false, code: 'INVALID_TOPIC', closes: false,
    make: (rng) => {
      const f = randomPublish(rng, validTopic(rng, rng.between(256, 1000)), rng.int(100));
      return { bytes: encodeFrame(f), corr: f.corr };
    },
  },
  {
    name: 'PUBLISH with a payload above --max-payload', beforeHello: false, code: 'PAYLOAD_TOO_LARGE', closes: false,
    make: (rng) => {
      const f = randomPublish(rng, validTopic(rng, rng.between(1, 40)), rng.between(4097, 60_000));
      return { bytes: encodeFrame(f), corr: f.corr };
    },
  },
];

/** Sends one bad case on a fresh connection; checks the code, the corr, and that the connection closes or serves on. */
async function runBadCase(hub: HubProcess, badCase: BadCase, rng: Rng): Promise<void> {
  const c = badCase.beforeHello ? await RawConnection.open(hub.port) : await RawConnection.hello(hub.port, 's3cret');
  const { bytes, corr } = badCase.make(rng);
  c.sendBytes(bytes);
  const e = await c.waitFor(isError);
  assert.equal(errorCodeFromWire(e.code), badCase.code, `error ${errorCodeFromWire(e.code)}: ${e.message}`);
  assert.equal(e.corr, corr, 'the ERROR names the request');
  if (badCase.closes) {
    await c.waitClosed();
  } else {
    c.send({ type: FrameType.PING, id: 1 });
    await c.waitFor((f) => f.type === FrameType.PONG);
    c.close();
  }
  assert.deepEqual(c.frames.filter(isError).map((x) => errorCodeFromWire(x.code)), [badCase.code], 'exactly one ERROR');
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
    const survived = !bystander.closed;
    bystander.close();
    // Stop the hub first: a failed assertion must not leave it running.
    await hub.stop();
    assert.ok(survived, 'bystander connection survived every test');
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

  it(`answers seeded random bad input with the code each case names (seed ${SEED}; replay with CORRAL_FUZZ_SEED=${SEED})`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      for (const badCase of BAD_CASES) {
        const rng = new Rng((SEED ^ Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(BAD_CASES.indexOf(badCase) + 1, 0x85ebca6b)) >>> 0);
        const label = `case "${badCase.name}" round ${i} (seed ${SEED}; replay with CORRAL_FUZZ_SEED=${SEED})`;
        try {
          await runBadCase(hub, badCase, rng);
        } catch (err) {
          throw new Error(`${label}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
      }
    }
    // The hub serves a new client, and the client connected all along still gets deliveries.
    const delivered = bystander.frames.filter((f) => f.type === FrameType.DELIVER).length;
    await stillServes(hub);
    await bystander.waitForCount((f) => f.type === FrameType.DELIVER, delivered + 1);
    assert.ok(!bystander.closed, 'the bystander connection stays open');
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

  it('refuses requests that quote a 64 KiB name with a shortened message, and serves on (found by the fuzzer)', async () => {
    const c = await RawConnection.hello(hub.port, 's3cret');
    const huge = 'q'.repeat(0xffff);
    c.send({ type: FrameType.QUERY, corr: 1, kind: huge, args: '{}' });
    const e = await expectError(c, 'UNKNOWN_QUERY', 1);
    assert.ok(e.message.length <= 1024, `message of ${e.message.length} characters`);
    c.send({ type: FrameType.PUBLISH, corr: 2, topic: huge, key: undefined, producerId: undefined, producerSeq: 0, payload: Buffer.from('x') });
    await expectError(c, 'INVALID_TOPIC', 2);
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

