import { CorralError } from '../../protocol/corral-error.js';
import { DEFAULT_GATE_CONFIG, type GateConfig } from './gate-frames.js';

const DAY = 86_400_000;

function whole(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/**
 * A gate's settings after applying `change` to `base` (the defaults for a
 * new gate) [P-15.2]; INVALID_LIMIT or INVALID_ARGUMENT naming the field,
 * and nothing applied, when a value is out of range or unknown.
 */
export function mergeGateConfig(base: GateConfig | undefined, change: Record<string, unknown>): GateConfig {
  const known = new Set(['limit', 'leaseMs', 'graceMs', 'classes', 'perMinute', 'opensAt']);
  for (const k of Object.keys(change)) if (!known.has(k)) throw new CorralError('INVALID_ARGUMENT', `unknown gate setting ${JSON.stringify(k)}`);
  const merged = { ...DEFAULT_GATE_CONFIG, ...base, ...change } as Record<string, unknown>;
  if (!whole(merged.limit, 1, 1_000_000)) throw new CorralError('INVALID_LIMIT', `a gate's limit must be a whole number from 1 to 1000000, not ${JSON.stringify(merged.limit)}`);
  if (!whole(merged.perMinute, 0, 1_000_000)) throw new CorralError('INVALID_LIMIT', `perMinute must be a whole number from 0 (no limit) to 1000000, not ${JSON.stringify(merged.perMinute)}`);
  for (const k of ['leaseMs', 'graceMs']) {
    if (!whole(merged[k], 100, DAY)) throw new CorralError('INVALID_ARGUMENT', `${k} must be whole milliseconds from 100 to ${DAY}, not ${JSON.stringify(merged[k])}`);
  }
  if (!whole(merged.classes, 1, 8)) throw new CorralError('INVALID_ARGUMENT', `classes must be 1 to 8, not ${JSON.stringify(merged.classes)}`);
  if (!whole(merged.opensAt, 0, Number.MAX_SAFE_INTEGER)) throw new CorralError('INVALID_ARGUMENT', `opensAt must be farm time in ms (0 = open), not ${JSON.stringify(merged.opensAt)}`);
  if (base && merged.classes as number < base.classes) throw new CorralError('INVALID_ARGUMENT', 'the number of classes of a gate cannot shrink (its waiters keep their class)');
  return merged as unknown as GateConfig;
}
