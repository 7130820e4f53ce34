import { isCorralError } from '../protocol/corral-error.js';

/** `corral: <CODE>: <message>` on stderr: the stable code first, for scripts and people alike. */
export function reportError(err: unknown): void {
  process.stderr.write(`corral: ${errorCode(err)}: ${err instanceof Error ? err.message : String(err)}\n`);
}

function errorCode(err: unknown): string {
  if (isCorralError(err)) return err.code;
  // Node's system errors (EPIPE, ENOENT, …) carry their own code.
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'ERROR';
}
