export { Client, connect, type ClientEvents } from './client.js';
export type {
  ConnectOptions, PublishOptions, ReconnectOptions, RetentionOptions, StartFrom, SubscribeOptions,
} from './client-options.js';
export type { PublishResult } from './publish-request.js';
export type { HubInfo, HubsResult, StatsResult, TopicInfo, TopicsResult } from '../protocol/query-results.js';
export { Subscription } from './subscription.js';
export { Message } from './message.js';
export { tcpTransport, tlsTransport, type ClientTlsOptions, type Transport } from './transport.js';
export { CorralError, isCorralError } from '../protocol/corral-error.js';
export { ERROR_CODES, type ErrorCode } from '../protocol/error-codes.js';
export { ServiceChannel, type ServiceChannelEvents } from './service-channel.js';
export type { ServiceMessage } from '../protocol/service-envelope.js';
export { FarmClock, type FarmClockOptions, type FarmTime } from '../services/clock/farm-clock.js';
export { DataSet, type DataSetChange, type DataSetEvents, type DataSetOptions, type Retrieval } from '../services/sync/data-set.js';
export { DataSetEditor, type DataSetStatus, type EditResult, type ScheduleResult, type VersionStatus } from '../services/sync/data-set-editor.js';
export { Counters, type CountersEvents, type CountersOptions, type CountersStats, type WatchOptions } from '../services/counters/counters.js';
export { CounterSlots, SlotWriter, type SharedSlots } from '../services/counters/counter-slots.js';
export { WindowedCounter, type WindowClock, type WindowedOptions } from '../services/counters/windowed-counter.js';
export { Gate, type AcquireOptions } from '../services/gates/gate.js';
export { GateWaiter, type GatePosition, type GateWaiterEvents } from '../services/gates/gate-waiter.js';
export { GateSlot, type GateSlotEvents } from '../services/gates/gate-slot.js';
export { waitingRoom, type WaitingRoomHandler, type WaitingRoomOptions } from '../services/gates/waiting-room.js';
