#!/usr/bin/env node
import { CommanderError } from 'commander';
import { corralProgram } from './corral-program.js';
import { reportError } from './report-error.js';

try {
  await corralProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed the usage error (or the help).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    reportError(err);
    process.exitCode = 1;
  }
}
