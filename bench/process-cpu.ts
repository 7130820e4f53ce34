import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Kernel clock ticks per second, the unit of the times in /proc/<pid>/stat (almost always 100); asked once, when first needed. */
function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** The executable's name as the kernel keeps it (PostgreSQL's backends keep "postgres"). */
  comm: string;
  /** utime + stime + cutime + cstime, ms. */
  cpuMs: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  // Fields 14-17 of proc(5): utime, stime, cutime, cstime; here offset by the 3 before state.
  const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  return { pid, ppid: Number(f[1]), comm, cpuMs: (ticks * 1000) / ticksPerSecond() };
}

/**
 * CPU time of a process in ms: user + system, plus that of its children it
 * has waited for (cutime, cstime), so a PostgreSQL backend that ends between
 * two readings still counts, in its postmaster. Undefined once it has exited.
 */
export function processCpuMs(pid: number): number | undefined {
  return readStat(pid)?.cpuMs;
}

/** CPU ms of every descendant of `root` whose command is `comm`, summed, with how many there were. */
export function descendantsCpuMs(root: number, comm: string): { ms: number; processes: number } {
  const stats = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => readStat(Number(d)) ?? []);
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let ms = 0;
  let processes = 0;
  const visit = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      if (c.comm === comm) {
        ms += c.cpuMs;
        processes++;
      }
      visit(c.pid);
    }
  };
  visit(root);
  return { ms, processes };
}
