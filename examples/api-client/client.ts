/**
 * An API client whose methods stack staunch's decorators the way a production client would:
 *
 * - `getUser`: `@Retry` (outermost) → `@CircuitBreaker` → `@AsyncBackoff` as a per-attempt timeout.
 *   Every retry goes through the circuit; every call through the circuit is bounded to 250 ms.
 * - `startExport`: `@AsyncBackoff` alone — attempt timeout, overall deadline, pause, `giveup` —
 *   safe to retry because the POST carries an idempotency key.
 * - `waitForExport`: `@Poll` until the job is done, each poll retried once on a transient fault.
 */
import { AsyncBackoff, CircuitBreaker, Poll, Retry, attemptSignal, isAttemptTimeoutError } from '@staunch/decorators';
import { untracked, type ActivityTracker } from '../support/activity';
import { requestJson } from '../support/json-request';
import type { ExportJob } from './server';

export type { ExportJob } from './server';

/** A user, as `GET /users/:id` returns it. */
export interface User {
  readonly id: string;
  readonly name: string;
}

/** The server answered with an error status. */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    readonly path: string,
  ) {
    super(`HTTP ${status} from ${path}`);
  }

  /** One line for logs. */
  get summary(): string {
    return `HTTP ${this.status}`;
  }
}

/** The request never got an answer: connection refused, reset, or dropped. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';

  constructor(
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(`network error ${code}`, options);
  }

  /** One line for logs. */
  get summary(): string {
    return this.code;
  }
}

/**
 * Worth another try: a 5xx answer, a connection that failed, an attempt that took too long.
 * Not a 4xx (the request is wrong; it will stay wrong), and not `CircuitOpenError`: while the
 * circuit is open, failing fast is the point.
 */
export function isTransient(error: unknown): boolean {
  return (
    (error instanceof HttpError && error.status >= 500) || error instanceof NetworkError || isAttemptTimeoutError(error)
  );
}

let requests = 0;

/** The client. Each instance has its own circuit per method (`scope: 'instance'`). */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly activity: ActivityTracker = untracked,
  ) {}

  @Retry(isTransient, { times: 4, interval: 100 })
  @CircuitBreaker(isTransient, { threshold: 3, resetTimeout: 1_000, counting: 'consecutive', scope: 'instance' })
  @AsyncBackoff({ attemptTimeout: 250, maxTries: 1 })
  async getUser(id: string): Promise<User> {
    const signal = attemptSignal(); // before the first await: aborted when the attempt times out
    return this.request<User>('GET', `/users/${id}`, signal);
  }

  @AsyncBackoff({
    attemptTimeout: 250,
    deadline: 2_000,
    pause: 100,
    maxTries: 4,
    on: isTransient,
    giveup: (error) => error instanceof HttpError && error.status === 501, // "Not Implemented" stays so
  })
  async startExport(idempotencyKey: string): Promise<ExportJob> {
    const signal = attemptSignal();
    return this.request<ExportJob>('POST', '/exports', signal, { 'idempotency-key': idempotencyKey });
  }

  @Poll((job: ExportJob) => job.state === 'done', { timeout: 5_000, interval: 250 })
  @Retry(isTransient, { times: 2, interval: 100 })
  async waitForExport(id: string): Promise<ExportJob> {
    return this.request<ExportJob>('GET', `/exports/${id}`);
  }

  /** One HTTP request on a fresh connection; JSON in, JSON out. */
  protected request<T>(
    method: string,
    path: string,
    signal?: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<T> {
    return requestJson<T>(`${this.baseUrl}${path}`, {
      id: `http-${++requests}`,
      activity: this.activity,
      method,
      headers,
      signal,
      statusError: (status) => new HttpError(status, path),
      networkError: toNetworkError,
    });
  }
}

function toNetworkError(error: Error): NetworkError {
  const code = (error as NodeJS.ErrnoException).code;
  return new NetworkError(typeof code === 'string' ? code : error.message, { cause: error });
}
