import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type Client } from '../../src/client/index.js';
import { isCorralError } from '../../src/protocol/corral-error.js';
import type { ErrorCode } from '../../src/protocol/error-codes.js';
import { FarmClock } from '../../src/services/clock/farm-clock.js';
import { removeDir, startHub, tempDir, type HubProcess } from '../support/hub-process.js';
import { runCli } from '../support/run-cli.js';

const SHOP = 'shop-secret-1';
const OPS = 'ops-secret-22';

async function refused(what: Promise<unknown>, code: ErrorCode, mentions: RegExp): Promise<void> {
  await assert.rejects(what, (err: unknown) => {
    assert.ok(isCorralError(err, code), `expected ${code}, got ${String(err)}`);
    assert.match(err.message, mentions);
    return true;
  });
}

describe('credentials: who may connect, and what each may do', () => {
  const dir = tempDir();
  let hub: HubProcess;
  const clients: Client[] = [];
  const as = async (token: string): Promise<Client> => {
    const c = await connect(hub.url, { token });
    clients.push(c);
    return c;
  };

  before(async () => {
    const credentials = join(dir, 'credentials.json');
    writeFileSync(credentials, JSON.stringify({
      credentials: [
        { name: 'shop', token: SHOP, publish: ['orders.*'], subscribe: ['prices.*', 'audit'], services: ['clock'] },
        // The file may hold the token's SHA-256 rather than the token.
        { name: 'ops', tokenSha256: createHash('sha256').update(OPS).digest('hex'), admin: true },
      ],
    }));
    hub = await startHub({ args: ['--credentials', credentials] });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await hub.stop();
    removeDir(dir);
  });

  it('refuses a token no credential has, and a missing one', async () => {
    await refused(connect(hub.url, { token: 'shop-secret-2' }), 'UNAUTHORIZED', /token/);
    await refused(connect(hub.url), 'UNAUTHORIZED', /token/);
  });

  it('lets a credential publish, subscribe and use services by its patterns only; each refusal is FORBIDDEN and the connection carries on', async () => {
    const shop = await as(SHOP);
    assert.ok(((await shop.publish('orders.1', 'x')).seq ?? 0) >= 1);
    await refused(shop.publish('prices.1', 'x'), 'FORBIDDEN', /"shop" may not publish to topic prices\.1/);
    await refused(shop.publish('orders', 'x'), 'FORBIDDEN', /publish to topic orders$/);
    await refused(shop.subscribe('orders.1', 's'), 'FORBIDDEN', /subscribe to topic orders\.1/);
    const sub = await shop.subscribe('prices.eu', 's', { from: 'earliest' });
    await sub.close();
    await (await shop.subscribe('audit', 's')).close();
    const clock = await FarmClock.start(shop);
    assert.ok(Number.isFinite(clock.read().now));
    clock.close();
    await refused(shop.service('counters').request(0x50, 'counters|p', Buffer.alloc(0)), 'FORBIDDEN', /use the counters service/);
    await refused(shop.query('topics'), 'FORBIDDEN', /query topics \(an admin credential may\)/);
    await refused(shop.configureTopic('orders.1', { retainCount: 5 }), 'FORBIDDEN', /manage topic orders\.1/);
    await refused(shop.deleteTopic('orders.1'), 'FORBIDDEN', /manage topic orders\.1/);
    assert.ok(((await shop.publish('orders.1', 'after the refusals')).seq ?? 0) >= 2, 'the connection carries on');
  });

  it('lets an admin credential do everything', async () => {
    const ops = await as(OPS);
    await ops.publish('anything', 'x');
    const topics = (await ops.query('topics')) as { topics: Array<{ topic: string }> };
    assert.ok(topics.topics.some((t) => t.topic === 'orders.1'));
    await ops.configureTopic('anything', { retainCount: 1 });
  });

  it('answers the admin API to an admin credential only; /healthz stays open', async () => {
    const get = (path: string, authorization?: string): Promise<Response> =>
      fetch(`${hub.httpUrl}${path}`, { headers: authorization === undefined ? {} : { authorization } });
    const none = await get('/api/topics');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="corral admin"/);
    assert.equal((await get('/metrics', 'Bearer wrong')).status, 401);
    assert.equal((await get('/', `Bearer ${SHOP}`)).status, 403);
    assert.equal((await get('/api/topics', `Bearer ${OPS}`)).status, 200);
    assert.equal((await get('/api/stats', `Basic ${Buffer.from(`any:${OPS}`).toString('base64')}`)).status, 200);
    assert.equal((await get('/healthz')).status, 200);
  });

  it('the CLI takes its token from a file', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${OPS}\n`);
    const ok = await runCli(['topics', '--url', hub.url, '--token-file', file]);
    assert.equal(ok.code, 0, ok.stderr);
    writeFileSync(file, `${SHOP}\n`);
    const forbidden = await runCli(['topics', '--url', hub.url, '--token-file', file]);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /FORBIDDEN: credential "shop" may not query topics/);
  });
});

describe('corral start: tokens and credentials files', () => {
  const dir = tempDir();
  after(() => removeDir(dir));

  it('reads the shared token from a file, and refuses a bad credentials file with a clear message', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'from-a-file\n');
    const hub = await startHub({ args: ['--token-file', tokenFile] });
    try {
      const c = await connect(hub.url, { token: 'from-a-file' });
      await c.publish('t', 'x');
      await c.close();
      await refused(connect(hub.url, { token: 'from-a-file\n' }), 'UNAUTHORIZED', /token/);
    } finally {
      await hub.stop();
    }
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ credentials: [{ name: 'x', token: 'a', tokenSha256: 'b' }] }));
    const run = await runCli(['start', '--data', join(dir, 'data'), '--port', '0', '--http-port', '0', '--credentials', bad], { timeoutMs: 20_000 });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /credential 1 \(x\): give exactly one of "token" \(non-empty\) or "tokenSha256"/);
  });

  it('refuses a peer token given twice (flag and environment) and --tls-ca without TLS (from the config file), with clear messages', async () => {
    const start = ['start', '--data', join(dir, 'peer-data'), '--port', '0', '--http-port', '0'];
    const peerTokenFile = join(dir, 'peer-token');
    writeFileSync(peerTokenFile, 'peer\n');
    const twice = await runCli([...start, '--peer-token-file', peerTokenFile], { env: { CORRAL_PEER_TOKEN: 'peer' }, timeoutMs: 20_000 });
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /give the peer token once: --peer-token \(CORRAL_PEER_TOKEN\) or --peer-token-file/);
    const config = join(dir, 'corral.json');
    writeFileSync(config, JSON.stringify({ 'tls-ca': join(dir, 'ca.pem') }));
    const noTls = await runCli([...start, '--config', config], { timeoutMs: 20_000 });
    assert.equal(noTls.code, 1);
    assert.match(noTls.stderr, /--tls-ca .* needs --tls-cert and --tls-key/);
  });
});
