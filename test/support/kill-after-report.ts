import { spawn } from 'node:child_process';

/**
 * Runs an ES module script in a child Node process until it writes `marker`
 * to standard output, then kills it with SIGKILL: no close, no flush, no
 * checkpoint. Resolves once the child is gone.
 */
export async function killAfterReport(script: string, marker = 'appended'): Promise<void> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(marker)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
