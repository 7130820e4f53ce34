import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/client/index.js';
import { isCorralError } from '../../src/protocol/corral-error.js';
import { removeDir, startHub, tempDir, type HubProcess } from '../support/hub-process.js';
import { runCli } from '../support/run-cli.js';
import { throwawayCa, type ThrowawayCa } from '../support/throwaway-ca.js';

function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('TLS on the protocol and admin ports', () => {
  const dir = tempDir();
  let ca: ThrowawayCa;
  let hub: HubProcess;
  let tlsUrl: string;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    ca = throwawayCa();
    const server = ca.issue(['127.0.0.1', 'localhost']);
    file('ca.pem', ca.caCert);
    hub = await startHub({ args: ['--tls-cert', file('hub.pem', server.cert), '--tls-key', file('hub.key', server.key)] });
    tlsUrl = `corrals://127.0.0.1:${hub.port}`;
  });
  after(async () => {
    await hub.stop();
    removeDir(dir);
  });

  it('serves a client that trusts the CA: publish, subscribe, delivery', async () => {
    const client = await connect(tlsUrl, { tls: { ca: ca.caCert } });
    const sub = await client.subscribe('secure', 's', { from: 'earliest' });
    await client.publish('secure', 'over TLS');
    for await (const m of sub) {
      assert.equal(m.payload.toString(), 'over TLS');
      m.ack();
      break;
    }
    await sub.close();
    await client.close();
  });

  it('refuses, with TLS_FAILED, a certificate the client does not trust or that names another host', async () => {
    await assert.rejects(connect(tlsUrl), (err: unknown) => {
      assert.ok(isCorralError(err, 'TLS_FAILED'), String(err));
      assert.match(err.message, /certificate/i);
      return true;
    });
    const other = throwawayCa();
    const wrongName = other.issue(['hub.example']);
    const misnamed = await startHub({ args: ['--tls-cert', file('other.pem', wrongName.cert), '--tls-key', file('other.key', wrongName.key)] });
    try {
      await assert.rejects(connect(`corrals://127.0.0.1:${misnamed.port}`, { tls: { ca: other.caCert } }), (err: unknown) => {
        assert.ok(isCorralError(err, 'TLS_FAILED'), String(err));
        assert.match(err.message, /ERR_TLS_CERT_ALTNAME_INVALID/);
        return true;
      });
    } finally {
      await misnamed.stop();
    }
  });

  it('a plain client on the TLS port, and a TLS client on a plain port, fail with a clear error', async () => {
    await assert.rejects(connect(`corral://127.0.0.1:${hub.port}`, { connectTimeoutMs: 5000 }),
      (err: unknown) => isCorralError(err) && ['CONNECTION_CLOSED', 'NOT_A_HUB'].includes(err.code));
    const plain = await startHub();
    try {
      await assert.rejects(connect(`corrals://127.0.0.1:${plain.port}`, { tls: { ca: ca.caCert } }), (err: unknown) => {
        assert.ok(isCorralError(err, 'TLS_FAILED'), String(err));
        return true;
      });
    } finally {
      await plain.stop();
    }
    await assert.rejects(connect([tlsUrl, `corral://127.0.0.1:${hub.port}`]), (err: unknown) => isCorralError(err, 'INVALID_URL'));
  });

  it('serves the admin API over HTTPS, and the CLI trusts a CA given with --ca', async () => {
    const admin = new URL(hub.httpUrl);
    assert.equal(admin.protocol, 'https:');
    assert.equal(await httpsStatus(`${hub.httpUrl}/healthz`, ca.caCert), 200);
    const pub = await runCli(['pub', 'cli.secure', 'hello', '--url', tlsUrl, '--ca', join(dir, 'ca.pem')]);
    assert.equal(pub.code, 0, pub.stderr);
    const untrusted = await runCli(['pub', 'cli.secure', 'hello', '--url', tlsUrl]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /TLS_FAILED/);
  });
});
