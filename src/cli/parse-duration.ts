import { InvalidArgumentError } from 'commander';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1h", "30m", "10s", "1h30m", "250ms", "2d" → milliseconds; a bare number is milliseconds. */
export function parseDuration(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(\d+(ms|s|m|h|d))+$/.test(text)) throw new InvalidArgumentError(`expected a duration like 10s, 30m, 1h or 1h30m, not ${JSON.stringify(text)}`);
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  if (!Number.isSafeInteger(ms)) throw new InvalidArgumentError(`duration ${text} is too long`);
  return ms;
}
