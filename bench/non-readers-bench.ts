import { connect as connectTcp, type Socket } from 'node:net';
import { connect } from '../src/client/index.js';
import { encodeFrame } from '../src/protocol/encode.js';
import { FrameType } from '../src/protocol/frame-type.js';
import { PROTOCOL_VERSION } from '../src/protocol/frames.js';
import { launchHub } from './hub-launcher.js';
import { markdownTable } from './markdown-table.js';
import { procMemory } from './server-process.js';

const CONNECTIONS = 1000;
/** Each flooder writes this much QUERY traffic it never reads the answers of. */
const FLOOD_BYTES = 512 * 1024;
const FLOOD_WITHIN_MS = 120_000;
/** The flood has settled once no flooder got a byte into its socket for this long (the hub stopped reading them all). */
const SETTLED_AFTER_MS = 3_000;
/** Long enough that no flooder is closed as stalled during the run: the point is 1,000 connected non-readers. */
const STALL_TIMEOUT = '10m';

/** A connection that completes HELLO, then writes QUERY frames and never reads again. */
function flooder(port: number): Promise<{ socket: Socket; written: () => number }> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.write(encodeFrame({ type: FrameType.HELLO, version: PROTOCOL_VERSION, token: '', client: 'non-reader', features: [] }));
    socket.once('data', () => {
      socket.pause();
      socket.on('error', () => undefined);
      const batch = Buffer.concat(Array.from({ length: 100 }, () => encodeFrame({ type: FrameType.QUERY, corr: 1, kind: 'stats', args: '' })));
      let written = 0;
      const more = (): void => {
        while (!socket.destroyed && written < FLOOD_BYTES) {
          written += batch.length;
          if (!socket.write(batch)) {
            socket.once('drain', more);
            return;
          }
        }
      };
      more();
      resolve({ socket, written: () => written });
    });
  });
}

/** The value of an unlabelled gauge of the hub's /metrics. */
async function gauge(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/**
 * Issue 9's bound for hostile clients: 1,000 connections that send requests
 * and never read their replies. Reports the hub's resident memory before,
 * at the peak and after, how many were cut off (SLOW_READER), and whether a
 * well-behaved client meanwhile completes its handshake, publishes and
 * receives its message.
 */
export async function runNonReadersBenchmark(): Promise<void> {
  const hub = await launchHub({ durability: 'fsync', startArgs: ['--max-connections', String(CONNECTIONS + 100), '--stall-timeout', STALL_TIMEOUT] });
  const pid = hub.process.pid;
  const port = Number(new URL(hub.url.replace('corral:', 'http:')).port);
  try {
    const before = procMemory(pid).vmRss;
    const floods = [];
    for (let i = 0; i < CONNECTIONS; i++) floods.push(await flooder(port));
    const deadline = Date.now() + FLOOD_WITHIN_MS;
    let total = -1;
    let settledAt = Date.now();
    while (Date.now() < deadline && floods.some((f) => !f.socket.destroyed && f.written() < FLOOD_BYTES)) {
      const now = floods.reduce((n, f) => n + f.written(), 0);
      if (now !== total) {
        total = now;
        settledAt = Date.now();
      } else if (Date.now() - settledAt >= SETTLED_AFTER_MS) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const during = procMemory(pid).vmRss;
    const paused = await gauge(hub.httpUrl, 'corral_connections_reading_paused');
    const queued = await gauge(hub.httpUrl, 'corral_outbound_bytes');
    // Where the resident memory is: JavaScript objects (heap) or buffers outside it (external: socket reads, queued frames).
    const heapUsed = await gauge(hub.httpUrl, 'corral_process_nodejs_heap_size_used_bytes');
    const external = await gauge(hub.httpUrl, 'corral_process_nodejs_external_memory_bytes');
    const started = performance.now();
    const client = await connect(hub.url, { connectTimeoutMs: 30_000 });
    const sub = await client.subscribe('well.behaved', 'audit', { from: 'earliest' });
    await client.publish('well.behaved', 'served');
    let delivered = false;
    for await (const m of sub) {
      delivered = m.payload.toString() === 'served';
      m.ack();
      break;
    }
    const servedMs = performance.now() - started;
    await sub.close();
    await client.close();
    const cut = floods.filter((f) => f.socket.destroyed || f.socket.closed).length;
    const peak = procMemory(pid).vmHwm;
    for (const f of floods) f.socket.destroy();
    const sent = floods.reduce((n, f) => n + f.written(), 0);
    console.log(`\n### Non-reading clients: ${CONNECTIONS} connections, each writing up to ${FLOOD_BYTES / 1024} KiB of QUERY frames it never reads the answers of (--stall-timeout ${STALL_TIMEOUT})\n`);
    console.log(markdownTable(
      ['hub RSS before MB', 'RSS while flooded MB', 'peak RSS (VmHWM) MB', 'heap used while flooded MB', 'external while flooded MB', 'QUERY bytes sent MB', 'connections not read from', 'replies queued in the hub MB',
        'connections cut off', 'well-behaved client served', 'its handshake + publish + delivery ms'],
      [[mb(before), mb(during), mb(peak), mb(heapUsed), mb(external), mb(sent), String(paused), (queued / 1024 / 1024).toFixed(1), String(cut), delivered ? 'yes' : 'NO', servedMs.toFixed(0)]],
    ));
  } finally {
    await hub.process.stop();
  }
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}
