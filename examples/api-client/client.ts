/**
 * An API client whose methods stack staunch's decorators the way a production client would:
 *
 * - `getUser`: `@Retry` (outermost) → `@CircuitBreaker` → `@AsyncBackoff` as a per-attempt timeout.
 *   Every retry goes through the circuit; every call through the circuit is bounded to 250 ms.
 * - `startExport`: `@AsyncBackoff` alone — attempt timeout, overall deadline, pause, `giveup` —
 *   safe to retry because the POST carries an idempotency key.
 * - `waitForExport`: `@Poll` until the job is done, each poll retried once on a transient fault.
 */
import { request } from 'node:http';
import { AsyncBackoff, CircuitBreaker, Poll, Retry, attemptSignal, isAttemptTimeoutError } from '@staunch/decorators';
import { untracked, type ActivityTracker } from '../support/activity';
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
    const id = `http-${++requests}`;
    this.activity.start(id);
    return new Promise<T>((resolve, reject) => {
      const settle = (outcome: () => void) => {
        this.activity.finish(id);
        outcome();
      };
      const req = request(
        `${this.baseUrl}${path}`,
        { method, agent: false, headers: { ...headers, 'x-request-id': id }, ...(signal ? { signal } : {}) },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('error', (error) => {
            settle(() => reject(toNetworkError(error)));
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            settle(() => (status >= 400 ? reject(new HttpError(status, path)) : resolve(JSON.parse(body) as T)));
          });
        },
      );
      req.on('error', (error) => {
        // Aborted (the attempt timed out): reject with the abort reason, which the policy ignores.
        settle(() => reject(signal?.aborted === true ? (signal.reason as Error) : toNetworkError(error)));
      });
      req.end();
    });
  }
}

function toNetworkError(error: Error): NetworkError {
  const code = (error as NodeJS.ErrnoException).code;
  return new NetworkError(typeof code === 'string' ? code : error.message, { cause: error });
}
