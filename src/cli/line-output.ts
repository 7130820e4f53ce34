/**
 * Lines for standard output, gathered per event-loop turn into one write.
 * A line's callback runs once the write holding it has been handed to the
 * stream, so a consumer acknowledges only what it really printed.
 */
export class LineOutput {
  private lines: string[] = [];
  private callbacks: Array<() => void> = [];
  private queued = false;
  private error: Error | undefined;
  private readonly rejecters = new Set<(err: Error) => void>();

  constructor(private readonly stream: NodeJS.WritableStream & { writableNeedDrain?: boolean }) {
    stream.on('error', (err: Error) => this.fail(err));
  }

  line(text: string, written?: () => void): void {
    if (this.error) throw this.error;
    this.lines.push(text);
    if (written) this.callbacks.push(written);
    this.schedule();
  }

  /** The stream's buffer is full: wait for `drained()` before producing more. */
  get full(): boolean {
    return this.stream.writableNeedDrain === true;
  }

  drained(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (!this.full) return Promise.resolve();
    return this.settle((done) => this.stream.once('drain', done));
  }

  /** Resolves once everything queued so far has been handed to the stream. */
  flush(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    return this.settle((done) => {
      this.callbacks.push(done);
      this.schedule();
    });
  }

  private settle(arm: (done: () => void) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.rejecters.add(reject);
      arm(() => {
        this.rejecters.delete(reject);
        resolve();
      });
    });
  }

  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    setImmediate(() => this.write());
  }

  private write(): void {
    this.queued = false;
    if (this.error) return;
    const text = this.lines.length > 0 ? this.lines.join('\n') + '\n' : '';
    const callbacks = this.callbacks;
    this.lines = [];
    this.callbacks = [];
    this.stream.write(text, (err?: Error | null) => {
      if (err) return this.fail(err);
      for (const cb of callbacks) cb();
    });
  }

  private fail(err: Error): void {
    this.error ??= err;
    for (const reject of this.rejecters) reject(err);
    this.rejecters.clear();
  }
}
