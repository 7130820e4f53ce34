import { fork } from 'node:child_process';
import { trueNow } from '../test/support/true-clock.js';

const CHILD = new URL('./wake-floor-child.js', import.meta.url);

/**
 * The machine's floor for a farm activation: `processes` bare Node processes
 * (no Corral, no data, no network) sleep to one instant the way a DataSet
 * does, `instants` times; per instant, how late each woke (true time, ms).
 * What they lose is the cost of waking that many processes at once on these
 * cores, which no synchronization on this machine can beat.
 */
export async function wakeFloor(processes: number, instants: number, leadMs = 1000): Promise<number[][]> {
  const kids = Array.from({ length: processes }, () => fork(CHILD, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  try {
    await Promise.all(kids.map((k) => new Promise((resolve, reject) => { k.once('spawn', resolve); k.once('error', reject); })));
    const rounds: number[][] = [];
    // The first instant finds processes still starting (loading, compiling): a warm-up, not counted.
    for (let i = -1; i < instants; i++) {
      const at = trueNow() + leadMs;
      const late = await Promise.all(kids.map((k) => new Promise<number>((resolve) => {
        k.once('message', (late) => resolve(late as number));
        k.send(at);
      })));
      if (i >= 0) rounds.push(late);
    }
    return rounds;
  } finally {
    for (const k of kids) k.kill('SIGKILL');
  }
}
