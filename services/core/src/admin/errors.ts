/**
 * The one error type of the admin APIs: an HTTP status and a stable `code`
 * that programs match on (never the message, which is for people), plus
 * the input field at fault when there is one. The router turns it into
 * `{ error, code, field? }`; the client turns that back into an
 * {@link AdminCallError}.
 */

/** Every code an admin API answers with. Stable: the CLI, the web pages and tests match on them. */
export const API_ERROR_CODES = [
  'unauthorized',
  'not-found',
  'method-not-allowed',
  'bad-json',
  'bad-argument',
  'body-too-large',
  'unknown-queue-id',
  'unknown-profile',
  'unknown-user',
  'unknown-domain',
  'unsupported',
  'too-many-clients',
  'failed',
  'internal',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** The JSON body of every error answer. */
export interface ApiErrorBody {
  error: string;
  code: ApiErrorCode;
  /** The input field at fault (`bad-argument`), e.g. `delayMs` or `address`. */
  field?: string;
}

/** Thrown by a handler (or the router) to answer with `status` and `code`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  body(): ApiErrorBody {
    return { error: this.message, code: this.code, ...(this.field ? { field: this.field } : {}) };
  }
}

/** 404 with a specific code (unknown-queue-id, unknown-user, …). */
export const notFound = (code: ApiErrorCode, message: string) => new ApiError(404, code, message);
