// What the in-process store tests share: a failing dependency, call outcomes, and waits on real time
// (the server's clock drives windows and leases, so these tests cannot use the virtual clock).
import { isCircuitOpenError, type CircuitBreakerPolicy } from '@staunch/core';

/** The dependency's failure, counted by the breakers under test (`on: Down`). */
export class Down extends Error {}

export const fail = (): never => {
  throw new Down('dependency down');
};

export const succeed = (): string => 'ok';

/** Runs the sync `fn` through `breaker` and says what happened. */
export function outcome(breaker: CircuitBreakerPolicy, fn: () => string): 'ok' | 'failed' | 'rejected' {
  try {
    breaker.executeSync(fn);
    return 'ok';
  } catch (error) {
    return isCircuitOpenError(error) ? 'rejected' : 'failed';
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 5 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
