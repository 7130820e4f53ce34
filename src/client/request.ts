import type { CorralError } from '../protocol/corral-error.js';
import type { ErrorCode } from '../protocol/error-codes.js';
import type { HubConnection, OutgoingRequest, ReplyFrame } from './hub-connection.js';

const RETRY_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['SHUTTING_DOWN', 'NOT_OWNER', 'STORE_UNAVAILABLE', 'FENCED', 'OVERLOADED', 'OUT_OF_ORDER']);

/**
 * One request of the client [P-1.5], from the moment the application makes it
 * until it is settled, across resends on other connections (after a lost
 * connection, a redirect or a retryable error).
 */
export abstract class Request implements OutgoingRequest {
  corr = 0;
  /** The connection it is in flight on; undefined while it waits to be (re)sent. */
  conn: HubConnection<Request> | undefined;
  /** Links of the client's creation-ordered request list. */
  prev: Request | undefined;
  next: Request | undefined;
  listed = false;
  redirects = 0;
  retries = 0;
  /** Not to be resent before this time (Date.now() ms), after a retryable error. */
  notBefore = 0;
  /** False for a request tied to its connection (DETACH): never resent, settled by `connectionLost`. */
  readonly resendable: boolean = true;

  constructor(
    /** The topic it is routed by [P-6.1]; undefined for requests any hub answers (QUERY). */
    readonly topic: string | undefined,
    /** When it fails with TIMEOUT (Date.now() ms); Infinity for requests the client makes itself. */
    readonly deadline: number,
  ) {}

  abstract encode(corr: number, features: ReadonlySet<string>): Buffer;
  abstract complete(frame: ReplyFrame, conn: HubConnection<Request>): void;
  abstract fail(err: CorralError): void;

  /** A refusal that means "not applied, try again later or through another hub" ([P-4.2], [P-5.9], [P-6.1]). */
  retriesOn(err: CorralError): boolean {
    return RETRY_CODES.has(err.code);
  }

  /** The connection it was in flight on closed: true when that settles it, false to resend it elsewhere. */
  connectionLost(): boolean {
    this.lostInFlight();
    return false;
  }

  /**
   * It was given up while in flight, or its connection closed or went
   * silent: the hub may have applied it without the answer arriving. Requests
   * whose outcome then matters (a publish) remember it.
   */
  lostInFlight(): void {}

  written(): void {}
}
