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
 * One number to compare hubs by: topics dominate, traffic and event-loop
 * delay break the tie between hubs with similar topic counts.
 */
export function loadScore(l: HubLoad): number {
  return l.topics + l.msgRate / 1000 + l.connections / 10 + l.lagMs / 5;
}
