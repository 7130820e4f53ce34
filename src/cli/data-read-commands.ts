import type { Command } from 'commander';
import { CorralError } from '../protocol/corral-error.js';
import { DataSetEditor } from '../services/sync/data-set-editor.js';
import { formatTable } from './format-table.js';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface GetOptions extends ClientCommandOptions {
  staged?: boolean;
  production?: boolean;
  json?: boolean;
}

/** `corral data get|status` [P-13.6]. */
export function addDataReadCommands(data: Command): void {
  addClientOptions(data
    .command('get')
    .description('print one key of the active version (or the staged one, or production)')
    .argument('<set>', 'data set name').argument('<key>')
    .option('--staged', 'read the staged version')
    .option('--production', 'read the production copy')
    .option('--json', 'print {version, found, value} as JSON'))
    .action(async (set: string, key: string, opts: GetOptions) => {
      const which = opts.production ? 'production' : opts.staged ? 'staged' : 'active';
      const r = await withClient('data get', opts, (c) => new DataSetEditor(c, set).read(key, which));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ version: r.version, found: r.found, value: r.value?.toString('utf8') ?? null }) + '\n');
        return;
      }
      if (!r.found) throw new CorralError('INVALID_ARGUMENT', `key ${JSON.stringify(key)} is not in ${which} ${r.version || '(none)'} of ${set}`);
      process.stdout.write(r.value!.toString('utf8') + '\n');
    });
  addClientOptions(data
    .command('status')
    .description('the synchronization table, and per version how many servers activated it, how many late, and the spread')
    .argument('<set>', 'data set name')
    .option('--json', 'print the status as JSON'))
    .action(async (set: string, opts: ClientCommandOptions & { json?: boolean }) => {
      const st = await withClient('data status', opts, (c) => new DataSetEditor(c, set).status());
      if (opts.json) {
        process.stdout.write(JSON.stringify(st) + '\n');
        return;
      }
      process.stdout.write(`data set ${st.dataSet}: cycle ${st.cycle}, active ${st.active || '(none)'} since ${st.activeSince ?? '-'}; `
        + `staged ${st.staged === st.active ? '(nothing new)' : st.staged}, activation ${st.activationAt ?? '(none)'}, interval ${st.intervalMs} ms; `
        + `production ${st.productionKeys} keys; ${st.watchers} servers watching\n`);
      process.stdout.write(formatTable(['VERSION', 'STATE', 'KEYS', 'ACTIVATED', 'LATE', 'SPREAD MS', 'SLOWEST RETRIEVAL MS'],
        st.versions.map((v) => [v.version, v.state, v.keys, v.activated, v.late, v.spreadMs === undefined ? '-' : v.spreadMs.toFixed(2), v.slowestRetrievalMs === undefined ? '-' : v.slowestRetrievalMs.toFixed(0)])));
      if (st.warning) process.stderr.write(`corral: warning: ${st.warning}\n`);
    });
}
