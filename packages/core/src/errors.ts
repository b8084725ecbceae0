/** Brand shared by every copy of this module (ESM and CJS builds loaded side by side). */
const brand = Symbol.for('staunch.error');
/** The same, for {@link TimeoutError} and its subclasses. */
const timeoutBrand = Symbol.for('staunch.timeoutError');

/** Base class of every error staunch makes; `code` says which one. */
export class StaunchError extends Error {
  /** A stable, machine-readable identifier, such as `'STAUNCH_CIRCUIT_OPEN'`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  static {
    Object.defineProperty(this.prototype, brand, { value: true });
    Object.defineProperty(this.prototype, 'name', { value: 'StaunchError', writable: true, configurable: true });
    recognise(this, isStaunchError);
  }
}

/** Something took longer than it was allowed to. */
export class TimeoutError extends StaunchError {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeout: number;

  constructor(code: string, message: string, timeout: number, options?: ErrorOptions) {
    super(code, message, options);
    this.timeout = timeout;
  }

  static {
    Object.defineProperty(this.prototype, timeoutBrand, { value: true });
    setName(this, 'TimeoutError');
    recognise(this, isTimeoutError);
  }
}

/** `poll` gave up: the predicate never held within `timeout`. */
export class PollTimeoutError<T = unknown> extends TimeoutError {
  /** How many times the function was called. */
  readonly attempts: number;
  /** The value the last call returned (which did not satisfy the predicate). */
  readonly lastValue: T;

  constructor(timeout: number, attempts: number, lastValue: T) {
    super(
      'STAUNCH_POLL_TIMEOUT',
      `Polling timed out after ${timeout} ms and ${attempts} attempt${attempts === 1 ? '' : 's'}: the condition was never met. ` +
        'Raise `timeout`, or check the predicate against `error.lastValue`.',
      timeout,
    );
    this.attempts = attempts;
    this.lastValue = lastValue;
  }

  static {
    setName(this, 'PollTimeoutError');
    recognise(this, (error) => hasCode(error, 'STAUNCH_POLL_TIMEOUT'));
  }
}

/** One attempt ran longer than `attemptTimeout` and was abandoned (its signal aborted). */
export class AttemptTimeoutError extends TimeoutError {
  /** Which attempt timed out (1 for the first). */
  readonly attempt: number;

  constructor(timeout: number, attempt: number) {
    super(
      'STAUNCH_ATTEMPT_TIMEOUT',
      `Attempt ${attempt} took longer than the attemptTimeout of ${timeout} ms and was abandoned.`,
      timeout,
    );
    this.attempt = attempt;
  }

  static {
    setName(this, 'AttemptTimeoutError');
    recognise(this, (error) => hasCode(error, 'STAUNCH_ATTEMPT_TIMEOUT'));
  }
}

/** A call under `@Timeout` / `timeout` ran longer than its limit: it was abandoned and its signal aborted. */
export class CallTimeoutError extends TimeoutError {
  constructor(timeout: number) {
    super(
      'STAUNCH_CALL_TIMEOUT',
      `The call took longer than its timeout of ${timeout} ms and was abandoned (its signal aborted; whatever it ` +
        'does afterwards is ignored). Raise the timeout if the work is legitimately slow, or pass the signal ' +
        '(`attemptSignal()` / `context.signal`) to the I/O so the abandoned work stops too.',
      timeout,
    );
  }

  static {
    setName(this, 'CallTimeoutError');
    recognise(this, (error) => hasCode(error, 'STAUNCH_CALL_TIMEOUT'));
  }
}

/** The whole call, attempts and pauses included, ran past its `deadline` before any attempt failed. */
export class DeadlineExceededError extends TimeoutError {
  constructor(deadline: number) {
    super('STAUNCH_DEADLINE_EXCEEDED', `The deadline of ${deadline} ms passed before any attempt completed.`, deadline);
  }

  static {
    setName(this, 'DeadlineExceededError');
    recognise(this, (error) => hasCode(error, 'STAUNCH_DEADLINE_EXCEEDED'));
  }
}

/** The circuit is open (or its half-open trial slots are taken): the call was rejected without running. */
export class CircuitOpenError extends StaunchError {
  /** Milliseconds until the circuit lets a trial call through; 0 when a trial is already running; `Infinity` while isolated. */
  readonly retryAfter: number;
  /** The circuit's name, as given in its options. */
  readonly circuit: string;

  constructor(circuit: string, retryAfter: number, options?: ErrorOptions) {
    super(
      'STAUNCH_CIRCUIT_OPEN',
      retryAfter === Infinity
        ? `Circuit "${circuit}" is isolated: calls are rejected until it is reset.`
        : `Circuit "${circuit}" is open: the call was rejected without running. Retry after ${Math.ceil(retryAfter)} ms.`,
      options,
    );
    this.retryAfter = retryAfter;
    this.circuit = circuit;
  }

  static {
    setName(this, 'CircuitOpenError');
    recognise(this, (error) => hasCode(error, 'STAUNCH_CIRCUIT_OPEN'));
  }
}

/** Why a bulkhead rejected a call: its queue was full, or the call waited `maxWait` ms for a slot. */
export type BulkheadRejectionReason = 'full' | 'maxWait';

/**
 * A bulkhead rejected the call without running it: `limit` calls were running
 * and its queue was full (`reason: 'full'`), or it waited in the queue for
 * `maxWait` ms without getting a slot (`reason: 'maxWait'`). Not a
 * {@link TimeoutError}: nothing ran too long, there was no room.
 */
export class BulkheadRejectedError extends StaunchError {
  /** How many calls the bulkhead runs at once. */
  readonly limit: number;
  /** How many calls may wait for a slot. */
  readonly queue: number;
  /** `'full'` (no room in the queue) or `'maxWait'` (waited too long in it). */
  readonly reason: BulkheadRejectionReason;

  constructor(limit: number, queue: number, reason: BulkheadRejectionReason, maxWait: number) {
    super(
      'STAUNCH_BULKHEAD_REJECTED',
      reason === 'full'
        ? `Bulkhead full: ${limit} call${limit === 1 ? '' : 's'} running and ${queue} waiting, so the call was ` +
            'rejected without running. Raise `limit` or `queue`, or retry later.'
        : `The call waited ${maxWait} ms for a free bulkhead slot (limit ${limit}) and was rejected without ` +
            'running. Raise `maxWait` or `limit`, or retry later.',
    );
    this.limit = limit;
    this.queue = queue;
    this.reason = reason;
  }

  static {
    setName(this, 'BulkheadRejectedError');
    recognise(this, (error) => hasCode(error, 'STAUNCH_BULKHEAD_REJECTED'));
  }
}

/**
 * Why a rate limiter rejected a call: no permit was free and the limiter
 * queues no calls (`'limit'`), its queue was full (`'full'`), or the call
 * waited `maxWait` ms in the queue without getting a permit (`'maxWait'`).
 */
export type RateLimitRejectionReason = 'limit' | 'full' | 'maxWait';

/**
 * A rate limiter rejected the call without running it: `permits` calls were
 * already admitted in the last `per` ms. `retryAfter` says how long until a
 * permit frees (an estimate for a limiter shared between processes).
 */
export class RateLimitedError extends StaunchError {
  /** Milliseconds until the limiter next has a permit to give (0 when one frees now). */
  readonly retryAfter: number;
  /** How many calls the limiter admits per `per` ms. */
  readonly permits: number;
  /** The limiter's period, in ms. */
  readonly per: number;
  /** `'limit'`, `'full'` or `'maxWait'`. */
  readonly reason: RateLimitRejectionReason;

  constructor(permits: number, per: number, reason: RateLimitRejectionReason, retryAfter: number) {
    const wait = `Retry after ${Math.ceil(retryAfter)} ms`;
    super(
      'STAUNCH_RATE_LIMITED',
      reason === 'maxWait'
        ? `The call waited its maxWait for a permit of the rate limit (${permits} per ${per} ms) and was rejected ` +
            `without running. ${wait}, or raise \`maxWait\`.`
        : `Rate limit reached (${permits} per ${per} ms)${reason === 'full' ? ' and its queue is full' : ''}: the ` +
            `call was rejected without running. ${wait}.`,
    );
    this.retryAfter = retryAfter;
    this.permits = permits;
    this.per = per;
    this.reason = reason;
  }

  static {
    setName(this, 'RateLimitedError');
    recognise(this, (error) => hasCode(error, 'STAUNCH_RATE_LIMITED'));
  }
}

/** `attemptSignal()` was called outside the synchronous start of an attempt. */
export class AttemptSignalError extends StaunchError {
  constructor() {
    super(
      'STAUNCH_ATTEMPT_SIGNAL_UNAVAILABLE',
      'attemptSignal() was called outside an attempt: call attemptSignal() synchronously at the top of the decorated ' +
        'method, before the first await, and keep the signal in a variable. With the functional API, read `context.signal`.',
    );
  }

  static {
    setName(this, 'AttemptSignalError');
    recognise(this, (error) => hasCode(error, 'STAUNCH_ATTEMPT_SIGNAL_UNAVAILABLE'));
  }
}

/**
 * The reason a hedged call's other attempts are aborted with (their `attemptSignal()`) once it is
 * settled without them: another attempt succeeded first, or one failed with an error that ends the call.
 */
export class HedgeAbandonedError extends StaunchError {
  /** Which attempt this was (1 for the first). */
  readonly attempt: number;

  constructor(attempt: number) {
    super(
      'STAUNCH_HEDGE_ABANDONED',
      `Hedged attempt ${attempt} was abandoned: the call was settled by another attempt. Nothing to fix: stop the ` +
        'work of this attempt (its signal is aborted).',
    );
    this.attempt = attempt;
  }

  static {
    setName(this, 'HedgeAbandonedError');
    recognise(this, (error) => hasCode(error, 'STAUNCH_HEDGE_ABANDONED'));
  }
}

/** True for {@link HedgeAbandonedError}. */
export const isHedgeAbandonedError = (error: unknown): error is HedgeAbandonedError =>
  hasCode(error, 'STAUNCH_HEDGE_ABANDONED');

/** True for any error made by staunch, from any copy of the package. */
export function isStaunchError(error: unknown): error is StaunchError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[brand] === true;
}

/** True for {@link TimeoutError} and its subclasses. */
export function isTimeoutError(error: unknown): error is TimeoutError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[timeoutBrand] === true;
}

/** True for {@link PollTimeoutError}. */
export const isPollTimeoutError = (error: unknown): error is PollTimeoutError => hasCode(error, 'STAUNCH_POLL_TIMEOUT');
/** True for {@link AttemptTimeoutError}. */
export const isAttemptTimeoutError = (error: unknown): error is AttemptTimeoutError =>
  hasCode(error, 'STAUNCH_ATTEMPT_TIMEOUT');
/** True for {@link CallTimeoutError}. */
export const isCallTimeoutError = (error: unknown): error is CallTimeoutError => hasCode(error, 'STAUNCH_CALL_TIMEOUT');
/** True for {@link DeadlineExceededError}. */
export const isDeadlineExceededError = (error: unknown): error is DeadlineExceededError =>
  hasCode(error, 'STAUNCH_DEADLINE_EXCEEDED');
/** True for {@link CircuitOpenError}. */
export const isCircuitOpenError = (error: unknown): error is CircuitOpenError => hasCode(error, 'STAUNCH_CIRCUIT_OPEN');

/** True for {@link BulkheadRejectedError}. */
export const isBulkheadRejectedError = (error: unknown): error is BulkheadRejectedError =>
  hasCode(error, 'STAUNCH_BULKHEAD_REJECTED');

/** True for {@link RateLimitedError}. */
export const isRateLimitedError = (error: unknown): error is RateLimitedError => hasCode(error, 'STAUNCH_RATE_LIMITED');

/** True for {@link AttemptSignalError}. */
export const isAttemptSignalError = (error: unknown): error is AttemptSignalError =>
  hasCode(error, 'STAUNCH_ATTEMPT_SIGNAL_UNAVAILABLE');

function hasCode(error: unknown, code: string): boolean {
  return isStaunchError(error) && error.code === code;
}

function setName(errorClass: { prototype: Error }, name: string): void {
  Object.defineProperty(errorClass.prototype, 'name', { value: name, writable: true, configurable: true });
}

/**
 * Makes `instanceof errorClass` also hold for the same error made by another
 * copy of this package (the ESM and CJS builds loaded side by side), which is
 * recognised by its registered brand and code. Only for the class itself: a
 * user's subclass keeps the plain prototype check.
 */
function recognise(errorClass: abstract new (...args: never[]) => unknown, matches: (error: unknown) => boolean): void {
  Object.defineProperty(errorClass, Symbol.hasInstance, {
    value: function (this: unknown, value: unknown): boolean {
      return ordinaryHasInstance.call(this, value) || (this === errorClass && matches(value));
    },
    configurable: true,
  });
}

const ordinaryHasInstance = Function.prototype[Symbol.hasInstance] as (this: unknown, value: unknown) => boolean;
