const STALL_MS = 30_000;
const CHECK_MS = 1_000;

/**
 * Resolves `done` after `total` ticks; rejects if no tick arrives for
 * STALL_MS, so a system that loses messages fails the run instead of hanging it.
 */
export class Countdown {
  readonly done: Promise<void>;
  private count = 0;
  private resolve!: () => void;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly total: number, what: string) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      let seen = 0;
      let quietSince = Date.now();
      this.timer = setInterval(() => {
        if (this.count !== seen) {
          seen = this.count;
          quietSince = Date.now();
        } else if (Date.now() - quietSince > STALL_MS) {
          clearInterval(this.timer);
          reject(new Error(`stalled: ${this.count} of ${total} ${what} after ${STALL_MS / 1000} s without progress`));
        }
      }, CHECK_MS);
    });
    if (total === 0) this.finish();
  }

  tick(): void {
    if (++this.count === this.total) this.finish();
  }

  private finish(): void {
    clearInterval(this.timer);
    this.resolve();
  }
}
