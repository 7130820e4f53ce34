/**
 * Preloaded into a benchmarked hub (`--expose-gc --import …/gc-on-signal.js`):
 * SIGUSR2 runs a full garbage collection and prints a line once it is done, so
 * a heap figure read after it counts live objects, not garbage awaiting a GC.
 */
export const GC_DONE = 'corral-bench: gc done';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  process.on('SIGUSR2', () => {
    gc();
    process.stdout.write(`${GC_DONE}\n`);
  });
}
