/**
 * One web server of a test farm, as a child process: opens data set NAME on
 * the hub at URL with its clock skewed by SKEW ms, and reports on stdout, one
 * JSON line each: `ready`, every `change` (with the true instant of the swap,
 * this machine's clock, and the mixes its readers saw), and `retrieving`
 * once per staged version. Run: node data-set-server.js URL NAME SKEW [PAGE_BYTES|0] [noread].
 * Readers check every turn of the event loop that all keys of the active
 * version carry the same value (the farm's data sets hold one generation
 * per version). Without arguments (the test runner loading it) it does nothing.
 */
import { connect, DataSet, FarmClock } from '../../src/client/index.js';
import { calibrate, precise, wallMinusPrecise } from './true-clock.js';

const [url, name, skewArg, pageArg, readArg] = process.argv.slice(2);

const say = (doc: object): void => { process.stdout.write(JSON.stringify(doc) + '\n'); };

async function main(): Promise<void> {
  const skew = Number(skewArg ?? 0);
  const client = await connect(url!, { name: 'data-set-server', reconnect: { initialDelayMs: 50, maxDelayMs: 250 } });
  let mixes = 0;
  let said = '';
  const farmClock = await FarmClock.start(client, { clock: () => precise() + skew });
  const ds = await DataSet.open(client, name!, { farmClock, pollMs: 300, ...(pageArg && pageArg !== '0' ? { pageBytes: Number(pageArg) } : {}) });
  ds.on('change', (c) => {
    // Calibrated when staged, ahead of the instant: a busy loop here would delay the other servers' swaps.
    const at = precise() + wallMinusPrecise();
    const r = ds.lastRetrieval?.version === c.version ? ds.lastRetrieval : undefined;
    say({
      // The farm clock is this machine's wall clock here: its estimate's true error is known.
      event: 'change', at, errorBound: farmClock.read().errorBound, clockError: farmClock.read().offset - (wallMinusPrecise() - skew), version: c.version, previous: c.previous, scheduledAt: c.scheduledAt, late: c.late, bootstrap: c.bootstrap,
      size: ds.size, mixes, bytes: r?.bytes, retrievalMs: r?.ms,
    });
  });
  ds.on('retrieving', (r) => {
    if (r.version === said) return;
    said = r.version;
    say({ event: 'retrieving', version: r.version });
  });
  ds.on('staged', () => calibrate());
  calibrate();
  say({ event: 'ready', version: ds.version, size: ds.size });
  const read = (): void => {
    const { values } = ds.snapshot();
    let first: string | undefined;
    for (const key of values.keys()) {
      const v = ds.getString(key);
      if (first === undefined) first = v;
      else if (v !== first) mixes++;
    }
    // Not a busy loop: a farm of these shares two cores.
    setTimeout(read, 2);
  };
  if (readArg !== 'noread') read();
}

if (url !== undefined) {
  // An orphan would run on forever and hold the test runner's output pipe open, so the whole run never ends.
  process.stdin.once('close', () => process.exit(0));
  process.stdin.resume();
  main().catch((err: unknown) => {
    say({ event: 'failed', message: String(err) });
    process.exit(1);
  });
}
