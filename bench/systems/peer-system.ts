import type { BenchClient, BenchSystem } from '../bench-system.js';
import { procBytesWritten, procMemory, waitForPort, type ServerProcess } from '../server-process.js';

/**
 * A peer's server process as a BenchSystem, once it accepts connections on
 * `port`; stopped (and its directory removed) if it never does.
 */
export async function peerSystem(
  server: ServerProcess, port: number, open: (port: number, name: string) => Promise<BenchClient>,
): Promise<BenchSystem> {
  try {
    await waitForPort(server, port);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    connect: (name) => open(port, name),
    serverMemory: () => Promise.resolve({ reported: undefined, ...procMemory(server.pid) }),
    serverCounters: () => Promise.resolve({ bytesWritten: procBytesWritten(server.pid), eventLoopP99Ms: undefined, commits: undefined }),
    stop: () => server.stop(),
  };
}
