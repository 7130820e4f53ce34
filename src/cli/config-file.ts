import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';

/**
 * Applies a JSON configuration file to a command's options. Keys are the
 * long option names without dashes (`"http-port": 7401`, `"data": "/srv/corral"`);
 * values pass through the option's own parser and choices. Precedence, lowest
 * first: defaults < the file < environment variables < command-line flags —
 * a value is taken from the file only where the option still holds its default.
 */
export function applyConfigFile(cmd: Command, path: string): void {
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`cannot read the configuration file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new InvalidArgumentError(`configuration file ${path}: expected a JSON object of option names and values`);
  }
  for (const [name, value] of Object.entries(config)) {
    const option = cmd.options.find((o) => o.long === `--${name}` && !o.hidden);
    if (option === undefined || name === 'config') throw new InvalidArgumentError(`configuration file ${path}: unknown option "${name}" (see corral ${cmd.name()} --help)`);
    const key = option.attributeName();
    const source = cmd.getOptionValueSource(key);
    if (source !== undefined && source !== 'default') continue;
    let parsed: unknown = value;
    if (option.isBoolean()) {
      if (typeof value !== 'boolean') throw new InvalidArgumentError(`configuration file ${path}: "${name}" must be true or false`);
    } else {
      if (typeof value !== 'string' && typeof value !== 'number') throw new InvalidArgumentError(`configuration file ${path}: "${name}" must be a string or a number`);
      try {
        parsed = option.parseArg ? option.parseArg(String(value), undefined as unknown) : String(value);
      } catch (err) {
        throw new InvalidArgumentError(`configuration file ${path}: "${name}": ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    cmd.setOptionValueWithSource(key, parsed, 'config');
  }
}
