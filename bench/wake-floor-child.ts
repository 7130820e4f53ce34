/**
 * One process of the wake floor (bench/wake-floor.ts): told an instant (wall
 * clock, ms) over IPC, it sleeps to it exactly as a DataSet does and answers
 * how late it woke, by the wall clock it was calibrated against.
 */
import { atInstant } from '../src/services/sync/instant-timer.js';
import { calibrate, precise } from '../test/support/true-clock.js';

const offset = calibrate();
process.on('message', (at: number) => {
  atInstant(() => at - (precise() + offset), () => process.send!(precise() + offset - at));
});
// Exits with its parent: the IPC channel closes.
process.on('disconnect', () => process.exit(0));
