import { ERROR_CODES, type ErrorCode } from './error-codes.js';

/**
 * The one error class of Corral. The hub raises it, the ERROR frame carries its
 * code, and the client rebuilds the same class from the frame, so callers
 * branch on `err.code` (never on the message) and on `err.retryable`.
 */
export class CorralError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code].summary, options);
    this.name = 'CorralError';
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
  }
}

export function isCorralError(err: unknown, code?: ErrorCode): err is CorralError {
  return err instanceof CorralError && (code === undefined || err.code === code);
}
