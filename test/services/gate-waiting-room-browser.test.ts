import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { eventually } from '../support/eventually.js';
import { startHub, type HubProcess } from '../support/hub-process.js';

const SHOP = fileURLToPath(new URL('../../examples/gates/plain-http.js', import.meta.url));

async function startShop(hub: HubProcess): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [SHOP], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CORRAL_URL: hub.url, GATE: 'shop', GATE_LIMIT: '1', PORT: '0', WAITING_ROOM_SECRET: 'a test secret of at least thirty-two characters' },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/\S+/.exec(out);
      if (m) resolve(m[0]);
    });
    child.once('exit', (code) => reject(new Error(`the shop exited with ${code}`)));
  });
  return { child, url };
}

async function text(page: Page, testid: string): Promise<string> {
  return page.evaluate(`document.querySelector('[data-testid=${testid}]')?.textContent ?? ''`) as Promise<string>;
}

describe('the waiting room in a real browser', () => {
  let hub: HubProcess;
  let shop: { child: ChildProcess; url: string };
  let browser: Browser;

  before(async () => {
    hub = await startHub();
    shop = await startShop(hub);
    // Without --single-process, so each visitor can have its own browser context (its own cookies).
    browser = await puppeteer.launch({ executablePath: await chromium.executablePath(), args: chromium.args.filter((a) => a !== '--single-process' && a !== '--no-zygote'), headless: true });
  });
  after(async () => {
    await browser?.close();
    shop?.child.kill('SIGKILL');
    await hub?.stop();
  });

  it('pages waiting in the queue see their position fall live and are admitted in order', async () => {
    // Each visitor in its own browser context: its own cookies.
    const visitors = await Promise.all([0, 1, 2].map(async () => (await browser.createBrowserContext()).newPage()));
    const [first, second, third] = visitors as [Page, Page, Page];
    await first.goto(shop.url);
    assert.equal(await text(first, 'shop'), 'Welcome to the shop');
    await second.goto(shop.url);
    await third.goto(shop.url);
    assert.equal(await text(second, 'position'), '1');
    assert.equal(await text(third, 'position'), '2');
    assert.equal(await text(third, 'waiting'), '2');

    await first.goto(`${shop.url}/checkout-done`);
    assert.equal(await text(first, 'done'), 'Thank you');
    // The second page is told over its event stream, reloads and is let in; the third moves to 1.
    await eventually(async () => assert.equal(await text(second, 'shop'), 'Welcome to the shop'));
    await eventually(async () => assert.equal(await text(third, 'position'), '1'));
    assert.equal(await text(third, 'shop'), '');

    await second.goto(`${shop.url}/checkout-done`);
    await eventually(async () => assert.equal(await text(third, 'shop'), 'Welcome to the shop'));
    // Admitted visitors come back through their signed cookie without queueing again.
    await third.goto(shop.url);
    assert.equal(await text(third, 'shop'), 'Welcome to the shop');
  });

  it('JSON mode gives the position and sets the ticket cookie', async () => {
    const res = await fetch(shop.url, { headers: { accept: 'application/json' } });
    const body = (await res.json()) as { state: string; position: number; waiting: number };
    assert.equal(body.state, 'waiting');
    assert.equal(body.position, 1);
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^corral_ticket=/);
    // The same ticket keeps the same place.
    const again = (await (await fetch(shop.url, { headers: { accept: 'application/json', cookie: cookie.split(';')[0]! } })).json()) as { position: number };
    assert.equal(again.position, 1);
  });
});
