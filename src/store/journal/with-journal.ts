import type { Stores } from '../stores.js';
import { JournaledLog, type JournaledLogOptions } from './journaled-log.js';

/** The same stores with the journal in front of the message log (a standalone hub's ack path). */
export async function withJournal(stores: Stores, opts: JournaledLogOptions): Promise<Stores> {
  let log: JournaledLog;
  try {
    log = await JournaledLog.open(stores.log, opts);
  } catch (err) {
    await stores.close();
    throw err;
  }
  return {
    metadata: stores.metadata,
    log,
    async close() {
      await log.close();
      await stores.close();
    },
  };
}
