import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startHub, type HubProcess } from '../support/hub-process.js';

// Compiled to dist/test/services/, three levels below the repository root.
const AD_FARM = fileURLToPath(new URL('../../../examples/ad-farm/ad-farm.mjs', import.meta.url));

interface FarmResult {
  servers: number;
  ads: Array<{ ad: string; delivered: number; overshoot: number }>;
}

describe('examples/ad-farm: HTTP ad servers with caps on tree counters', () => {
  let hub: HubProcess;
  before(async () => { hub = await startHub(); });
  after(async () => { await hub.stop(); });

  it('with early sync over the whole cap, every ad reaches its cap and overshoots by at most servers − 1', async () => {
    const servers = 3;
    const { stdout } = await promisify(execFile)(process.execPath, [
      AD_FARM, '--url', hub.url, '--servers', String(servers), '--ads', '2', '--cap', '60', '--within', '60', '--interval', '50', '--json',
    ]);
    const r = JSON.parse(stdout) as FarmResult;
    assert.equal(r.ads.length, 2);
    for (const a of r.ads) {
      assert.ok(a.delivered >= 60, `${a.ad} delivered ${a.delivered}, below its cap`);
      assert.ok(a.overshoot <= servers - 1, `${a.ad} overshot by ${a.overshoot}`);
    }
  });
});
