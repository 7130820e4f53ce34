import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { DataSetEditor, type EditResult } from '../services/sync/data-set-editor.js';
import { addClientOptions, withClient, type ClientCommandOptions } from './with-client.js';

interface JsonOption extends ClientCommandOptions {
  json?: boolean;
}

function printEdit(r: EditResult, opts: JsonOption): void {
  process.stdout.write(opts.json
    ? JSON.stringify(r) + '\n'
    : `data set ${r.dataSet}: production has ${r.keys} keys (${r.changed} changed); \`corral data schedule ${r.dataSet}\` stages it\n`);
}

/** A JSON object file: string values are stored as they are, any other value as its JSON text. */
async function readImport(file: string): Promise<Array<[string, string]>> {
  const text = file === '-' ? await new Promise<string>((resolve, reject) => {
    let s = '';
    process.stdin.setEncoding('utf8').on('data', (d: string) => { s += d; }).on('end', () => resolve(s)).on('error', reject);
  }) : await readFile(file, 'utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${file} is not JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new InvalidArgumentError(`${file} must hold one JSON object of key → value`);
  return Object.entries(doc).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
}

/** `corral data set|delete|import`: edits go to production; servers see them once scheduled. */
export function addDataEditCommands(data: Command): void {
  addClientOptions(data
    .command('set')
    .description('set one key of a data set\'s production copy (created on first use)')
    .argument('<set>', 'data set name').argument('<key>').argument('<value>', 'the value, stored as its UTF-8 bytes')
    .option('--json', 'print the result as JSON'))
    .action(async (set: string, key: string, value: string, opts: JsonOption) => {
      printEdit(await withClient('data set', opts, (c) => new DataSetEditor(c, set).set(key, value)), opts);
    });
  addClientOptions(data
    .command('delete')
    .description('delete one key from a data set\'s production copy')
    .argument('<set>', 'data set name').argument('<key>')
    .option('--json', 'print the result as JSON'))
    .action(async (set: string, key: string, opts: JsonOption) => {
      printEdit(await withClient('data delete', opts, (c) => new DataSetEditor(c, set).delete(key)), opts);
    });
  addClientOptions(data
    .command('import')
    .description('set many keys from a JSON object file (- = stdin), applied to production together')
    .argument('<set>', 'data set name').argument('<file>', 'JSON object: key → value (strings as they are, anything else as JSON)')
    .option('--replace', 'production becomes exactly the file: keys not in it are deleted')
    .option('--json', 'print the result as JSON'))
    .action(async (set: string, file: string, opts: JsonOption & { replace?: boolean }) => {
      const entries = await readImport(file);
      printEdit(await withClient('data import', opts, (c) => new DataSetEditor(c, set).import(entries, { replace: opts.replace })), opts);
    });
}
