import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { restoreSqlite } from '../store/sqlite/sqlite-backup.js';
import { backupStandalone } from './backup-standalone.js';
import { claimDataDir, storeFile } from './claim-data-dir.js';

const dataOption = (): Option => new Option('--data <dir>', 'data directory of the standalone hub').env('CORRAL_DATA').default('.corral');

/** `corral backup` and `corral restore`: a standalone hub's SQLite store, copied while the hub runs. */
export function addBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('copy the store of a standalone hub into a new file, while the hub runs (a consistent snapshot)')
    .argument('<file>', 'the backup file to create')
    .addOption(dataOption())
    .action(async (file: string, o: { data: string }) => {
      const r = await backupStandalone(o.data, resolve(file));
      process.stderr.write(`corral backup: ${storeFile(o.data)} and ${r.journalSegments} journal segment(s) copied to ${resolve(file)} `
        + `(${r.pages} pages, schema version ${r.schemaVersion})\n`);
    });
  program
    .command('restore')
    .description('place a backup as the store of an empty data directory; then start a hub there')
    .argument('<file>', 'a file made by corral backup')
    .addOption(dataOption())
    .action((file: string, o: { data: string }) => {
      // Held while restoring: a hub starting there meanwhile is refused.
      const lock = claimDataDir(o.data);
      try {
        restoreSqlite(resolve(file), storeFile(o.data));
      } finally {
        lock.release();
      }
      process.stderr.write(`corral restore: ${resolve(file)} restored into ${resolve(o.data)}; start a hub with  corral start --data ${resolve(o.data)}\n`);
    });
}
