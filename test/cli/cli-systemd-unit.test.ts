import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../../src/cli/start-command.js';
import { eventually } from '../support/eventually.js';
import { removeDir, tempDir } from '../support/hub-process.js';
import { runCli, spawnCli } from '../support/run-cli.js';

// Compiled to dist/test/cli/, three levels below the repository root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UNIT = join(ROOT, 'docs', 'examples', 'corral.service');

/** The [Service] section of the example unit: each key's values, in order. */
function serviceSection(): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const raw of readFileSync(UNIT, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      section = line;
      continue;
    }
    if (section !== '[Service]') continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    keys.set(key, [...(keys.get(key) ?? []), line.slice(eq + 1)]);
  }
  return keys;
}

function only(unit: Map<string, string[]>, key: string): string {
  const values = unit.get(key) ?? [];
  assert.equal(values.length, 1, `${key}= once in ${UNIT}`);
  return values[0]!;
}

/**
 * No systemd here: the test runs the unit's ExecStart with the unit's
 * Environment (the paths moved to a temp directory) and stops it the way
 * systemd would, so a renamed option, variable or entry point breaks it.
 */
describe('docs/examples/corral.service', () => {
  const work = tempDir();
  after(() => removeDir(work));

  it('starts a hub from its ExecStart and Environment, which stops cleanly on its KillSignal', async () => {
    const unit = serviceSection();
    const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { corral: string } }).bin.corral;
    const [node, main, ...args] = only(unit, 'ExecStart').split(/\s+/);
    assert.match(node!, /\/node$/);
    assert.equal(main, `/opt/corral/node_modules/corral/${bin}`, 'ExecStart runs the installed package\'s CLI');
    assert.deepEqual(args, ['start']);

    const env = Object.fromEntries((unit.get('Environment') ?? []).map((e) => e.split('=') as [string, string]));
    assert.deepEqual(Object.keys(env).sort(), ['CORRAL_CONFIG', 'CORRAL_DATA']);
    assert.equal(env.CORRAL_DATA, `/var/lib/${only(unit, 'StateDirectory')}`, 'the data directory is the one systemd creates');
    const data = join(work, 'var-lib-corral');
    const config = join(work, 'corral.json');
    // Ports 0: the test must not need 7400/7401 free.
    writeFileSync(config, JSON.stringify({ port: 0, 'http-port': 0, 'log-level': 'warn' }));
    const hub = spawnCli([...args, '--exit-with-parent'], { CORRAL_DATA: data, CORRAL_CONFIG: config });
    try {
      await eventually(() => assert.match(hub.stdout(), /^ {2}data {6}\S+$/m, hub.stderr()));
      assert.match(hub.stdout(), new RegExp(`^ {2}data {6}${data}$`, 'm'), 'the data directory comes from CORRAL_DATA');
      const url = /corral:\/\/\S+/.exec(hub.stdout())![0];
      assert.equal((await runCli(['pub', 'unit', 'served', '--quiet', '--url', url])).code, 0);

      const signal = only(unit, 'KillSignal') as NodeJS.Signals;
      hub.child.kill(signal);
      // Exit 0: Restart=on-failure leaves a stopped hub stopped.
      assert.equal(await hub.exited, 0, hub.stderr());
      assert.equal(only(unit, 'Restart'), 'on-failure');
    } finally {
      hub.child.kill('SIGKILL');
    }
  });

  it('gives the hub longer to stop than the hub gives itself, so a stuck stop is reported, not cut short', () => {
    const unit = serviceSection();
    const stopSec = Number(only(unit, 'TimeoutStopSec'));
    assert.ok(stopSec * 1000 > DEFAULT_SHUTDOWN_TIMEOUT_MS, `TimeoutStopSec=${stopSec} exceeds --shutdown-timeout (${DEFAULT_SHUTDOWN_TIMEOUT_MS} ms)`);
  });
});
