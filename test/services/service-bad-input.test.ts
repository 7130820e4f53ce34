import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import { PROTOCOL_VERSION, type ErrorFrame, type Frame, type ServiceFrame, type WelcomeFrame } from '../../src/protocol/frames.js';
import { decodeServiceMessage, encodeServiceMessage } from '../../src/protocol/service-envelope.js';
import { ClockFrame, decodeTimeReply, encodeTimeRequest, FARM_CLOCK } from '../../src/services/clock/clock-frames.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

const isError = (corr: number) => (f: Frame): f is ErrorFrame => f.type === FrameType.ERROR && f.corr === corr;

function sendService(c: RawConnection, type: number, corr: number, resource: string, payload: Buffer): void {
  c.sendBytes(encodeServiceMessage({ type, corr, resource, payload }));
}

describe('service bad input on a standalone hub', () => {
  let hub: HubProcess;
  let raw: RawConnection;
  let bystander: Client;
  before(async () => {
    hub = await startHub();
    raw = await RawConnection.open(hub.port);
    raw.send({ type: FrameType.HELLO, version: PROTOCOL_VERSION, token: '', client: 'raw', features: ['clock', 'sync', 'bridge', 'x-unknown'] });
    bystander = await connect(hub.url);
  });
  after(async () => {
    raw.close();
    await bystander.close();
    await hub.stop();
  });

  it('WELCOME grants the requested services the hub runs, and nothing else', async () => {
    const w = await raw.waitFor((f): f is WelcomeFrame => f.type === FrameType.WELCOME);
    assert.deepEqual(w.features, ['clock', 'sync']);
  });

  const cases: Array<{ what: string; send(corr: number): void; code: keyof typeof ERROR_CODES; mentions: RegExp }> = [
    { what: 'a service the hub does not run', send: (corr) => sendService(raw, 0x80, corr, 'bridge|mqtt', Buffer.alloc(0)), code: 'UNKNOWN_SERVICE', mentions: /bridge/ },
    { what: 'an unknown frame in the clock range', send: (corr) => sendService(raw, 0x9e, corr, FARM_CLOCK, Buffer.alloc(0)), code: 'UNKNOWN_FRAME_TYPE', mentions: /0x9e/ },
    { what: 'a malformed TIME_REQUEST body', send: (corr) => sendService(raw, ClockFrame.TIME_REQUEST, corr, FARM_CLOCK, Buffer.from([1, 2, 3])), code: 'BAD_FRAME', mentions: /8 bytes/ },
    { what: 'a body too short to hold the resource', send: (corr) => raw.send({ type: ClockFrame.TIME_REQUEST, service: 'clock', corr, body: Buffer.from([0, 9, 65]) }), code: 'BAD_FRAME', mentions: /truncated/ },
    { what: 'a resource name with a space', send: (corr) => sendService(raw, ClockFrame.TIME_REQUEST, corr, 'clock|bad name', encodeTimeRequest(1)), code: 'INVALID_RESOURCE', mentions: /bad name/ },
    { what: 'a resource without a kind', send: (corr) => sendService(raw, ClockFrame.TIME_REQUEST, corr, 'farm', encodeTimeRequest(1)), code: 'INVALID_RESOURCE', mentions: /<kind>\|<name>/ },
    { what: 'another service\'s kind', send: (corr) => sendService(raw, ClockFrame.TIME_REQUEST, corr, 'gate|farm', encodeTimeRequest(1)), code: 'INVALID_RESOURCE', mentions: /"clock"/ },
  ];
  let corr = 100;
  for (const c of cases) {
    it(`${c.what}: ERROR ${c.code}, and the connection, the hub and other clients carry on`, async () => {
      const mine = ++corr;
      c.send(mine);
      const err = await raw.waitFor(isError(mine));
      assert.equal(err.code, ERROR_CODES[c.code].wire);
      assert.match(err.message, c.mentions);
      const ok = ++corr;
      sendService(raw, ClockFrame.TIME_REQUEST, ok, FARM_CLOCK, encodeTimeRequest(42));
      const reply = await raw.waitFor((f): f is ServiceFrame => 'service' in f && f.corr === ok);
      assert.equal(reply.type, ClockFrame.TIME_REPLY);
      assert.equal(decodeTimeReply(decodeServiceMessage(reply).payload).clientTime, 42);
      assert.ok(((await bystander.publish('bystander', 'still here')).seq ?? 0) > 0);
    });
  }

  it('the client library names a service the hub does not run', async () => {
    await assert.rejects(bystander.service('bridge').request(0x80, 'bridge|mqtt'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'UNKNOWN_SERVICE');
      assert.match(err.message, /does not run the bridge service/);
      return true;
    });
    await assert.rejects(bystander.service('clock').request(ClockFrame.TIME_REQUEST, 'clock|bad name', encodeTimeRequest(1)), { code: 'INVALID_RESOURCE' });
    await assert.rejects(async () => bystander.service('nonesuch'), { code: 'UNKNOWN_SERVICE' });
  });
});
