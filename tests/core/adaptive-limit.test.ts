import fc from 'fast-check';
import {
  adaptive,
  bulkheadPolicy,
  CallTimeoutError,
  type AdaptiveLimitOptions,
  type BulkheadLimitEvent,
  type Clock,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { ConcurrencyLimiter } from '../../packages/core/src/concurrency-limit/limiter';
import { resolveAdaptiveLimit } from '../../packages/core/src/concurrency-limit/adaptive';
import { averageLimit, simulate } from './adaptive-limit-simulation';

const KNEE = 20;
const algorithms: readonly [string, AdaptiveLimitOptions][] = [
  // AIMD reacts to drops and to windows slower than `latency`: here 1.5 × the dependency's own 10 ms.
  ['aimd', { algorithm: 'aimd', min: 1, max: 100, latency: 15 }],
  ['vegas', { algorithm: 'vegas', min: 1, max: 100 }],
  ['gradient2', { algorithm: 'gradient2', min: 1, max: 100 }],
];

describe.each(algorithms)('adaptive limit (%s) against a dependency that queues beyond its knee', (_name, limit) => {
  // 80 callers in a closed loop; the dependency serves 20 at once in 10 ms and queues the rest.
  // 10 s normal, 5 s four times slower, 10 s normal again.
  let run: Awaited<ReturnType<typeof simulate>>;
  beforeAll(async () => {
    run = await simulate(limit, {
      knee: KNEE,
      clients: 80,
      every: 250,
      phases: [
        { duration: 10_000, base: 10 },
        { duration: 5_000, base: 40 },
        { duration: 10_000, base: 10 },
      ],
    });
  });

  it('converges near the knee (between 0.8 and 1.8 times it, averaged over the settled half)', () => {
    const average = averageLimit(run.samples, 5_000, 10_000);
    expect(average).toBeGreaterThanOrEqual(0.8 * KNEE);
    expect(average).toBeLessThanOrEqual(1.8 * KNEE);
  });

  it('falls below the knee while the dependency is slower, and recovers once it is fast again', () => {
    expect(averageLimit(run.samples, 12_000, 15_000)).toBeLessThan(KNEE);
    const after = averageLimit(run.samples, 20_000, 25_000);
    expect(after).toBeGreaterThanOrEqual(0.8 * KNEE);
    expect(after).toBeLessThanOrEqual(1.8 * KNEE);
  });

  it('never lets more calls reach the dependency than its highest limit', () => {
    expect(run.peak).toBeLessThanOrEqual(run.highest);
    expect(run.highest).toBeLessThanOrEqual(100);
    expect(run.policy.statistics).toMatchObject({ active: 0, queued: 0 });
  });
});

describe('adaptive limit on a bulkhead', () => {
  it('reads no clock when the limit is fixed', async () => {
    const clock = new VirtualClock();
    let reads = 0;
    const now = clock.now.bind(clock);
    clock.now = () => {
      reads++;
      return now();
    };
    const policy = bulkheadPolicy({ limit: 2, queue: 10, clock });
    await Promise.all([1, 2, 3, 4].map((n) => policy.execute(async () => n)));
    expect(reads).toBe(0);
  });

  it('starts at `initial`, shows the current limit in statistics and emits `limit` when it moves', async () => {
    const clock = new VirtualClock();
    const policy = bulkheadPolicy({
      limit: adaptive({ algorithm: 'aimd', min: 2, max: 8, initial: 4, window: 2, sample: 1 }),
      queue: 10,
      clock,
    });
    expect(policy.statistics.limit).toBe(4);
    const events: BulkheadLimitEvent[] = [];
    policy.on('limit', (event) => events.push(event));
    // Two calls with all four slots used half or more: one window, +1.
    const calls = [1, 2].map(() => policy.execute(() => clock.sleep(1).then(() => 'ok')));
    await clock.advance(1);
    await Promise.all(calls);
    expect(policy.statistics.limit).toBe(5);
    expect(events).toEqual([{ limit: 5, previous: 4 }]);
  });

  it('counts a timeout as a drop: the limit backs off', async () => {
    const clock = new VirtualClock();
    const policy = bulkheadPolicy({
      limit: adaptive({ algorithm: 'aimd', min: 1, max: 20, initial: 10, window: 1, backoff: 0.5 }),
      clock,
    });
    await expect(policy.execute(() => Promise.reject(new CallTimeoutError(5)))).rejects.toBeInstanceOf(
      CallTimeoutError,
    );
    expect(policy.statistics.limit).toBe(5);
  });

  it('times one call in `sample`, and counts a drop of an untimed call for its window', async () => {
    const clock = new VirtualClock();
    let reads = 0;
    const now = clock.now.bind(clock);
    clock.now = () => {
      reads++;
      return now();
    };
    const policy = bulkheadPolicy({
      limit: adaptive({ algorithm: 'aimd', min: 1, max: 20, initial: 10, window: 2, sample: 4, backoff: 0.5 }),
      clock,
    });
    for (let i = 1; i <= 8; i++) {
      const timedOut = i === 2; // untimed (calls 1 and 5 are timed)
      await policy
        .execute(async () => {
          if (timedOut) throw new CallTimeoutError(5);
          return i;
        })
        .catch(() => undefined);
    }
    expect(reads).toBe(4); // start and end of calls 1 and 5
    // The window of calls 1 and 5 saw the drop of call 2: the limit backed off.
    expect(policy.statistics.limit).toBe(5);
  });

  it('does not sample other errors: they say nothing about load', async () => {
    const policy = bulkheadPolicy({ limit: adaptive({ algorithm: 'aimd', initial: 10, window: 1, backoff: 0.5 }) });
    await expect(policy.execute(() => Promise.reject(new Error('bad request')))).rejects.toThrow('bad request');
    expect(policy.statistics.limit).toBe(10);
  });

  it('admits waiting calls as soon as the limit grows', async () => {
    const clock = new VirtualClock();
    const policy = bulkheadPolicy({
      limit: adaptive({ algorithm: 'aimd', min: 1, max: 3, initial: 1, window: 1, sample: 1 }),
      queue: 10,
      clock,
    });
    let running = 0;
    let peak = 0;
    const call = async (): Promise<void> => {
      running++;
      peak = Math.max(peak, running);
      await clock.sleep(10);
      running--;
    };
    const calls = Array.from({ length: 6 }, () => policy.execute(call));
    await clock.advance(10); // the first call ends: the limit grows to 2, two calls start
    expect(running).toBe(2);
    await clock.runAll();
    await Promise.all(calls);
    expect(peak).toBe(3);
  });

  it.each([
    [{ algorithm: 'nope' }, '`limit.algorithm` must be'],
    [{ algorithm: 'aimd', min: 0 }, '`limit.min` must be an integer >= 1, got 0'],
    [{ algorithm: 'aimd', min: 5, max: 4 }, '`limit.max` must be an integer >= 5, got 4'],
    [{ algorithm: 'aimd', initial: 500 }, '`limit.initial` must be an integer in [1, 100], got 500'],
    [{ algorithm: 'aimd', backoff: 1 }, '`limit.backoff` must be a number in (0, 1), got 1'],
    [{ algorithm: 'vegas', alpha: 6, beta: 3 }, '`limit.beta` must be a number > alpha (6), got 3'],
    [{ algorithm: 'gradient2', tolerance: 0.5 }, '`limit.tolerance` must be a number >= 1, got 0.5'],
    [{ algorithm: 'gradient2', smoothing: 0 }, '`limit.smoothing` must be a number in (0, 1], got 0'],
  ])('rejects bad options %j when the bulkhead is made', (options, message) => {
    expect(() => bulkheadPolicy({ limit: adaptive(options as AdaptiveLimitOptions) })).toThrow(message);
  });

  it('rejects a limit that is neither a number nor adaptive(…)', () => {
    expect(() => bulkheadPolicy({ limit: '10' as unknown as number })).toThrow(
      'bulkhead: `limit` must be an integer >= 1 or adaptive({ algorithm, … }), got "10"',
    );
  });
});

describe('adaptive limit (properties)', () => {
  const optionsArbitrary = fc
    .record({
      algorithm: fc.constantFrom('aimd' as const, 'vegas' as const, 'gradient2' as const),
      min: fc.integer({ min: 1, max: 5 }),
      span: fc.integer({ min: 0, max: 10 }),
      window: fc.integer({ min: 1, max: 3 }),
      sample: fc.integer({ min: 1, max: 3 }),
    })
    .map(({ algorithm, min, span, window, sample }) => ({
      algorithm,
      min,
      max: min + span,
      window,
      sample,
      latency: 20,
    }));

  it('keeps the limit within [min, max] for any sequence of samples', () => {
    fc.assert(
      fc.property(
        optionsArbitrary,
        fc.array(
          fc.record({
            latency: fc.double({ min: 0, max: 1_000, noNaN: true }),
            inflight: fc.nat(50),
            dropped: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        (options, samples) => {
          const limiter = new ConcurrencyLimiter(resolveAdaptiveLimit('test', adaptive(options)));
          for (const sample of samples) {
            limiter.record(sample.latency, sample.inflight, sample.dropped);
            if (!(limiter.limit >= options.min && limiter.limit <= options.max && Number.isInteger(limiter.limit))) {
              return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('never admits a call while the calls running reach the current limit, and settles every call', async () => {
    await fc.assert(
      fc.asyncProperty(
        optionsArbitrary,
        fc.array(
          fc.oneof(
            { weight: 3, arbitrary: fc.constant({ kind: 'arrive' as const }) },
            {
              weight: 3,
              arbitrary: fc.record({
                kind: fc.constant('finish' as const),
                pick: fc.nat(30),
                slow: fc.nat(50),
                timeout: fc.boolean(),
              }),
            },
          ),
          { maxLength: 30 },
        ),
        async (options, steps) => {
          const clock = new ManualClock();
          const policy = bulkheadPolicy({ limit: adaptive(options), queue: Infinity, clock });
          const running: ((timedOut: boolean) => void)[] = [];
          let violations = 0;
          let settled = 0;
          let arrived = 0;
          const body = (): Promise<string> => {
            const { active, limit } = policy.statistics;
            if (active > limit) violations++; // `active` counts this call already
            return new Promise<string>((resolve, reject) => {
              running.push((timedOut) => (timedOut ? reject(new CallTimeoutError(1)) : resolve('ok')));
            });
          };
          const start = (): void => {
            arrived++;
            policy.execute(body).then(
              () => settled++,
              () => settled++,
            );
          };
          for (const step of steps) {
            if (step.kind === 'arrive') start();
            else if (running.length > 0) {
              clock.time += step.slow;
              running.splice(step.pick % running.length, 1)[0]!(step.timeout);
            }
            await flush();
          }
          while (running.length > 0) {
            running.shift()!(false);
            await flush();
          }
          await flush();
          return (
            violations === 0 && settled === arrived && policy.statistics.active === 0 && policy.statistics.queued === 0
          );
        },
      ),
      { numRuns: 10_000 },
    );
  }, 60_000);
});

/** A clock whose time the test sets; nothing in these tests schedules on it. */
class ManualClock implements Clock {
  time = 0;
  now(): number {
    return this.time;
  }
  sleep(): Promise<void> {
    throw new Error('not used');
  }
  schedule(): never {
    throw new Error('not used');
  }
  cancel(): void {}
}

async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}
