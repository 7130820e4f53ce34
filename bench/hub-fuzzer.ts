import { connect } from '../src/client/index.js';
import { errorCodeFromWire } from '../src/protocol/error-codes.js';
import { FrameType } from '../src/protocol/frame-type.js';
import { PROTOCOL_VERSION, type Frame } from '../src/protocol/frames.js';
import { RawConnection } from '../test/support/raw-connection.js';
import { FrameFuzzer, FUZZ_FEATURES, type FuzzedFrame } from './frame-fuzzer.js';

/** Frames sent between two PING round trips: each round trip shows the hub still reads and answers that connection. */
const BATCH = 20;
/** A connection the hub neither answers nor closes for this long is stuck (a hang, not a busy machine). */
const ANSWER_WITHIN_MS = 15_000;

export interface StuckConnection {
  worker: number;
  /** The frames of the batch after which the hub stopped answering. */
  lastFrames: string[];
}

/**
 * Drives a hub with fuzzed frames over several connections at once, each
 * with its own generator seeded from `seed` and its index. A connection the
 * hub closes (a fatal frame, a second HELLO, too many errors) is replaced by a
 * new one; one the hub neither answers nor closes is recorded as stuck.
 */
export class HubFuzzer {
  sent = 0;
  bytes = 0;
  connectionsOpened = 0;
  /** Connections the hub closed (the stream could not be resynchronised, or the error limit was reached). */
  closedByHub = 0;
  readonly errors = new Map<string, number>();
  readonly stuck: StuckConnection[] = [];
  private readonly open = new Set<RawConnection>();
  private stopping = false;

  constructor(
    private readonly port: number,
    readonly seed: number,
    private readonly connections = 4,
    private readonly maxPayload = 4096,
  ) {}

  /** Sends `frames` fuzzed frames in all; resolves when they are sent and answered (or their connection closed). */
  async run(frames: number): Promise<void> {
    const share = (w: number): number => Math.floor(frames / this.connections) + (w < frames % this.connections ? 1 : 0);
    await Promise.all(Array.from({ length: this.connections }, (_, w) => this.worker(w, share(w))));
  }

  /** Ends the run early: every worker stops after its current batch. */
  stop(): void {
    this.stopping = true;
    for (const c of this.open) c.close();
  }

  private async worker(w: number, quota: number): Promise<void> {
    const fuzzer = new FrameFuzzer((this.seed ^ Math.imul(w + 1, 0x9e3779b1)) >>> 0, this.maxPayload);
    let done = 0;
    while (done < quota && !this.stopping) {
      const conn = await this.hello();
      if (conn === undefined) continue;
      try {
        while (done < quota && !this.stopping && !conn.closed) {
          const batch: FuzzedFrame[] = [];
          while (batch.length < BATCH && done < quota) {
            const f = fuzzer.next();
            batch.push(f);
            conn.sendBytes(f.bytes);
            this.sent++;
            this.bytes += f.bytes.length;
            done++;
            if (f.desyncs) break;
          }
          if (batch.at(-1)!.desyncs) break;
          const answered = await conn.roundTrip(ANSWER_WITHIN_MS).then(() => true, () => false);
          conn.frames.length = 0;
          if (!answered && !conn.closed && !this.stopping) {
            this.stuck.push({ worker: w, lastFrames: batch.map((f) => f.label) });
            break;
          }
        }
      } finally {
        if (conn.closed) this.closedByHub++;
        this.open.delete(conn);
        conn.close();
      }
    }
  }

  /** A new connection past its handshake, asking for every service; undefined when the hub refused it. */
  private async hello(): Promise<RawConnection | undefined> {
    const conn = await RawConnection.open(this.port);
    this.open.add(conn);
    this.connectionsOpened++;
    conn.keep = (f: Frame) => {
      if (f.type === FrameType.ERROR && 'code' in f) this.count(errorCodeFromWire(f.code));
      // Only what the driver waits for is kept: a long run must not hold every reply.
      return f.type === FrameType.PONG || f.type === FrameType.WELCOME;
    };
    conn.send({ type: FrameType.HELLO, version: PROTOCOL_VERSION, token: '', client: 'fuzz', features: FUZZ_FEATURES });
    try {
      await conn.waitFor((f) => f.type === FrameType.WELCOME, ANSWER_WITHIN_MS);
      return conn;
    } catch (err) {
      this.open.delete(conn);
      conn.close();
      if (this.stopping) return undefined;
      throw new Error(`the hub did not complete a handshake: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  private count(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** `CODE count, …`, most frequent first. */
  errorSummary(): string {
    return [...this.errors].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(', ') || 'none';
  }
}

/**
 * A well-behaved client is still served: a PING/PONG round trip on a new
 * bare connection, and a publish delivered to a subscriber through the
 * client library. Rejects otherwise.
 */
export async function hubStillServes(url: string, port: number, timeoutMs = ANSWER_WITHIN_MS): Promise<void> {
  const raw = await RawConnection.hello(port);
  try {
    await raw.roundTrip(timeoutMs);
  } finally {
    raw.close();
  }
  const client = await connect(url, { name: 'fuzz-health', requestTimeoutMs: timeoutMs, reconnect: { maxAttempts: 0 } });
  try {
    const sub = await client.subscribe('fuzz.health', `check-${Date.now()}`, { from: 'latest' });
    const { seq } = await client.publish('fuzz.health', 'still here');
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([
      sub.next(),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no delivery within ${timeoutMs} ms`)), timeoutMs); }),
    ]).finally(() => clearTimeout(timer));
    if (first.done || first.value.seq !== seq || first.value.payload.toString() !== 'still here') {
      throw new Error(`expected delivery of seq ${seq}, got ${first.done ? 'the end of the subscription' : `seq ${first.value.seq}`}`);
    }
    first.value.ack();
    await sub.close();
    await client.unsubscribe('fuzz.health', sub.name);
  } finally {
    await client.close();
  }
}
