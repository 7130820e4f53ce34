import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from '../../src/client/index.js';
import { Counters } from '../../src/services/counters/counters.js';

/**
 * A tree-counters member as its own process, so a test can SIGKILL it: it
 * joins with the id and hub address it is given, then obeys commands sent
 * over IPC and answers each with the member's state.
 */
/** Set only in the forked member: the test runner, which runs every file of dist/test/, must not start one. */
const MEMBER_ENV = 'CORRAL_TEST_COUNTERS_MEMBER';

type Command = { op: 'inc'; name: string; n: string } | { op: 'sync' } | { op: 'read'; name: string };
interface Answer { ok: boolean; local?: string; value?: string; error?: string }

export class MemberProcess {
  private constructor(readonly child: ChildProcess) {}

  static async start(url: string, memberId: string, partition: string, branch?: string): Promise<MemberProcess> {
    const child = fork(fileURLToPath(import.meta.url), [url, memberId, partition, ...(branch === undefined ? [] : [branch])], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, [MEMBER_ENV]: '1' },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`member ${memberId} exited with ${code} before joining`)));
    });
    return new MemberProcess(child);
  }

  private ask(c: Command): Promise<Answer> {
    return new Promise((resolve) => {
      this.child.once('message', (a) => resolve(a as Answer));
      this.child.send(c);
    });
  }

  async increment(name: string, n: bigint): Promise<void> {
    await this.ask({ op: 'inc', name, n: n.toString() });
  }

  /** One exchange with the root; false if it failed. */
  async sync(): Promise<boolean> {
    return (await this.ask({ op: 'sync' })).ok;
  }

  async value(name: string): Promise<bigint> {
    return BigInt((await this.ask({ op: 'read', name })).value!);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

async function main(): Promise<void> {
  const [url, memberId, partition, branch] = process.argv.slice(2) as [string, string, string, string | undefined];
  const client = await connect(url, { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
  // Exchanges only on command: the test decides what was delivered before it kills this process.
  const counters = await Counters.join(client, { memberId, partition, branch, syncIntervalMs: 3_600_000 });
  process.on('message', (m: Command) => {
    const answer = async (): Promise<Answer> => {
      switch (m.op) {
        case 'inc': counters.increment(m.name, BigInt(m.n)); return { ok: true };
        case 'sync': return counters.sync().then(() => ({ ok: true }), (err: Error) => ({ ok: false, error: err.message }));
        case 'read': return { ok: true, local: counters.local(m.name).toString(), value: counters.value(m.name).toString() };
      }
    };
    void answer().then((a) => process.send!(a));
  });
  process.send!({ ok: true });
  process.on('disconnect', () => process.exit(0));
}

if (process.env[MEMBER_ENV] === '1') void main();
