/**
 * The frame-type byte. The space is split into ranges so capabilities can add
 * frames without touching the core codec [P-2.3]:
 *   0x01–0x3F core (this file)        0x40–0x4F sync (data sets)
 *   0x50–0x5F counters                0x60–0x6F gates
 *   0x70–0x7F naming and status       0x80–0x8F bridges
 *   0x90–0xEF reserved                0xF0–0xFF experimental
 * Frames in a service range share one envelope (correlation id + opaque body)
 * that the owning service decodes itself; a range's service name is also the
 * HELLO/WELCOME feature that asks for and grants the service [P-1.4].
 */
export const FrameType = {
  HELLO: 0x01,
  WELCOME: 0x02,
  PING: 0x03,
  PONG: 0x04,
  GOODBYE: 0x05,
  ERROR: 0x06,
  OK: 0x07,
  REDIRECT: 0x08,
  PUBLISH: 0x10,
  PUBLISH_ACK: 0x11,
  SUBSCRIBE: 0x12,
  SUBSCRIBED: 0x13,
  DELIVER: 0x14,
  CREDIT: 0x15,
  ACK: 0x16,
  DETACH: 0x17,
  UNSUBSCRIBE: 0x18,
  CONFIGURE_TOPIC: 0x19,
  DELETE_TOPIC: 0x1a,
  QUERY: 0x20,
  RESULT: 0x21,
} as const;

export type CoreFrameType = (typeof FrameType)[keyof typeof FrameType];

export interface ServiceRange {
  readonly service: string;
  readonly first: number;
  readonly last: number;
}

export const SERVICE_RANGES: readonly ServiceRange[] = [
  { service: 'sync', first: 0x40, last: 0x4f },
  { service: 'counters', first: 0x50, last: 0x5f },
  { service: 'gates', first: 0x60, last: 0x6f },
  { service: 'naming', first: 0x70, last: 0x7f },
  { service: 'bridge', first: 0x80, last: 0x8f },
  { service: 'clock', first: 0x90, last: 0x9f },
  { service: 'experimental', first: 0xf0, last: 0xff },
];

export function serviceRangeOf(type: number): ServiceRange | undefined {
  return SERVICE_RANGES.find((r) => type >= r.first && type <= r.last);
}
