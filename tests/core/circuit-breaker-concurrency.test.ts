import { circuitBreaker, isCircuitOpenError } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, deferred, type Deferred } from './circuit-breaker-helpers';

describe('circuitBreaker under 10,000 concurrent async calls', () => {
  it('accounts for every call across a trip and a recovery, and never runs more than halfOpenCalls trials', async () => {
    const clock = new VirtualClock();
    const halfOpenCalls = 5;
    const breaker = circuitBreaker({ on: Boom, threshold: 3, resetTimeout: 1_000, halfOpenCalls, clock });
    const controls: Deferred<string>[] = [];
    let ran = 0;
    let runningInHalfOpen = 0;
    let maxRunningInHalfOpen = 0;
    const fn = async () => {
      ran++;
      const control = deferred();
      controls.push(control);
      if (breaker.state === 'half-open') {
        maxRunningInHalfOpen = Math.max(maxRunningInHalfOpen, ++runningInHalfOpen);
        control.promise.then(
          () => runningInHalfOpen--,
          () => runningInHalfOpen--,
        );
      }
      return control.promise;
    };
    const results: Promise<unknown>[] = [];
    const launch = (n: number) => {
      for (let i = 0; i < n; i++)
        results.push(
          breaker.execute(fn).then(
            () => 'ok',
            (error: unknown) => error,
          ),
        );
    };

    // Closed: 2,000 calls in flight at once; then three of them fail and trip it.
    launch(2_000);
    expect(ran).toBe(2_000);
    for (const control of controls.slice(0, 3)) control.reject(new Boom());
    await clock.flush();
    expect(breaker.state).toBe('open');

    // Open: 3,000 calls rejected at once; the other 1,997 first calls failing late change nothing.
    launch(3_000);
    expect(ran).toBe(2_000);
    for (const control of controls.slice(3, 2_000)) control.reject(new Boom());
    await clock.flush();
    expect(breaker.state).toBe('open');

    // Half-open: of 3,000 concurrent calls exactly halfOpenCalls run; all succeed and close it.
    await clock.advance(1_000);
    launch(3_000);
    expect(ran).toBe(2_000 + halfOpenCalls);
    for (const control of controls.slice(2_000)) control.resolve('ok');
    await clock.flush();
    expect(breaker.state).toBe('closed');

    // Closed again: 2,000 more calls all run.
    launch(2_000);
    for (const control of controls.slice(2_000 + halfOpenCalls)) control.resolve('ok');
    const outcomes = await Promise.all(results);

    const rejected = outcomes.filter(isCircuitOpenError).length;
    const succeeded = outcomes.filter((o) => o === 'ok').length;
    const failed = outcomes.filter((o) => o instanceof Boom).length;
    expect(outcomes).toHaveLength(10_000);
    expect(ran).toBe(2_000 + halfOpenCalls + 2_000);
    expect(rejected).toBe(3_000 + 3_000 - halfOpenCalls);
    expect(succeeded + failed + rejected).toBe(10_000);
    expect(failed).toBe(2_000);
    expect(maxRunningInHalfOpen).toBe(halfOpenCalls);
    expect(breaker.statistics).toEqual({
      calls: ran,
      successes: succeeded,
      failures: failed,
      ignoredErrors: 0,
      slowCalls: 0,
      rejections: rejected,
      aborted: 0,
    });
  });
});
