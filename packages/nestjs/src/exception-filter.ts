import { Catch, HttpStatus, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { StaunchError, isBulkheadRejectedError, isCircuitOpenError } from '@staunch/decorators';

/** The code of the rate limiter's rejection (`'STAUNCH_RATE_LIMITED'`, the convention of `StaunchError` codes). */
export const RATE_LIMITED_CODE = 'STAUNCH_RATE_LIMITED';

/** The HTTP answer {@link StaunchExceptionFilter} gives a staunch rejection, or undefined for other errors. */
export interface StaunchHttpAnswer {
  readonly status: number;
  /** Whole seconds for the `Retry-After` header; absent when unknown. */
  readonly retryAfter?: number;
}

/**
 * How a staunch rejection maps to HTTP: an open circuit and a full bulkhead are 503 Service
 * Unavailable, a rate-limited call is 429 Too Many Requests, each with `Retry-After` when the
 * error says when (its `retryAfter`, ms, rounded up to whole seconds). Other errors (timeouts
 * included: the app decides what a timeout means) get `undefined`.
 *
 * @example
 * import { CircuitOpenError } from '@staunch/decorators';
 * import { httpAnswerOf } from '@staunch/nestjs';
 *
 * httpAnswerOf(new CircuitOpenError('payments', 1_500)); // { status: 503, retryAfter: 2 }
 */
export function httpAnswerOf(error: unknown): StaunchHttpAnswer | undefined {
  let status: number;
  if (isCircuitOpenError(error) || isBulkheadRejectedError(error)) status = HttpStatus.SERVICE_UNAVAILABLE;
  else if (error instanceof StaunchError && error.code === RATE_LIMITED_CODE) status = HttpStatus.TOO_MANY_REQUESTS;
  else return undefined;
  const after = (error as { readonly retryAfter?: unknown }).retryAfter;
  // An isolated circuit (Infinity) has no time to announce.
  return typeof after === 'number' && Number.isFinite(after) && after >= 0
    ? { status, retryAfter: Math.ceil(after / 1_000) }
    : { status };
}

/**
 * An exception filter for HTTP apps: answers staunch rejections as {@link httpAnswerOf} says
 * (503 or 429 with `Retry-After`, body `{ statusCode, error, message, code }`), and hands every
 * other error to Nest's own handling. `StaunchModule` installs it globally; or register it yourself.
 *
 * @example
 * import { NestFactory, HttpAdapterHost } from '@nestjs/core';
 * import { StaunchExceptionFilter } from '@staunch/nestjs';
 *
 * async function bootstrap(AppModule: object): Promise<void> {
 *   const app = await NestFactory.create(AppModule);
 *   app.useGlobalFilters(new StaunchExceptionFilter(app.get(HttpAdapterHost).httpAdapter));
 *   await app.listen(3000);
 * }
 */
export class StaunchExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const answer = host.getType() === 'http' ? httpAnswerOf(exception) : undefined;
    const adapter = this.applicationRef ?? this.httpAdapterHost?.httpAdapter;
    if (answer === undefined || adapter === undefined) {
      super.catch(exception, host);
      return;
    }
    const response: unknown = host.switchToHttp().getResponse();
    if (adapter.isHeadersSent(response)) {
      adapter.end(response);
      return;
    }
    if (answer.retryAfter !== undefined) adapter.setHeader(response, 'Retry-After', String(answer.retryAfter));
    const error = exception as StaunchError;
    const body = {
      statusCode: answer.status,
      error: answer.status === 429 ? 'Too Many Requests' : 'Service Unavailable',
      message: error.message,
      code: error.code,
    };
    adapter.reply(response, body, answer.status);
  }
}
Catch(StaunchError)(StaunchExceptionFilter);
