/**
 * The JSON answers of QUERY [P-7.1], shared by the hub that builds them and
 * the client that reads them. Later hubs may add members.
 */
export interface SubscriptionInfo {
  name: string;
  ackedSeq: number;
  backlog: number;
  attached: boolean;
}

export interface TopicInfo {
  topic: string;
  firstSeq: number;
  lastSeq: number;
  /** Messages stored (seqs are contiguous, trimming removes a prefix). */
  stored: number;
  retainCount: number;
  retainMs: number;
  /** Hub id of the owner; absent when no live hub owns the topic (cluster: its owner died and no hub took it yet). */
  owner?: string | undefined;
  /** Producer ids the answering hub remembers for de-duplication [P-4.4]; absent when that hub does not have the topic loaded. */
  producers?: number | undefined;
  subscriptions: SubscriptionInfo[];
}

/** QUERY "topics". */
export interface TopicsResult {
  topics: TopicInfo[];
}

/** QUERY "stats". */
export interface StatsResult {
  hubId: string;
  version: string;
  uptimeMs: number;
  durability: string;
  connections: number;
  topics: number;
  subscriptions: number;
  storedMessages: number;
  publishes: number;
  deliveries: number;
  acks: number;
  memory: { rss: number; heapUsed: number };
  [member: string]: unknown;
}

export interface HubLoadInfo {
  topics: number;
  /** Load of the service resources the hub owns, in topic units (absent from hubs without services). */
  services?: number;
  msgRate: number;
  connections: number;
  /** Event-loop delay, p99 per report, moving average over about 10 s. */
  lagMs: number;
  /** Event-loop utilization (0–1, the share of time the hub's thread was busy), moving average over about 10 s; absent from older hubs. */
  busy?: number;
}

export interface HubInfo {
  hubId: string;
  pid: number;
  load: HubLoadInfo;
  /** host:port clients are redirected to (cluster). */
  address?: string;
  httpAddress?: string;
  startedAt?: number;
}

/** QUERY "hubs". */
export interface HubsResult {
  hubs: HubInfo[];
}
