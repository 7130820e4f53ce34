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
 * Event-loop delay (p99 over one report) below this is the noise of a shared
 * machine — a GC pause, a busy neighbour process — not a sign that the hub is
 * saturated; counted from the first millisecond it outweighed whole topics
 * and sent every new topic of a burst to whichever hub happened to be calmest.
 */
const LAG_NOISE_MS = 100;

/**
 * One number to compare hubs by, in units of one topic: topics dominate;
 * traffic and connections break ties; a hub whose event loop is clearly
 * saturated counts one more topic per 10 ms of delay beyond the noise.
 */
export function loadScore(l: HubLoad): number {
  return l.topics + l.msgRate / 1000 + l.connections / 10 + Math.max(0, l.lagMs - LAG_NOISE_MS) / 10;
}
