import type { HubService } from '../hub/hub-service.js';
import { ClockService } from './clock/clock-service.js';
import { CountersService } from './counters/counters-service.js';
import { GateService } from './gates/gate-service.js';
import { SyncService } from './sync/sync-service.js';

/** Settings of the built-in services from `corral start`'s options. */
export interface BuiltInServiceOptions {
  countersBranchIntervalMs?: number;
}

/** The services `corral start` and `corral dev` run; a new built-in service is added here. */
export function builtInServices(opts: BuiltInServiceOptions = {}): HubService[] {
  return [
    new ClockService(), new SyncService(), new CountersService({ branchSyncIntervalMs: opts.countersBranchIntervalMs }),
    new GateService({ key: process.env.CORRAL_GATE_KEY }),
  ];
}
