import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { removeDir, startHub, type HubProcess } from '../support/hub-process.js';
import { runCli, spawnCli, type RunningCli } from '../support/run-cli.js';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('client commands say what went wrong and what to do', () => {
  let hub: HubProcess;
  before(async () => { hub = await startHub(); });
  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it('--url naming the admin (HTTP) port: NOT_A_HUB, not FRAME_TOO_LARGE', async () => {
    const admin = hub.httpUrl.replace('http://', '').replace(/\/$/, '');
    const r = await runCli(['pub', 't', 'x', '--url', `corral://${admin}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `corral: NOT_A_HUB: ${admin} answered with HTTP, not the Corral protocol: is it a hub's admin port? `
      + 'Use the hub\'s protocol port (corral://host:port, printed when the hub starts; 7400 by default)\n');
  });

  it('--url http://…: a usage error with a hint', async () => {
    const r = await runCli(['topics', '--url', hub.httpUrl]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is a http:\/\/ address; a hub address is corral:\/\/host:port or, with TLS, corrals:\/\/host:port \(the hub's protocol port, 7400 by default, not the admin HTTP port\)/);
  });

  it('no hub at the address: "connection refused — is a hub running at …?"', async () => {
    const port = await closedPort();
    const r = await runCli(['sub', 't', 's', '--url', `corral://127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `corral: CONNECTION_CLOSED: connection refused by 127.0.0.1:${port}: is a hub running at corral://127.0.0.1:${port}?\n`);
  });

  it('sub --from beyond the end of the topic is refused, naming the next seq', async () => {
    const url = ['--url', hub.url];
    assert.equal((await runCli(['retain', 'far', '--count', '100', ...url])).code, 0);
    assert.equal((await runCli(['pub', 'far', '-', ...url], { input: 'a\nb\n' })).code, 0);
    const beyond = await runCli(['sub', 'far', 's', '--from', '99999999', '--count', '1', ...url]);
    assert.equal(beyond.code, 1);
    assert.equal(beyond.stderr, 'corral: INVALID_ARGUMENT: --from 99999999 is beyond the end of topic far, whose next message will be seq 3; '
      + 'use --from latest to start with the next message, or a sequence number up to 3\n');
    const within = await runCli(['sub', 'far', 's', '--from', '2', '--count', '1', '--quiet', ...url]);
    assert.equal(within.code, 0, within.stderr);
    assert.equal(within.stdout, 'b\n');
  });

  /**
   * Runs `corral <args>` against a hub that is killed with SIGKILL while it
   * runs and started again on the same directory and port. `setup` runs
   * before the command starts, `before` before the kill, `after` once the
   * command said it reconnected.
   */
  async function acrossHubRestart(args: (url: string[]) => string[], steps: {
    setup?: (url: string[]) => Promise<void>;
    before?: (url: string[], cmd: RunningCli) => Promise<void>;
    after: (url: string[], cmd: RunningCli) => Promise<void>;
  }): Promise<void> {
    const restartable = await startHub();
    const url = ['--url', restartable.url];
    let cmd: RunningCli | undefined;
    let again: HubProcess | undefined;
    try {
      await steps.setup?.(url);
      const running = spawnCli(args(url));
      cmd = running;
      await steps.before?.(url, running);
      await restartable.kill('SIGKILL');
      await eventually(() => assert.match(running.stderr(), /^corral: lost the connection to the hub \(.*\); reconnecting…$/m));
      // Not silent while the hub stays away.
      await eventually(() => assert.match(running.stderr(), new RegExp(`^corral: still reconnecting to ${restartable.url} \\(\\d+ s\\); Ctrl-C to give up$`, 'm')));
      again = await startHub({ dataDir: restartable.dataDir, port: restartable.port });
      await eventually(() => assert.match(running.stderr(), new RegExp(`^corral: reconnected to hub-\\S+ at 127\\.0\\.0\\.1:${restartable.port}$`, 'm')));
      await steps.after(url, running);
    } finally {
      cmd?.child.kill('SIGKILL');
      await restartable.kill('SIGKILL');
      await again?.stop();
      removeDir(restartable.dataDir);
    }
  }

  it('sub reports losing the hub and getting it back on standard error, then carries on', async () => {
    await acrossHubRestart((url) => ['sub', 'back', 's', '--count', '1', ...url], {
      setup: async (url) => {
        assert.equal((await runCli(['sub', 'back', 's', '--count', '0', ...url])).code, 0);
      },
      before: async (url) => {
        await eventually(async () => {
          const topics = JSON.parse((await runCli(['topics', '--json', ...url])).stdout) as { topics: Array<{ topic: string; subscriptions: Array<{ attached: boolean }> }> };
          assert.equal(topics.topics.find((t) => t.topic === 'back')?.subscriptions[0]?.attached, true);
        });
      },
      after: async (url, sub) => {
        assert.equal((await runCli(['pub', 'back', 'after the restart', '--quiet', ...url])).code, 0);
        assert.equal(await sub.exited, 0);
        assert.equal(sub.stdout(), 'after the restart\n');
      },
    });
  });

  it('pub reports losing the hub and getting it back on standard error, then publishes the rest', async () => {
    await acrossHubRestart((url) => ['pub', 'onward', '-', '--print-seq', ...url], {
      before: async (url, pub) => {
        assert.equal((await runCli(['retain', 'onward', '--count', '10', ...url])).code, 0);
        pub.child.stdin!.write('before\n');
        await eventually(() => assert.equal(pub.stdout(), '1\tbefore\n'));
      },
      after: async (url, pub) => {
        pub.child.stdin!.end('after\n');
        assert.equal(await pub.exited, 0, pub.stderr());
        assert.equal(pub.stdout(), '1\tbefore\n2\tafter\n');
        assert.equal(pub.stderr().split('\n').at(-2), 'corral pub: published 2 messages to onward (seq 1-2)');
        const read = await runCli(['sub', 'onward', 'r', '--from', 'earliest', '--count', '2', '--quiet', ...url]);
        assert.equal(read.stdout, 'before\nafter\n');
      },
    });
  });
});
