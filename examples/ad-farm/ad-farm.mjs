// An ad farm on tree counters (seed 000, claims 40–41): several HTTP ad
// servers, each a member of the `ads` partition, serve impressions of a few
// ads; each ad has a cap and a server stops serving an ad once the global
// count it sees reaches the cap. A load generator hits every server until all
// ads are exhausted, then the script prints how far each ad overshot its cap.
//
//   npm run build && node dist/src/cli/main.js start &      # a hub on 127.0.0.1:7400
//   node examples/ad-farm/ad-farm.mjs --servers 4 --cap 500
//
// Options: --url corral://… (default corral://127.0.0.1:7400), --servers N,
// --ads N, --cap N, --interval ms (the exchange interval), --within N (near
// the cap, each impression is synced at once; 0 turns that off), --json.
/* global console, fetch, performance, process -- Node 20 globals */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { connect, Counters } from '../../dist/src/client/index.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'corral://127.0.0.1:7400' },
    servers: { type: 'string', default: '4' },
    ads: { type: 'string', default: '3' },
    cap: { type: 'string', default: '500' },
    interval: { type: 'string', default: '100' },
    within: { type: 'string', default: '100' },
    partition: { type: 'string', default: `ads-${process.pid}` },
    json: { type: 'boolean', default: false },
  },
});
const servers = Number(values.servers);
const ads = Array.from({ length: Number(values.ads) }, (_, i) => `ad-${i + 1}`);
const cap = BigInt(values.cap);
const within = BigInt(values.within);

/** One ad server: an HTTP server and a counters member; GET /ad answers an ad id, or 204 when every ad is capped. */
async function startAdServer(i) {
  const client = await connect(values.url);
  const counters = await Counters.join(client, { memberId: `ad-server-${i}`, partition: values.partition, syncIntervalMs: Number(values.interval) });
  await counters.subscribe(...ads);
  // Near the cap, one impression per ad at a time, each synced before the next: at most one unseen impression per server.
  const gate = new Map(ads.map((ad) => [ad, Promise.resolve()]));
  async function serve(ad) {
    if (counters.value(ad) >= cap) return false;
    if (within === 0n || counters.value(ad) + within < cap) {
      counters.increment(ad);
      return true;
    }
    const turn = gate.get(ad).then(async () => {
      if (counters.value(ad) >= cap) return false;
      counters.increment(ad);
      await counters.sync().catch(() => undefined);
      return true;
    });
    gate.set(ad, turn.then(() => undefined, () => undefined));
    return turn;
  }
  const http = createServer(async (req, res) => {
    for (const ad of ads) {
      if (await serve(ad)) {
        res.end(ad);
        return;
      }
    }
    res.statusCode = 204;
    res.end();
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { counters, client, http, url: `http://127.0.0.1:${http.address().port}/ad` };
}

/** Requests every server, `parallel` at a time each, until each answers 204 (all ads capped, as it sees them). */
async function load(farm, parallel = 4) {
  let served = 0;
  await Promise.all(farm.flatMap((s) => Array.from({ length: parallel }, async () => {
    for (;;) {
      const res = await fetch(s.url);
      await res.text();
      if (res.status === 204) return;
      served++;
    }
  })));
  return served;
}

const farm = await Promise.all(Array.from({ length: servers }, (_, i) => startAdServer(i)));
const started = performance.now();
const served = await load(farm);
const seconds = (performance.now() - started) / 1000;
for (const s of farm) await s.counters.sync();
const tree = await farm[0].counters.tree();
const result = {
  servers, cap: Number(cap), intervalMs: Number(values.interval), within: Number(within), served, seconds,
  ads: ads.map((ad) => {
    const total = BigInt(tree.variables.find((v) => v.name === ad)?.global ?? '0');
    return { ad, delivered: Number(total), overshoot: Number(total - cap) };
  }),
};
for (const s of farm) {
  await s.counters.close();
  await s.client.close();
  s.http.close();
}
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`${servers} ad servers, cap ${cap} per ad, exchange every ${values.interval} ms, early sync within ${within} of the cap`);
  console.log(`${served} impressions in ${seconds.toFixed(2)} s`);
  for (const a of result.ads) console.log(`  ${a.ad}: delivered ${a.delivered}, overshoot ${a.overshoot}`);
}
