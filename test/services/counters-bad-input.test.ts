import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { FrameType } from '../../src/protocol/frame-type.js';
import { PROTOCOL_VERSION, type ErrorFrame, type Frame, type ServiceFrame } from '../../src/protocol/frames.js';
import { decodeServiceMessage, encodeServiceMessage } from '../../src/protocol/service-envelope.js';
import { Counters } from '../../src/services/counters/counters.js';
import {
  CountersFrame, decodeRegistered, decodeSubscribed, encodeRegister, encodeSubscribe, encodeSync, MAX_BATCH,
} from '../../src/services/counters/counters-frames.js';
import { startHub, type HubProcess } from '../support/hub-process.js';
import { RawConnection } from '../support/raw-connection.js';

const RESOURCE = 'counters|bad-input';
const isError = (corr: number) => (f: Frame): f is ErrorFrame => f.type === FrameType.ERROR && f.corr === corr;
const isReply = (corr: number) => (f: Frame): f is ServiceFrame => 'service' in f && f.corr === corr;

describe('tree counters: bad input on a standalone hub', () => {
  let hub: HubProcess;
  let raw: RawConnection;
  let corr = 1;
  let token = 0;
  let variable = 0;
  let bystander: Client;
  let member: Counters;

  const ask = async (type: number, payload: Buffer): Promise<ServiceFrame | ErrorFrame> => {
    const mine = ++corr;
    raw.sendBytes(encodeServiceMessage({ type, corr: mine, resource: RESOURCE, payload }));
    return raw.waitFor((f): f is ServiceFrame | ErrorFrame => isReply(mine)(f) || isError(mine)(f));
  };

  before(async () => {
    hub = await startHub();
    raw = await RawConnection.open(hub.port);
    raw.send({ type: FrameType.HELLO, version: PROTOCOL_VERSION, token: '', client: 'raw', features: ['counters'] });
    const reg = await ask(CountersFrame.REGISTER, encodeRegister('raw-member', 0));
    token = decodeRegistered(decodeServiceMessage(reg as ServiceFrame).payload).token;
    const sub = await ask(CountersFrame.SUBSCRIBE, encodeSubscribe(token, ['v']));
    variable = decodeSubscribed(decodeServiceMessage(sub as ServiceFrame).payload)[0]!;
    bystander = await connect(hub.url);
    member = await Counters.join(bystander, { memberId: 'bystander', partition: 'bad-input', syncIntervalMs: 3_600_000 });
    await member.subscribe('v');
  });
  after(async () => {
    raw.close();
    await bystander.close();
    await hub.stop();
  });

  const huge = Array.from({ length: MAX_BATCH + 1 }, (_, i) => [1, BigInt(i)] as const);
  const cases: Array<{ what: string; type: number; payload: () => Buffer; code: keyof typeof ERROR_CODES; mentions: RegExp }> = [
    { what: 'SYNC with an unknown member token', type: CountersFrame.SYNC, payload: () => encodeSync({ token: (token ^ 1) >>> 0, seq: 1, flags: 0, entries: [] }), code: 'UNKNOWN_MEMBER_TOKEN', mentions: /not registered/ },
    { what: 'SUBSCRIBE with an unknown member token', type: CountersFrame.SUBSCRIBE, payload: () => encodeSubscribe(7, ['v']), code: 'UNKNOWN_MEMBER_TOKEN', mentions: /7/ },
    { what: 'SYNC naming a variable token never issued', type: CountersFrame.SYNC, payload: () => encodeSync({ token, seq: 1, flags: 0, entries: [[999, 1n]] }), code: 'UNKNOWN_VARIABLE_TOKEN', mentions: /999/ },
    { what: 'SYNC with more entries than a batch may carry', type: CountersFrame.SYNC, payload: () => encodeSync({ token, seq: 1, flags: 0, entries: huge }), code: 'BATCH_TOO_LARGE', mentions: /16384/ },
    { what: 'SYNC whose entries are cut short', type: CountersFrame.SYNC, payload: () => encodeSync({ token, seq: 1, flags: 0, entries: [[variable, 5n]] }).subarray(0, 20), code: 'BAD_FRAME', mentions: /entries need/ },
    { what: 'REGISTER with an empty member id', type: CountersFrame.REGISTER, payload: () => encodeRegister('', 0), code: 'INVALID_COUNTER_NAME', mentions: /member id/ },
    { what: 'SUBSCRIBE to a variable name with a space', type: CountersFrame.SUBSCRIBE, payload: () => encodeSubscribe(token, ['bad name']), code: 'INVALID_COUNTER_NAME', mentions: /bad name/ },
    { what: 'REGISTER naming a superseded epoch', type: CountersFrame.REGISTER, payload: () => encodeRegister('raw-member', 99), code: 'LINK_REFUSED', mentions: /superseded/ },
    { what: 'a frame of the range the service does not know', type: 0x5f, payload: () => Buffer.alloc(0), code: 'UNKNOWN_FRAME_TYPE', mentions: /0x5f/ },
  ];
  for (const c of cases) {
    it(`${c.what}: ERROR ${c.code}; nothing applied, and the connection, the hub and other members carry on`, async () => {
      const err = await ask(c.type, c.payload());
      assert.equal(err.type, FrameType.ERROR);
      assert.equal((err as ErrorFrame).code, ERROR_CODES[c.code].wire);
      assert.match((err as ErrorFrame).message, c.mentions);
      // The same connection still exchanges, and the bystander reads the global value untouched by the bad frame.
      const ok = await ask(CountersFrame.SYNC, encodeSync({ token, seq: ++corr, flags: 0, entries: [[variable, 5n]] }));
      assert.equal(ok.type, CountersFrame.SYNC_REPLY);
      member.increment('v', 1n);
      await member.sync();
      assert.equal(member.value('v'), 5n + member.local('v'));
    });
  }
});
