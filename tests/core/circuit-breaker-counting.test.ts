import fc from 'fast-check';
import { circuitBreaker, type CircuitBreakerOptions, type CircuitBreakerPolicy, type Clock } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { attempt, Boom, deferred, failTimes, Other } from './circuit-breaker-helpers';

let clock: VirtualClock;
beforeEach(() => {
  clock = new VirtualClock();
});

const breakerWith = (options: CircuitBreakerOptions) =>
  circuitBreaker({ on: Boom, resetTimeout: 1_000, clock, ...options });

const succeed = (breaker: CircuitBreakerPolicy, times = 1) => {
  for (let i = 0; i < times; i++) breaker.executeSync(() => 'ok');
};

describe("circuitBreaker counting: 'consecutive'", () => {
  it('opens after threshold failures in a row', () => {
    const breaker = breakerWith({ threshold: 3, counting: 'consecutive' });
    failTimes(breaker, 3);
    expect(breaker.state).toBe('open');
  });

  it('starts counting again after any success', () => {
    const breaker = breakerWith({ threshold: 3, counting: 'consecutive' });
    failTimes(breaker, 2);
    succeed(breaker);
    failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('does not forget failures with time', async () => {
    const breaker = breakerWith({ threshold: 2, counting: { mode: 'consecutive' } });
    failTimes(breaker, 1);
    await clock.advance(1_000_000);
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });
});

describe("circuitBreaker counting: 'failure-rate' over a window of calls", () => {
  const counting = { mode: 'failure-rate', rate: 0.5, window: { calls: 10 }, minimumCalls: 4 } as const;

  it('decides nothing before minimumCalls calls', () => {
    const breaker = breakerWith({ counting });
    failTimes(breaker, 3);
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('opens when failures / calls in the window reach rate', () => {
    const breaker = breakerWith({ counting });
    succeed(breaker, 5);
    failTimes(breaker, 4);
    expect(breaker.state).toBe('closed'); // 4 / 9
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open'); // 5 / 10
  });

  it('slides: outcomes older than the last `calls` calls no longer count', () => {
    const breaker = breakerWith({ counting });
    failTimes(breaker, 1);
    succeed(breaker, 3);
    succeed(breaker, 9); // the failure has slid out
    failTimes(breaker, 4);
    expect(breaker.state).toBe('closed'); // 4 / 10
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open'); // 5 / 10
  });

  it('can be opened by a success once minimumCalls is reached (as resilience4j)', () => {
    const breaker = breakerWith({ counting: { ...counting, minimumCalls: 4, rate: 0.75 } });
    failTimes(breaker, 3);
    expect(breaker.state).toBe('closed');
    expect(breaker.executeSync(() => 'the caller still gets its value')).toBe('the caller still gets its value');
    expect(breaker.state).toBe('open'); // 3 / 4
  });

  it('leaves errors not matching `on` out of the rate: they are neither calls nor failures', () => {
    const breaker = breakerWith({ counting });
    for (let i = 0; i < 20; i++) {
      attempt(() =>
        breaker.executeSync(() => {
          throw new Other();
        }),
      );
    }
    succeed(breaker, 3);
    failTimes(breaker, 1);
    expect(breaker.state).toBe('closed'); // 1 / 4: the 20 other errors would have made it 21 / 24
  });

  it('defaults to rate 0.5 over 100 calls, deciding after 100', () => {
    const breaker = breakerWith({ counting: { mode: 'failure-rate' } });
    expect(breaker.options.counting).toEqual({
      mode: 'failure-rate',
      rate: 0.5,
      window: { calls: 100 },
      minimumCalls: 100,
      slowCallDuration: Infinity,
    });
    succeed(breaker, 50);
    failTimes(breaker, 49);
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });
});

describe("circuitBreaker counting: 'failure-rate' over a window of time", () => {
  const counting = { mode: 'failure-rate', rate: 0.5, window: { duration: 1_000 }, minimumCalls: 4 } as const;

  it('opens when failures / calls of the last `duration` ms reach rate, after minimumCalls', () => {
    const breaker = breakerWith({ counting });
    succeed(breaker, 2);
    failTimes(breaker, 1);
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('forgets calls older than the window (a bucket, a tenth of it, at a time)', async () => {
    const breaker = breakerWith({ counting });
    failTimes(breaker, 3);
    await clock.advance(1_000);
    succeed(breaker, 2);
    failTimes(breaker, 1);
    expect(breaker.state).toBe('closed'); // the 3 old failures slid out: 1 / 3, below minimumCalls
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open'); // 2 / 4
  });

  it('keeps calls of the window’s last buckets', async () => {
    const breaker = breakerWith({ counting });
    failTimes(breaker, 3);
    await clock.advance(900);
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open'); // 4 / 4 within the window
  });
});

describe("circuitBreaker counting: 'failure-rate' at exactly the rate", () => {
  // The rates users write, k / 100 (`k / 100` is the same double as the literal: both are the nearest to it).
  const percentArb = fc.integer({ min: 1, max: 100 });
  const windows = {
    calls: (calls: number) => ({ calls }),
    duration: () => ({ duration: 1_000 }), // every call at the same instant: the window holds them all
  };

  for (const [kind, windowOf] of Object.entries(windows)) {
    it(`opens at the first call where failures * 100 >= k * calls, for every rate k/100 (window of ${kind})`, () => {
      fc.assert(
        fc.property(percentArb, fc.integer({ min: 1, max: 200 }), (k, calls) => {
          // The fewest failures among `calls` calls that reach rate k/100, all after the successes.
          const failures = Math.ceil((k * calls) / 100);
          const counting = {
            mode: 'failure-rate',
            rate: k / 100,
            window: windowOf(calls),
            minimumCalls: calls,
          } as const;
          const breaker = breakerWith({ counting });
          succeed(breaker, calls - failures);
          failTimes(breaker, failures - 1);
          expect(breaker.state).toBe('closed'); // one failure short of the rate (or short of minimumCalls)
          failTimes(breaker, 1);
          expect(breaker.state).toBe('open');
        }),
        { numRuns: 2_000 },
      );
    });

    it(`agrees with failures * 100 >= k * calls after every call of a random sequence (window of ${kind})`, () => {
      // Windows whose full size holds exactly rate k/100 for some count of failures (a multiple of
      // 100 / gcd(k, 100) calls), deciding when full or earlier, with failures about as frequent as the rate.
      const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
      const caseArb = percentArb.chain((k) => {
        const step = 100 / gcd(k, 100);
        return fc.integer({ min: 1, max: Math.max(1, Math.floor(200 / step)) }).chain((multiple) => {
          const size = step * multiple;
          return fc.tuple(
            fc.constant(k),
            fc.constant(size),
            fc.oneof(fc.constant(size), fc.integer({ min: 1, max: size })),
          );
        });
      });
      fc.assert(
        fc.property(
          caseArb,
          fc.array(fc.integer({ min: 0, max: 99 }), { maxLength: 300, size: 'max' }),
          ([k, size, minimumCalls], draws) => {
            const counting = { mode: 'failure-rate', rate: k / 100, window: windowOf(size), minimumCalls } as const;
            const breaker = breakerWith({ counting });
            const window: boolean[] = []; // the outcomes the window holds, true = failure
            let failures = 0;
            for (const draw of draws) {
              const failed = draw < k;
              if (failed) failTimes(breaker, 1);
              else succeed(breaker);
              window.push(failed);
              failures += Number(failed);
              if (kind === 'calls' && window.length > size) failures -= Number(window.shift());
              const trips = window.length >= minimumCalls && failures * 100 >= k * window.length;
              // A plain comparison, not expect(): this runs some 100,000 times.
              if (breaker.state !== (trips ? 'open' : 'closed')) return false;
              if (trips) return true;
            }
            return true;
          },
        ),
        { numRuns: 1_000 },
      );
    });
  }

  it('opens at 7 failures in 100 calls with rate 0.07, 7 in 50 with 0.14, 7 in 25 with 0.28', () => {
    for (const [rate, calls] of [
      [0.07, 100],
      [0.14, 50],
      [0.28, 25],
    ] as const) {
      for (const window of [{ calls }, { duration: 1_000 }]) {
        const breaker = breakerWith({ counting: { mode: 'failure-rate', rate, window, minimumCalls: calls } });
        succeed(breaker, calls - 7);
        failTimes(breaker, 7);
        expect(breaker.state).toBe('open');
      }
    }
  });
});

describe('circuitBreaker counting: slow calls', () => {
  it('counts an async success that took at least slowCallDuration as a failure; the caller still gets its value', async () => {
    const breaker = breakerWith({ threshold: 2, counting: { mode: 'leaky-bucket', slowCallDuration: 500 } });
    for (let i = 0; i < 2; i++) {
      const slow = deferred();
      const result = breaker.execute(() => slow.promise);
      await clock.advance(500);
      slow.resolve('late but fine');
      await expect(result).resolves.toBe('late but fine');
    }
    expect(breaker.state).toBe('open');
    expect(breaker.statistics).toMatchObject({ successes: 2, slowCalls: 2, failures: 0 });
  });

  it('does not count a call faster than slowCallDuration', async () => {
    const breaker = breakerWith({ threshold: 1, counting: { mode: 'consecutive', slowCallDuration: 500 } });
    const fast = deferred();
    const result = breaker.execute(() => fast.promise);
    await clock.advance(499);
    fast.resolve('ok');
    await result;
    expect(breaker.state).toBe('closed');
  });

  it('times sync calls too', () => {
    const manual = manualClock();
    const breaker = circuitBreaker({
      threshold: 1,
      clock: manual,
      counting: { mode: 'leaky-bucket', slowCallDuration: 100 },
    });
    expect(
      breaker.executeSync(() => {
        manual.time += 100;
        return 'slow';
      }),
    ).toBe('slow');
    expect(breaker.state).toBe('open');
  });

  it('re-opens on a slow trial call', async () => {
    const breaker = breakerWith({ threshold: 1, counting: { mode: 'leaky-bucket', slowCallDuration: 100 } });
    failTimes(breaker, 1);
    await clock.advance(1_000);
    const trial = deferred();
    const result = breaker.execute(() => trial.promise);
    await clock.advance(100);
    trial.resolve('slow');
    await result;
    expect(breaker.state).toBe('open');
  });

  it('counts slow calls in the failure rate', async () => {
    const breaker = breakerWith({
      counting: { mode: 'failure-rate', rate: 0.5, window: { calls: 4 }, minimumCalls: 2, slowCallDuration: 10 },
    });
    succeed(breaker);
    const slow = deferred();
    const result = breaker.execute(() => slow.promise);
    await clock.advance(10);
    slow.resolve('slow');
    await result;
    expect(breaker.state).toBe('open');
  });
});

// A clock a sync function can move while it runs.
function manualClock(): Clock & { time: number } {
  const clock = {
    time: 0,
    now: () => clock.time,
    sleep: () => Promise.resolve(),
    schedule: () => 0,
    cancel: () => undefined,
  };
  return clock;
}

it('lets an error thrown by a slow-call-timed function through unchanged', () => {
  const breaker = breakerWith({ threshold: 5, counting: { mode: 'leaky-bucket', slowCallDuration: 0 } });
  const own = new Boom();
  expect(
    attempt(() =>
      breaker.executeSync(() => {
        throw own;
      }),
    ).error,
  ).toBe(own);
  expect(breaker.statistics).toMatchObject({ failures: 1, slowCalls: 0 });
});
