import type { Command } from 'commander';
import { addDataEditCommands } from './data-edit-commands.js';
import { addDataReadCommands } from './data-read-commands.js';
import { addDataScheduleCommands } from './data-schedule-commands.js';

/** `corral data …`: synchronized data sets [P-13]: edit production, schedule, roll back, read, status. */
export function addDataCommand(program: Command): void {
  const data = program
    .command('data')
    .description('synchronized data sets: edit, schedule an activation instant, roll back, read, status');
  addDataEditCommands(data);
  addDataScheduleCommands(data);
  addDataReadCommands(data);
}
