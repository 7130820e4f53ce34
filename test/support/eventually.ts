/**
 * How long a test waits for something that should happen, by default. It
 * costs nothing when the thing happens (the wait ends at once) and is only
 * spent when it does not, so it is sized for a machine several times busier
 * than a quiet one (a CI runner sharing its cores), not for a quiet one.
 */
export const PATIENCE_MS = 30_000;

/**
 * How long a process a test starts (a hub, a farm server) may take to say it
 * is ready: loading Node and the modules is CPU work that a busy runner
 * spreads over many processes started at once.
 */
export const PROCESS_START_MS = 2 * PATIENCE_MS;

/** Retries an assertion until it passes: for state that converges (after a GC pass, a cursor flush). */
export async function eventually(fn: () => Promise<void> | void, timeoutMs = PATIENCE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fn();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
