import { Worker } from 'node:worker_threads';
import { CorralError } from '../../protocol/corral-error.js';
import type { ErrorCode } from '../../protocol/error-codes.js';
import type { JournalSpan } from '../journal/journal-segments.js';
import { InlineWriteBehind, type WriteBehind } from '../journal/write-behind.js';
import type { MessageLog } from '../message-log.js';
import type { Durability } from '../stores.js';

/** A write-behind handed to the worker thread. */
export interface WriteBehindRequest {
  id: number;
  /** Where the entries lie in the journal's segment files, in entry order. */
  spans: readonly JournalSpan[];
  durable: boolean;
}

export type WriteBehindReply = { id: number; records: number } | { id: number; code: ErrorCode; message: string };

const WORKER = new URL('./sqlite-write-behind-worker.js', import.meta.url);

interface Waiting {
  resolve(records: number): void;
  reject(err: Error): void;
}

/**
 * The journal's write-behind into the SQLite file at `path`, done by a
 * worker thread on its own connection: the hub's event loop only says where
 * the entries lie in the journal; the worker reads them back (from the page
 * cache: they were just written), decodes and stores them. Should the worker
 * die, writes go on through `inner` on the calling thread (slower, as
 * correct), like the checkpointer's fallback.
 */
export class SqliteWriteBehind implements WriteBehind {
  #worker: Worker | undefined;
  readonly #fallback: InlineWriteBehind;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;

  constructor(opts: { path: string; durability: Durability }, inner: MessageLog) {
    this.#fallback = new InlineWriteBehind(inner);
    const w = new Worker(WORKER, { workerData: { path: opts.path, durability: opts.durability } });
    w.unref();
    w.on('message', (reply: WriteBehindReply) => this.#settle(reply));
    const gone = (err: Error): void => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      for (const waiting of this.#waiting.values()) waiting.reject(new CorralError('STORE_UNAVAILABLE', `the write-behind worker stopped: ${err.message}`, { cause: err }));
      this.#waiting.clear();
    };
    w.on('error', gone);
    w.on('exit', (code) => gone(new Error(`exit code ${code}`)));
    this.#worker = w;
  }

  write(spans: readonly JournalSpan[], durable: boolean): Promise<number> {
    const w = this.#worker;
    if (w === undefined) return this.#fallback.write(spans);
    const request: WriteBehindRequest = { id: this.#nextId++, spans, durable };
    return new Promise<number>((resolve, reject) => {
      this.#waiting.set(request.id, { resolve, reject });
      // Keeps the process alive while a write is in flight (a closing hub waits for it).
      w.ref();
      w.postMessage(request);
    });
  }

  /** Stops the worker once it has closed its connection (after the writes in flight). */
  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    if (w === undefined) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.ref();
    w.postMessage('stop');
    await exited;
  }

  #settle(reply: WriteBehindReply): void {
    const waiting = this.#waiting.get(reply.id);
    if (waiting === undefined) return;
    this.#waiting.delete(reply.id);
    if (this.#waiting.size === 0) this.#worker?.unref();
    if ('code' in reply) waiting.reject(new CorralError(reply.code, reply.message));
    else waiting.resolve(reply.records);
  }
}
