import type { HubLoadInfo } from '../protocol/query-results.js';
import { metaKey } from '../store/metadata-store.js';

/** A hub's load as it reports it (seed 002: "each message processor may store its current load information"). */
export type HubLoad = HubLoadInfo;

/** What a live hub advertises in the metadata store. */
export interface HubRecord {
  hubId: string;
  /** host:port clients are redirected to. */
  address: string;
  httpAddress: string;
  pid: number;
  startedAt: number;
  load: HubLoad;
}

export const HUB_PREFIX = metaKey('hub', '');

export function hubKey(hubId: string): string {
  return metaKey('hub', hubId);
}

/**
 * A hub busier than this share of the time has headroom to spare; below it
 * the utilization says nothing worth a topic.
 */
const BUSY_FLOOR = 0.5;
/** Topics a saturated hub (utilization 1) counts extra: enough to steer new topics elsewhere. */
const SATURATED_TOPICS = 20;

/**
 * One number to compare hubs by, in units of one topic: topics dominate;
 * traffic and connections break ties; a hub busy more than half the time
 * counts up to SATURATED_TOPICS more. Utilization, not event-loop delay,
 * measures a hub's own work: on a shared machine every process's timers run
 * late while it is starved, and the hub that happened to be starved most lost
 * a whole burst of new topics to the others.
 */
export function loadScore(l: HubLoad): number {
  const busy = Math.max(0, (l.busy ?? 0) - BUSY_FLOOR) / (1 - BUSY_FLOOR);
  return l.topics + l.msgRate / 1000 + l.connections / 10 + busy * SATURATED_TOPICS;
}
