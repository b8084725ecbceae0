/**
 * The service: calls the flaky upstream (the api-client example's server) through a stack of
 * staunch decorators, written above Nest's own where Nest has any (here none: a provider). The
 * numbers come from the app's policy defaults (`StaunchModule.forRoot({ defaults })` in
 * app.module.ts); each decorator says what is this method's own: which errors count, a name.
 *
 * - `@Retry` (outermost): three calls in all, 100 ms apart (the defaults), on 5xx answers and
 *   network errors; never on `CircuitOpenError` (while the circuit is open, failing fast is the point);
 * - `@CircuitBreaker`: three failures in a row open it for 1 s (the defaults), for every instance (class scope);
 * - `@Timeout`: each attempt gets 500 ms; its signal aborts the request.
 */
import { Inject, Injectable } from '@nestjs/common';
import { CircuitBreaker, Retry, Timeout, attemptSignal, isCallTimeoutError } from '@staunch/decorators';

/** A user, as the upstream's `GET /users/:id` returns it. */
export interface User {
  readonly id: string;
  readonly name: string;
}

/** The upstream failed: an error status, or no answer at all (`status` undefined). */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Worth another try: a 5xx, a network error, an attempt that timed out. Not a 4xx. */
export function isTransient(error: unknown): boolean {
  return (error instanceof UpstreamError && (error.status ?? 500) >= 500) || isCallTimeoutError(error);
}

/** The injection token of the upstream's base URL. */
export const UPSTREAM_URL = 'UPSTREAM_URL';

@Injectable()
export class UsersService {
  constructor(@Inject(UPSTREAM_URL) private readonly upstream: string) {}

  @Retry(isTransient)
  @CircuitBreaker(isTransient, { name: 'upstream' })
  @Timeout(500)
  async getUser(id: string): Promise<User> {
    const signal = attemptSignal(); // before the first await: aborted when the attempt times out
    let response: Response;
    try {
      response = await fetch(`${this.upstream}/users/${encodeURIComponent(id)}`, { signal });
    } catch (error) {
      throw new UpstreamError('the upstream did not answer', undefined, { cause: error });
    }
    if (!response.ok) throw new UpstreamError(`the upstream answered ${response.status}`, response.status);
    return (await response.json()) as User;
  }
}
