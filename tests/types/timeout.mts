// @Timeout, timeout and timeoutPolicy: what must and must not compile, in both decorator modes.
import {
  CallTimeoutError,
  Retry,
  Timeout,
  TimeoutError,
  attemptSignal,
  isCallTimeoutError,
  policiesOf,
  policyOf,
  timeout,
  timeoutPolicy,
  type PolicyDescriptor,
  type TimeoutPolicy,
} from '@staunch/decorators';

import type { Equal, Expect } from './helpers/expect.js';

export class Users {
  @Retry(CallTimeoutError, { times: 2 })
  @Timeout(2_000)
  async fetch(id: string): Promise<string> {
    const signal = attemptSignal();
    return signal.aborted ? '' : id;
  }

  @Timeout(Infinity, { clock: undefined })
  async unbounded(): Promise<void> {}

  // @ts-expect-error @Timeout needs a method that returns a Promise: a sync method cannot be abandoned
  @Timeout(100)
  syncTimeout(): number {
    return 1;
  }
}

// @ts-expect-error `ms` is a number of milliseconds
Timeout('1s');
// @ts-expect-error `ms` is required
Timeout();

export const name: Promise<string> = timeout(({ signal }) => Promise.resolve(signal.aborted ? '' : 'x'), 100);
export const withSignal: Promise<number> = timeout(() => 1, 100, { signal: new AbortController().signal });
// @ts-expect-error the result is the function's value type
export const wrong: Promise<number> = timeout(() => 'x', 100);

const policy = timeoutPolicy(500);
type _Policy = Expect<Equal<typeof policy, TimeoutPolicy>>;
type _Live = Expect<Equal<ReturnType<typeof policyOf<'timeout'>>, TimeoutPolicy>>;
type _Kind = Expect<Equal<TimeoutPolicy['kind'], 'timeout'>>;
type _Ms = Expect<Equal<TimeoutPolicy['options']['timeout'], number>>;
export const viaPolicy: Promise<string> = policy.execute(() => Promise.resolve('x'));

declare const error: unknown;
if (isCallTimeoutError(error)) {
  type _Error = Expect<Equal<typeof error, CallTimeoutError>>;
  const base: TimeoutError = error;
  void base;
}

const descriptor: PolicyDescriptor | undefined = policiesOf(Users, 'fetch')[1];
if (descriptor?.kind === 'timeout') {
  const ms: number = descriptor.options.timeout;
  void ms;
}
