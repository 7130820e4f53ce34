import type { MessageLog, TopicBatch } from '../../src/store/message-log.js';

type Append = (batches: readonly TopicBatch[]) => Promise<boolean[]>;

/**
 * The same log, with `append` and `appendUnsynced` (whichever a caller
 * uses: the journal writes behind with the second where the store has it)
 * passed through `wrap`, which gets the real method; everything else as is.
 */
export function wrapAppends(log: MessageLog, wrap: (batches: readonly TopicBatch[], real: Append) => Promise<boolean[]>): MessageLog {
  return new Proxy(log, {
    get(target, prop) {
      if (prop === 'append' || prop === 'appendUnsynced') {
        const real = Reflect.get(target, prop) as Append | undefined;
        return real && ((batches: readonly TopicBatch[]) => wrap(batches, real.bind(target)));
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
