/**
 * The embedded PostgreSQL of `corral dev`, in a process of its own so that it
 * outlives nothing: `corral dev` holds this process's standard input, and when
 * that closes (`corral dev` stopped, or died however it died, SIGKILL
 * included) PostgreSQL is stopped and its temp directory removed, once the
 * hubs named on standard input have exited (they flush to it on the way out).
 *
 * Standard output: one JSON line, {url, pid, dir} once PostgreSQL runs, or
 * {error, code} if it could not start. Standard input: lines "hub <pid>".
 */
import { createInterface } from 'node:readline';
import { startPostgres } from './embedded-postgres.js';
import { processRunning } from './process-running.js';

/** Hubs get this long to exit after `corral dev` went away before PostgreSQL stops under them. */
const HUBS_EXIT_WITHIN_MS = 20_000;

const hubs = new Set<number>();
const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  const m = /^hub (\d+)$/.exec(line.trim());
  if (m) hubs.add(Number(m[1]));
});
const parentGone = new Promise<void>((resolve) => input.once('close', resolve));

let pg: Awaited<ReturnType<typeof startPostgres>>;
try {
  pg = await startPostgres();
} catch (err) {
  process.stdout.write(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }) + '\n');
  process.exit(1);
}
process.stdout.write(JSON.stringify({ url: pg.url, pid: pg.pid, dir: pg.dir }) + '\n');
await parentGone;
const deadline = Date.now() + HUBS_EXIT_WITHIN_MS;
while (Date.now() < deadline && [...hubs].some(processRunning)) await new Promise((resolve) => setTimeout(resolve, 50));
await pg.stop();
process.exit(0);
