import type { HubService } from '../hub/hub-service.js';
import { ClockService } from './clock/clock-service.js';
import { CountersService } from './counters/counters-service.js';
import { GateService } from './gates/gate-service.js';
import { SyncService } from './sync/sync-service.js';

/** The services `corral start` and `corral dev` run; a new built-in service is added here. */
export function builtInServices(): HubService[] {
  return [new ClockService(), new SyncService(), new CountersService(), new GateService({ key: process.env.CORRAL_GATE_KEY })];
}
