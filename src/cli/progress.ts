const START_AFTER_MS = 2000;
const TTY_EVERY_MS = 250;
const LOG_EVERY_MS = 5000;

/**
 * A progress line on stderr for long runs: rewritten in place on a terminal,
 * one line every few seconds otherwise, nothing for runs shorter than 2 s.
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private shown = false;
  private readonly started = Date.now();
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly describe: () => string) {
    this.timer = setTimeout(() => {
      this.show();
      this.timer = setInterval(() => this.show(), this.tty ? TTY_EVERY_MS : LOG_EVERY_MS);
      this.timer.unref();
    }, START_AFTER_MS);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    clearInterval(this.timer);
    if (this.shown && this.tty) process.stderr.write('\n');
  }

  private show(): void {
    this.shown = true;
    const text = `${this.describe()} (${((Date.now() - this.started) / 1000).toFixed(0)} s)`;
    process.stderr.write(this.tty ? `\r${text}\x1b[K` : `${text}\n`);
  }
}
