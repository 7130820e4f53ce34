import { Command } from 'commander';
import { addBackupCommands } from './backup-command.js';
import { addCountersCommand } from './counters-command.js';
import { addDataCommand } from './data-command.js';
import { addDeleteCommand } from './delete-command.js';
import { addDevCommand } from './dev-command.js';
import { addGateCommand } from './gate-command.js';
import { addHubsCommand } from './hubs-command.js';
import { addPubCommand } from './pub-command.js';
import { addRetainCommand } from './retain-command.js';
import { addStartCommand } from './start-command.js';
import { addStatsCommand } from './stats-command.js';
import { addSubCommand } from './sub-command.js';
import { addTimeCommand } from './time-command.js';
import { addTopicsCommand } from './topics-command.js';
import { addUnsubCommand } from './unsub-command.js';
import { packageInfo } from './package-info.js';

/** The `corral` command line with every command registered (main.ts runs it; tests list its commands). */
export function corralProgram(): Command {
  const program = new Command('corral')
    .description('Corral: messaging and coordination for server farms')
    .version(packageInfo.version, '-V, --version', 'print the version of Corral')
    .showHelpAfterError('(run with --help for usage)')
    // Usage errors surface as CommanderError so they can exit 2, apart from failures (1).
    .exitOverride();
  addStartCommand(program);
  addDevCommand(program);
  addPubCommand(program);
  addSubCommand(program);
  addTopicsCommand(program);
  addStatsCommand(program);
  addHubsCommand(program);
  addUnsubCommand(program);
  addRetainCommand(program);
  addTimeCommand(program);
  addCountersCommand(program);
  addDeleteCommand(program);
  addBackupCommands(program);
  addGateCommand(program);
  addDataCommand(program);
  return program;
}
