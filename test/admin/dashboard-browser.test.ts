import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { connect, Gate, type Client } from '../../src/client/index.js';
import type { HubsResult, StatsResult, TopicsResult } from '../../src/protocol/query-results.js';
import { eventually } from '../support/eventually.js';
import { CLI, removeDir, startHub, type HubProcess } from '../support/hub-process.js';
import { runCli } from '../support/run-cli.js';

/** Set to a directory to keep screenshots (docs/dashboard.png is made this way). */
const SCREENSHOTS = process.env.CORRAL_SCREENSHOT_DIR;
const fmt = (n: number): string => n.toLocaleString('en-US');

type Row = Record<string, string>;

// Page-side code is passed as text: the tests compile without the DOM's types.
async function tableRows(page: Page, testid: string): Promise<Row[]> {
  return page.evaluate(`[...document.querySelectorAll('[data-testid=${testid}] tbody tr')]
    .map((r) => Object.fromEntries([...r.cells].map((c) => [c.dataset.col, c.textContent])))`) as Promise<Row[]>;
}

async function text(page: Page, selector: string): Promise<string> {
  return page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? ''`) as Promise<string>;
}

async function cardValue(page: Page, testid: string): Promise<string> {
  return text(page, `[data-testid=${testid}] .value`);
}

async function api<T>(hub: HubProcess, path: string): Promise<T> {
  return (await (await fetch(`${hub.httpUrl}${path}`)).json()) as T;
}

/** Publishes on `topic` until stopped, a window of 20 in flight. */
function publishing(client: Client, topic: string): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    let n = 0;
    while (!stopped) await Promise.all(Array.from({ length: 20 }, () => client.publish(topic, `m${++n}`)));
  })();
  return { stop: async () => { stopped = true; await loop; } };
}

describe('the dashboard at the admin port, in a real browser', () => {
  let hub: HubProcess;
  let browser: Browser;
  let page: Page;
  let consumer: ChildProcess | undefined;

  before(async () => {
    hub = await startHub();
    browser = await puppeteer.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
    page = await browser.newPage();
  });
  after(async () => {
    consumer?.kill('SIGKILL');
    await browser?.close();
    await hub?.stop();
    if (hub) removeDir(hub.dataDir);
  });

  it('shows rates while messages flow, then exactly what the API says: hub, topics, subscriptions and backlogs', async () => {
    const url = ['--url', hub.url];
    assert.equal((await runCli(['sub', 'flow', 'lagging', '--count', '0', '--quiet', ...url])).code, 0);
    consumer = spawn(process.execPath, [CLI, 'sub', 'flow', 'worker', '--quiet', ...url], { stdio: 'ignore' });
    await eventually(async () => assert.equal((await api<TopicsResult>(hub, '/api/topics')).topics[0]?.subscriptions.find((s) => s.name === 'worker')?.attached, true));
    const client = await connect(hub.url);
    const flow = publishing(client, 'flow');
    try {
      await page.setViewport({ width: 1280, height: 860 });
      await page.goto(`${hub.httpUrl}/`);
      await eventually(async () => {
        assert.match(await cardValue(page, 'publish-rate'), /^[1-9][\d,]*\/s$/);
        assert.match(await cardValue(page, 'deliver-rate'), /^[1-9][\d,]*\/s$/);
      }, 30_000);
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png') });
    } finally {
      await flow.stop();
      await client.close();
    }

    await eventually(async () => {
      const [topics, stats, hubs] = await Promise.all([
        api<TopicsResult>(hub, '/api/topics'), api<StatsResult>(hub, '/api/stats'), api<HubsResult>(hub, '/api/hubs'),
      ]);
      assert.equal(topics.topics.find((t) => t.topic === 'flow')?.subscriptions.find((s) => s.name === 'worker')?.backlog, 0, 'the worker caught up');
      assert.deepEqual(await tableRows(page, 'topics'), topics.topics.map((t) => ({
        topic: t.topic, owner: t.owner ?? '-', first: t.stored === 0 ? '-' : fmt(t.firstSeq), last: fmt(t.lastSeq), stored: fmt(t.stored),
        subscriptions: String(t.subscriptions.length), backlog: fmt(Math.max(0, ...t.subscriptions.map((s) => s.backlog))),
      })));
      assert.deepEqual(await tableRows(page, 'subscriptions'), topics.topics.flatMap((t) => t.subscriptions.map((s) => ({
        topic: t.topic, subscription: s.name, acked: fmt(s.ackedSeq), backlog: fmt(s.backlog), attached: s.attached ? 'yes' : 'no',
      }))));
      assert.deepEqual((await tableRows(page, 'hubs')).map((h) => [h.hub, h.pid]), hubs.hubs.map((h) => [h.hubId, String(h.pid)]));
      assert.equal(await cardValue(page, 'topics'), fmt(stats.topics));
      assert.equal(await cardValue(page, 'subscriptions'), fmt(stats.subscriptions));
      assert.equal(await cardValue(page, 'stored'), fmt(stats.storedMessages));
      assert.equal(await text(page, '#hub'), stats.hubId);
    }, 30_000);
    const lagging = (await tableRows(page, 'subscriptions')).find((s) => s.subscription === 'lagging')!;
    assert.notEqual(lagging.backlog, '0', 'a subscription nobody reads shows its backlog');
  });

  it('shows every gate of the farm: holders against the limit, waiting, admissions', async () => {
    const client = await connect(hub.url);
    try {
      const gate = Gate.open(client, 'checkout');
      await gate.create({ limit: 2 });
      const held = [await gate.acquire(), await gate.acquire()];
      const waiter = await gate.enqueue();
      await page.goto(`${hub.httpUrl}/`);
      const shown = async (): Promise<Record<string, string> | undefined> => (await tableRows(page, 'gates')).find((g) => g.gate === 'checkout');
      await eventually(async () => {
        const row = await shown();
        assert.deepEqual([row?.holders, row?.waiting, row?.['before opening'], row?.admitted], ['2 / 2', '1', '0', '2']);
        assert.match(row?.['admitted/s'] ?? '', /^(…|\d[\d,]*\/s)$/);
      });
      await held[0]!.release();
      const third = await waiter.admitted;
      await eventually(async () => {
        const stored = (await api<{ gates: Array<{ gate: string; holders: number; waiting: number; admissions: number }> }>(hub, '/api/gates/stored')).gates
          .find((g) => g.gate === 'gate|checkout')!;
        const row = await shown();
        assert.deepEqual([row?.holders, row?.waiting, row?.admitted], [`${stored.holders} / 2`, String(stored.waiting), String(stored.admissions)]);
        assert.deepEqual([stored.holders, stored.waiting, stored.admissions], [2, 0, 3]);
      });
      await third.release();
      await held[1]!.release();
      gate.close();
    } finally {
      await client.close();
    }
  });

  it('fits a phone screen: no sideways scrolling of the page, tables scroll inside their panel', async () => {
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await page.reload();
    await page.waitForSelector('[data-testid=topics]');
    const { scrollWidth, innerWidth } = await page.evaluate('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })') as { scrollWidth: number; innerWidth: number };
    assert.ok(scrollWidth <= innerWidth, `page is ${scrollWidth} px wide on a ${innerWidth} px screen`);
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-phone.png'), fullPage: true });
  });

  it('says so when the hub goes away', async () => {
    await hub.stop();
    await eventually(async () => assert.match(await text(page, '#status'), /^hub unreachable/));
  });
});
