import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type Client, type ConnectOptions } from '../../src/client/index.js';
import { Counters } from '../../src/services/counters/counters.js';
import type { TreeView } from '../../src/services/counters/counters-frames.js';
import { eventually } from '../support/eventually.js';
import { removeDir, tempDir, type HubProcess } from '../support/hub-process.js';
import { runCli } from '../support/run-cli.js';
import { clusterFixture, startCluster, urlOf } from '../support/service-test-kit.js';
import { throwawayCa, type ThrowawayCa } from '../support/throwaway-ca.js';

const SHARED = 'cluster-secret-7';
const APP = 'app-secret-31';
const PEER = 'peer-secret-59';
const CLOCK_ONLY = 'clock-secret-83';
const FAST = ['--counters-branch-interval', '50'];
let partitions = 0;

/** One line of a hub's JSON log (pino). */
interface LogLine { level: number; msg: string; branch?: string; err?: { code?: string } }

function logLines(hub: HubProcess): LogLine[] {
  return hub.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
}

describe('counter branches reach a parent on another hub of a secured cluster', () => {
  const fx = clusterFixture();
  const dir = tempDir();
  let ca: ThrowawayCa;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  let credentials = '';

  before(() => {
    ca = throwawayCa();
    credentials = file('credentials.json', JSON.stringify({
      credentials: [
        { name: 'app', token: APP, services: ['counters'] },
        { name: 'hubs', token: PEER, services: ['counters'] },
        { name: 'clock-reader', token: CLOCK_ONLY, services: ['clock'] },
      ],
    }));
  });
  after(() => removeDir(dir));

  const client = async (hubs: HubProcess[], options: ConnectOptions, scheme = 'corral'): Promise<Client> => {
    const c = await connect(urlOf(hubs).replace(/^corral:/, `${scheme}:`), { reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, ...options });
    fx.clients.push(c);
    return c;
  };

  /**
   * A branch of `partition` owned by another hub than the partition's root.
   * Placement is by load and a hash of the name, so branch names are tried
   * until one lands elsewhere (reading a resource's tree makes a hub own it;
   * the tree names its hub).
   */
  const branchAwayFromRoot = async (c: Client, partition: string): Promise<string> => {
    const root = await Counters.readTree(c, partition);
    for (let k = 1; k <= 40; k++) {
      const branch = `rack-${k}`;
      if ((await Counters.readTree(c, partition, branch)).hubId !== root.hubId) return branch;
    }
    return assert.fail(`every branch of ${partition} landed on the root's hub`);
  };

  /** A member on the branch and one on the root each count; both read the exact sum, and the root holds the branch's total. */
  const sumsAcrossHubs = async (c: Client): Promise<void> => {
    const partition = `secure${++partitions}`;
    const branch = await branchAwayFromRoot(c, partition);
    const edge = await Counters.join(c, { memberId: 'edge', partition, branch, syncIntervalMs: 30 });
    const core = await Counters.join(c, { memberId: 'core', partition, syncIntervalMs: 30 });
    await edge.subscribe('hits');
    await core.subscribe('hits');
    edge.increment('hits', 5n);
    core.increment('hits', 3n);
    await eventually(async () => {
      await edge.sync();
      await core.sync();
      assert.equal(edge.value('hits'), 8n, `the branch's member reads ${edge.value('hits')}`);
      assert.equal(core.value('hits'), 8n, `the root's member reads ${core.value('hits')}`);
    });
    const root = await Counters.readTree(c, partition);
    // The branches tried before it (on the root's hub) are members too, with nothing delivered.
    assert.deepEqual(root.members.filter((m) => m.totals.hits !== undefined).map((m) => [m.memberId, m.totals.hits]).sort(), [[`branch:${branch}`, '5'], ['core', '3']]);
    const below = await Counters.readTree(c, partition, branch);
    assert.equal(below.up?.error, undefined);
  };

  /**
   * The branch does not link: its hub logs the refusal at error level
   * naming the branch and `mentions`, the branch's tree shows the error
   * (`corral counters --branch` too), and the root never hears of it (the
   * branches tried before it, on the root's hub, link as ever).
   */
  const refusedUpward = async (c: Client, hubs: HubProcess[], code: string, mentions: RegExp, cliArgs: string[]): Promise<void> => {
    const partition = `refused${++partitions}`;
    const branch = await branchAwayFromRoot(c, partition);
    let tree: TreeView | undefined;
    await eventually(async () => {
      tree = await Counters.readTree(c, partition, branch);
      assert.equal(tree.up?.error?.code, code, JSON.stringify(tree.up));
    });
    assert.match(tree!.up!.error!.message, mentions);
    await eventually(() => {
      const line = hubs.flatMap(logLines).find((l) => l.branch === `${partition}/${branch}` && l.level >= 50);
      assert.ok(line, `no error line about ${branch} in\n${hubs.map((h) => h.stderr()).join('')}`);
      assert.equal(line.err?.code, code);
      assert.match(line.msg, mentions);
    });
    const root = await Counters.readTree(c, partition);
    assert.ok(!root.members.some((m) => m.memberId === `branch:${branch}`), `the root lists ${root.members.map((m) => m.memberId).join(', ')}`);
    const shown = await runCli(['counters', partition, '--branch', branch, ...cliArgs]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^branch ${branch}: .*NOT LINKED: ${code}`, 'm'));
  };

  it('a shared --token: the hubs present it to each other, and a branch on another hub than the root links up', async () => {
    const hubs = await startCluster(fx, 2, [...FAST, '--token', SHARED]);
    await sumsAcrossHubs(await client(hubs, { token: SHARED }));
  });

  it('TLS and a shared token: the hubs verify each other against --tls-ca, and the branch links up', async () => {
    const server = ca.issue(['127.0.0.1']);
    const tls = ['--tls-cert', file('hub.pem', server.cert), '--tls-key', file('hub.key', server.key), '--tls-ca', file('ca.pem', ca.caCert)];
    const hubs = await startCluster(fx, 2, [...FAST, ...tls, '--token', SHARED]);
    await sumsAcrossHubs(await client(hubs, { token: SHARED, tls: { ca: ca.caCert } }, 'corrals'));
  });

  it('TLS with a --tls-ca that did not sign the other hubs\' certificates: the peer is refused and the refusal logged', async () => {
    const server = ca.issue(['127.0.0.1']);
    const stranger = throwawayCa();
    const tls = ['--tls-cert', file('hub2.pem', server.cert), '--tls-key', file('hub2.key', server.key), '--tls-ca', file('other-ca.pem', stranger.caCert)];
    const hubs = await startCluster(fx, 2, [...FAST, ...tls, '--token', SHARED]);
    const c = await client(hubs, { token: SHARED, tls: { ca: ca.caCert } }, 'corrals');
    await refusedUpward(c, hubs, 'TLS_FAILED', /--tls-ca/, ['--url', urlOf(hubs).replace(/^corral:/, 'corrals:'), '--token', SHARED, '--ca', file('ca.pem', ca.caCert)]);
  });

  it('--credentials with a --peer-token whose credential may use the counters service: the branch links up', async () => {
    const hubs = await startCluster(fx, 2, [...FAST, '--credentials', credentials, '--peer-token', PEER]);
    await sumsAcrossHubs(await client(hubs, { token: APP }));
    // No start-up warning about a missing peer token, and no refusal (other warnings of a busy machine are not this test's).
    for (const h of hubs) assert.deepEqual(logLines(h).filter((l) => l.level >= 40 && /peer|branch/.test(l.msg)), [], h.stderr());
  });

  it('--credentials with a peer token lacking the counters permission: the parent refuses (FORBIDDEN), logged and shown in the branch\'s tree', async () => {
    const hubs = await startCluster(fx, 2, [...FAST, '--credentials', credentials, '--peer-token-file', file('peer-token', `${CLOCK_ONLY}\n`)]);
    const c = await client(hubs, { token: APP });
    await refusedUpward(c, hubs, 'FORBIDDEN', /counters/, ['--url', urlOf(hubs), '--token', APP]);
  });

  it('--credentials and no peer token: the branch fails loudly, naming --peer-token', async () => {
    const hubs = await startCluster(fx, 2, [...FAST, '--credentials', credentials]);
    const c = await client(hubs, { token: APP });
    await refusedUpward(c, hubs, 'UNAUTHORIZED', /--peer-token/, ['--url', urlOf(hubs), '--token', APP]);
    // Each hub said so at start too, before any branch tried.
    for (const h of hubs) assert.ok(logLines(h).some((l) => l.level === 40 && /no --peer-token/.test(l.msg)), h.stderr());
  });
});
