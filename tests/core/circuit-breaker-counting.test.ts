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
  for (let i = 0; i < times; i++) breaker.execute(() => 'ok');
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
    expect(breaker.execute(() => 'the caller still gets its value')).toBe('the caller still gets its value');
    expect(breaker.state).toBe('open'); // 3 / 4
  });

  it('leaves errors not matching `on` out of the rate: they are neither calls nor failures', () => {
    const breaker = breakerWith({ counting });
    for (let i = 0; i < 20; i++) {
      attempt(() =>
        breaker.execute(() => {
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
    expect(breaker.stats).toMatchObject({ successes: 2, slowCalls: 2, failures: 0 });
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
      breaker.execute(() => {
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
      breaker.execute(() => {
        throw own;
      }),
    ).error,
  ).toBe(own);
  expect(breaker.stats).toMatchObject({ failures: 1, slowCalls: 0 });
});
