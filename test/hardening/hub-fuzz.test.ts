import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { FrameFuzzer } from '../../bench/frame-fuzzer.js';
import { hubStillServes, HubFuzzer } from '../../bench/hub-fuzzer.js';
import { procMemory } from '../../bench/server-process.js';
import { removeDir, startHub, type HubProcess } from '../support/hub-process.js';

/**
 * Seeded structure-aware fuzzing of a real hub (test/hub/hub-bad-input.test.ts
 * checks the exact error code of each kind of bad input; this one checks that
 * thousands of mutated frames of every type, mixed, leave the hub alive,
 * answering and flat in memory). CORRAL_FUZZ_SEED replays a run.
 */
const SEED = Number(process.env.CORRAL_FUZZ_SEED ?? randomInt(0x1_0000_0000)) >>> 0;
const REPLAY = `seed ${SEED}; replay with CORRAL_FUZZ_SEED=${SEED}`;
const MAX_PAYLOAD = 4096;
const CONNECTIONS = 4;
/** Frames that bring the hub to its working size (topics, subscriptions, buffers, JIT) before the baseline. */
const WARM_UP_FRAMES = 1000;
const FRAMES = 20_000;
/**
 * Resident memory the hub may gain over the measured run. Generous against a
 * garbage collector's timing (V8 grows its heap in steps of several MB), and
 * far below what a leak proportional to the frames would add: the fuzzer sends
 * over 100 MB in large payloads and strings.
 */
const RSS_GROWTH_BOUND = 64 * 1024 * 1024;

describe(`hub under seeded protocol fuzzing (${REPLAY})`, () => {
  let hub: HubProcess;
  before(async () => { hub = await startHub({ args: ['--max-payload', String(MAX_PAYLOAD)] }); });
  after(async () => {
    await hub.stop();
    removeDir(hub.dataDir);
  });

  it('the generator replays: the same seed gives the same frames', () => {
    const a = new FrameFuzzer(SEED);
    const b = new FrameFuzzer(SEED);
    for (let i = 0; i < 500; i++) assert.deepEqual(a.next(), b.next(), `frame ${i} (${REPLAY})`);
  });

  it(`${FRAMES} fuzzed frames over ${CONNECTIONS} connections: the hub stays up, answers every connection it keeps, and its memory stays bounded`, { timeout: 300_000 }, async (t) => {
    const warmUp = new HubFuzzer(hub.port, SEED ^ 0x5bd1e995, CONNECTIONS, MAX_PAYLOAD);
    const fuzzer = new HubFuzzer(hub.port, SEED, CONNECTIONS, MAX_PAYLOAD);
    try {
      await warmUp.run(WARM_UP_FRAMES);
      const baseline = procMemory(hub.pid).vmRss;
      await fuzzer.run(FRAMES);
      const grown = procMemory(hub.pid).vmRss - baseline;
      t.diagnostic(`${fuzzer.sent} frames, ${fuzzer.bytes} bytes, ${fuzzer.connectionsOpened} connections (${fuzzer.closedByHub} closed by the hub); `
        + `RSS ${(baseline / 1048576).toFixed(1)} MB -> ${((baseline + grown) / 1048576).toFixed(1)} MB; errors: ${fuzzer.errorSummary()}`);
      assert.equal(hub.child.exitCode, null, `the hub exited\n${hub.stderr()}`);
      assert.equal(hub.child.signalCode, null, `the hub was killed\n${hub.stderr()}`);
      assert.deepEqual([...warmUp.stuck, ...fuzzer.stuck], [], 'every connection the hub kept open answered its PING');
      assert.equal(fuzzer.sent, FRAMES);
      // The hub refused bad frames with errors rather than ignoring them.
      assert.ok((fuzzer.errors.get('BAD_FRAME') ?? 0) > 0, `errors: ${fuzzer.errorSummary()}`);
      await hubStillServes(hub.url, hub.port);
      assert.ok(grown <= RSS_GROWTH_BOUND, `hub RSS grew by ${(grown / 1048576).toFixed(1)} MB over ${FRAMES} frames (bound ${RSS_GROWTH_BOUND / 1048576} MB)`);
    } catch (err) {
      const alive = hub.child.exitCode === null && hub.child.signalCode === null ? "hub running" : `hub exited (${hub.child.exitCode ?? hub.child.signalCode})`;
      throw new Error(`${REPLAY}; ${alive}; errors: ${fuzzer.errorSummary()}: ${err instanceof Error ? err.message : String(err)}\nhub log:\n${hub.stderr().slice(-3000)}`, { cause: err });
    } finally {
      warmUp.stop();
      fuzzer.stop();
    }
  });
});
