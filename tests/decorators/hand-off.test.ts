import {
  Bulkhead,
  CallTimeoutError,
  CircuitBreaker,
  Fallback,
  RateLimit,
  Retry,
  Timeout,
  circuitOf,
  policyOf,
} from '@staunch/decorators';
import { capture, HttpError, useVirtualClock } from './helpers';

// How many promise jobs run before `promise` settles (its own reaction included).
async function jobsUntilSettled(promise: Promise<unknown>): Promise<number> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  let jobs = 0;
  while (!settled) {
    await Promise.resolve();
    jobs++;
  }
  return jobs;
}

// The layers of a decorated stack hand their bookkeeping to the policy around them (handoff.ts): one
// reaction records for all of them. These rules hold whether or not the hand-off is taken.
describe('a decorated stack handing its bookkeeping over', () => {
  const time = useVirtualClock();

  class Toolkit {
    attempts = 0;
    failFirst = 0;
    hang = false;
    seen: { active: number; circuitFailures: number }[] = [];

    @Fallback(0)
    @Retry({ times: 3, interval: 10 })
    @CircuitBreaker({ threshold: 5, resetTimeout: 10_000 })
    @Bulkhead({ limit: 10 })
    @Timeout(100)
    async call(): Promise<number> {
      this.attempts++;
      this.seen.push({
        active: bulkhead().statistics.active,
        circuitFailures: circuitOf(Toolkit, 'call').statistics.failures,
      });
      if (this.hang) return new Promise<never>(() => undefined);
      if (this.attempts <= this.failFirst) throw new HttpError(503);
      return 42;
    }
  }
  const bulkhead = () => policyOf(Toolkit, 'call', 'bulkhead');
  const fallback = () => policyOf(Toolkit, 'call', 'fallback');

  it('settle `@Fallback > @Retry > @CircuitBreaker > @Bulkhead > @Timeout` in as many promise jobs as `@Timeout` alone, every layer having recorded the call', async () => {
    class Timed {
      @Timeout(100)
      async call(): Promise<number> {
        return 42;
      }
    }
    // Read no statistics before the call: a first read turns timing on, which takes the full loop.
    class Stack {
      @Fallback(0)
      @Retry({ times: 3, interval: 10 })
      @CircuitBreaker({ threshold: 5, resetTimeout: 10_000 })
      @Bulkhead({ limit: 10 })
      @Timeout(100)
      async call(): Promise<number> {
        return 42;
      }
    }
    const alone = await jobsUntilSettled(new Timed().call());
    const call = new Stack().call();
    expect(await jobsUntilSettled(call)).toBe(alone);
    expect(await call).toBe(42);
    expect(policyOf(Stack, 'call', 'bulkhead').statistics).toEqual(expect.objectContaining({ active: 0, admitted: 1 }));
    expect(circuitOf(Stack, 'call').statistics).toEqual(expect.objectContaining({ calls: 1, successes: 1 }));
    expect(policyOf(Stack, 'call', 'retry').statistics).toEqual(expect.objectContaining({ calls: 1, successes: 1 }));
    expect(policyOf(Stack, 'call', 'fallback').statistics).toEqual(expect.objectContaining({ calls: 1, successes: 1 }));
  });

  it('release the bulkhead slot and record the failure in the circuit before the retry’s next attempt starts', async () => {
    const service = new Toolkit();
    service.failFirst = 1;
    const failuresBefore = circuitOf(Toolkit, 'call').statistics.failures;
    const call = capture(service.call());
    await time.clock.advance(10);
    expect(await call).toEqual({ ok: true, value: 42 });
    expect(service.seen).toEqual([
      { active: 1, circuitFailures: failuresBefore },
      { active: 1, circuitFailures: failuresBefore + 1 },
    ]);
    expect(bulkhead().statistics.active).toBe(0);
  });

  it('count a timed-out attempt as a failure in every layer: the circuit records it, the slot is freed, the retry retries it and the fallback answers the last', async () => {
    const service = new Toolkit();
    service.hang = true;
    const failuresBefore = circuitOf(Toolkit, 'call').statistics.failures;
    const fallbacksBefore = fallback().statistics.fallbacks;
    const call = capture(service.call());
    await time.clock.advance(100 + 10 + 100 + 10 + 100);
    expect(await call).toEqual({ ok: true, value: 0 });
    expect(service.attempts).toBe(3);
    expect(service.seen.map((seen) => seen.active)).toEqual([1, 1, 1]);
    expect(circuitOf(Toolkit, 'call').statistics.failures).toBe(failuresBefore + 3);
    expect(bulkhead().statistics.active).toBe(0);
    expect(fallback().statistics.fallbacks).toBe(fallbacksBefore + 1);
  });

  it('reject with the timeout’s own error when no fallback answers it', async () => {
    class Bounded {
      @Retry({ times: 1 })
      @Bulkhead({ limit: 1 })
      @Timeout(50)
      async call(): Promise<never> {
        return new Promise<never>(() => undefined);
      }
    }
    const call = capture(new Bounded().call());
    await time.clock.advance(50);
    expect(await call).toEqual({ ok: false, error: expect.any(CallTimeoutError) });
    expect(policyOf(Bounded, 'call', 'bulkhead').statistics).toEqual(expect.objectContaining({ active: 0 }));
  });

  it('call a fallback function with the call’s own `this` and arguments', async () => {
    class Users {
      constructor(readonly name: string) {}

      @Fallback(function (this: Users, _error: unknown, id: string) {
        return `${this.name}:${id}`;
      })
      @CircuitBreaker({ threshold: 5, resetTimeout: 1_000 })
      @Timeout(100)
      async fetch(id: string): Promise<string> {
        throw new HttpError(500 + id.length);
      }
    }
    expect(await new Users('cache').fetch('7')).toBe('cache:7');
    expect(circuitOf(Users, 'fetch').statistics.failures).toBe(1);
  });

  it('give a method body that calls another decorated method a promise settled after that method’s slot is released', async () => {
    class Nested {
      @RateLimit({ permits: 100, per: 1_000 })
      @Bulkhead({ limit: 1 })
      async inner(): Promise<number> {
        return 1;
      }

      // Not `async`: the inner call's promise is the outer method's own result, while the retry's hand-off is open.
      @Retry({ times: 1 })
      outer(): Promise<number> {
        return this.inner().then((value) => {
          activeSeen = policyOf(Nested, 'inner', 'bulkhead').statistics.active;
          return value;
        });
      }
    }
    let activeSeen = -1;
    expect(await new Nested().outer()).toBe(1);
    expect(activeSeen).toBe(0);
  });
});
