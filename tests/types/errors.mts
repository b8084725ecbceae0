// ES-module consumer: the error classes and guards of @staunch/core, as published.
import {
  AttemptTimeoutError,
  CircuitOpenError,
  DeadlineExceededError,
  PollTimeoutError,
  StaunchError,
  TimeoutError,
  isAttemptTimeoutError,
  isCircuitOpenError,
  isDeadlineExceededError,
  isPollTimeoutError,
  isStaunchError,
  isTimeoutError,
} from '@staunch/core';

import type { Equal, Expect } from './helpers/expect.js';
import { expectAssignable } from './helpers/expect.js';

// The hierarchy: StaunchError -> TimeoutError -> Poll/Attempt/Deadline; CircuitOpenError is not a TimeoutError.
expectAssignable<TimeoutError>(new PollTimeoutError(1_000, 3, 'pending'));
expectAssignable<TimeoutError>(new AttemptTimeoutError(500, 2));
expectAssignable<TimeoutError>(new DeadlineExceededError(1_000));
expectAssignable<StaunchError>(new CircuitOpenError('db', 1_500));
expectAssignable<Error>(new CircuitOpenError('db', 1_500));
// @ts-expect-error CircuitOpenError has no `timeout`: it is not a TimeoutError
expectAssignable<TimeoutError>(new CircuitOpenError('db', 1_500));

// Errors carry data, typed and read-only.
const open = new CircuitOpenError('db', 1_500);
type _Open = Expect<Equal<[typeof open.retryAfter, typeof open.circuit, typeof open.code], [number, string, string]>>;
// @ts-expect-error retryAfter is read-only
open.retryAfter = 0;

const polled = new PollTimeoutError(1_000, 3, { state: 'pending' as const });
type _LastValue = Expect<Equal<typeof polled.lastValue, { state: 'pending' }>>;
type _Attempts = Expect<Equal<typeof polled.attempts, number>>;
const attemptTimeout = new AttemptTimeoutError(500, 2);
type _Attempt = Expect<Equal<[typeof attemptTimeout.attempt, typeof attemptTimeout.timeout], [number, number]>>;

// @ts-expect-error CircuitOpenError needs the circuit's name and retryAfter
new CircuitOpenError();

// The guards narrow `unknown`.
declare const caught: unknown;
// @ts-expect-error `caught` is unknown until narrowed
caught.code;
if (isStaunchError(caught)) {
  type _Staunch = Expect<Equal<typeof caught.code, string>>;
}
if (isTimeoutError(caught)) expectAssignable<number>(caught.timeout);
if (isPollTimeoutError(caught)) expectAssignable<number>(caught.attempts);
if (isAttemptTimeoutError(caught)) expectAssignable<number>(caught.attempt);
if (isDeadlineExceededError(caught)) expectAssignable<TimeoutError>(caught);
if (isCircuitOpenError(caught)) {
  type _RetryAfter = Expect<Equal<typeof caught.retryAfter, number>>;
}
