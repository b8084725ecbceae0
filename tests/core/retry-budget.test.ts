import fc from 'fast-check';
import {
  asyncBackoffPolicy,
  asyncRetry,
  asyncRetryPolicy,
  retry,
  retryBudget,
  retryPolicy,
  type GiveUpEvent,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, outcome, scripted } from './policy-helpers';

describe('retryBudget', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it('allows retries up to `ratio` of the calls in the window plus `minPerSecond` × window, then refuses', () => {
    const budget = retryBudget({ ratio: 0.5, minPerSecond: 1, window: 2_000, clock });
    for (let i = 0; i < 10; i++) budget.deposit();
    // 0.5 × 10 calls + 1/s × 2 s = 7 retries.
    expect(budget.balance).toBe(7);
    const allowed = Array.from({ length: 9 }, () => budget.tryWithdraw());
    expect(allowed).toEqual([true, true, true, true, true, true, true, false, false]);
    expect(budget.statistics).toEqual({ balance: 0, calls: 10, retries: 7, refused: 2 });
  });

  it('lets a service with no calls retry `minPerSecond` × window', () => {
    const budget = retryBudget({ ratio: 0.2, minPerSecond: 10, window: 1_000, clock });
    expect(budget.balance).toBe(10);
    expect(Array.from({ length: 11 }, () => budget.tryWithdraw()).filter(Boolean)).toHaveLength(10);
  });

  it('forgets calls and retries once they are older than the window', async () => {
    const budget = retryBudget({ ratio: 1, minPerSecond: 0, window: 1_000, clock });
    for (let i = 0; i < 4; i++) budget.deposit();
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.balance).toBe(3);
    await clock.advance(1_000);
    expect(budget.statistics).toEqual({ balance: 0, calls: 0, retries: 0, refused: 0 });
    budget.deposit();
    expect(budget.balance).toBe(1);
  });

  it('slides the window in tenths: a call made in the last tenth still counts', async () => {
    const budget = retryBudget({ ratio: 1, minPerSecond: 0, window: 1_000, clock });
    budget.deposit(); // t = 0
    await clock.advance(500);
    expect(budget.statistics.calls).toBe(1); // a read at t = 500: what is deposited next is dated t = 500
    budget.deposit();
    await clock.advance(550); // t = 1050: the first call has expired, the second not
    expect(budget.statistics.calls).toBe(1);
    await clock.advance(450); // t = 1500: the second one's tenth has left the window
    expect(budget.statistics.calls).toBe(0);
  });

  it('dates calls made between two clock reads no later than the first read: they never count too long', async () => {
    const budget = retryBudget({ ratio: 1, minPerSecond: 0, window: 1_000, clock });
    budget.deposit(); // the first deposit reads the clock (t = 0)
    await clock.advance(900);
    budget.deposit(); // not read yet: dated t = 0
    await clock.advance(150); // t = 1050
    expect(budget.statistics.calls).toBe(0);
  });

  it('rejects bad options with the option named', () => {
    expect(() => retryBudget({ ratio: -1 })).toThrow('retryBudget: `ratio` must be a finite number >= 0, got -1.');
    expect(() => retryBudget({ minPerSecond: Infinity })).toThrow('`minPerSecond` must be a finite number >= 0');
    expect(() => retryBudget({ window: 0 })).toThrow('retryBudget: `window` must be a finite number > 0, got 0.');
    expect(() => retryBudget({ ratio: '1' as unknown as number })).toThrow(TypeError);
    expect(() => retryBudget({ clock: { now: () => 0 } as never })).toThrow('`clock` must be a Clock');
    expect(() => retryBudget(5 as unknown as object)).toThrow('retryBudget: `options` must be an object, got 5.');
  });

  it('has Finagle’s defaults: 20 % of calls plus 10 a second over 10 s', () => {
    expect(retryBudget({ clock }).options).toEqual({ ratio: 0.2, minPerSecond: 10, window: 10_000, clock });
    expect(retryBudget({ clock }).balance).toBe(100);
  });
});

describe('the `budget` option', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it('ends the call with the last error and give-up reason `budget` once the budget refuses a retry', async () => {
    const budget = retryBudget({ ratio: 0, minPerSecond: 1, window: 1_000, clock }); // one retry
    const policy = retryPolicy({ times: 5, interval: 10, budget, clock });
    const giveUps: GiveUpEvent[] = [];
    policy.on('giveUp', (event) => giveUps.push(event));
    const errors = [new Boom(1), new Boom(2), new Boom(3)];
    const { fn, calls } = scripted(
      clock,
      errors.map((error) => ({ error })),
    );
    const result = await outcome(clock, policy.execute(fn));
    expect(result.error).toBe(errors[1]);
    expect(calls).toEqual([0, 10]);
    expect(giveUps).toEqual([{ attempts: 2, error: errors[1], reason: 'budget', elapsed: 10 }]);
    expect(policy.statistics).toMatchObject({ calls: 1, attempts: 2, failures: 1, budgetExhausted: 1 });
    expect(budget.statistics).toMatchObject({ balance: 0, calls: 1, retries: 1, refused: 1 });
  });

  it('withdraws only for retries the rule allows: an error not retried, or the last attempt, costs nothing', async () => {
    const budget = retryBudget({ ratio: 0, minPerSecond: 5, window: 1_000, clock });
    const policy = retryPolicy(Boom, { times: 2, interval: 0, budget, clock });
    await outcome(clock, policy.execute(scripted(clock, [{ error: new Error('not retried') }]).fn));
    await outcome(clock, policy.execute(scripted(clock, [{ error: new Boom() }]).fn));
    expect(budget.statistics).toMatchObject({ retries: 1, refused: 0, balance: 4 });
  });

  it('is shared: retry, asyncBackoff and asyncRetry policies draw from one budget', async () => {
    const budget = retryBudget({ ratio: 0, minPerSecond: 2, window: 1_000, clock });
    const failing = () => scripted(clock, [{ error: new Boom() }]).fn;
    const a = retryPolicy({ times: 3, interval: 0, budget, clock });
    const b = asyncBackoffPolicy({ on: Boom, maxTries: 3, budget, clock });
    const c = asyncRetryPolicy(3, { budget, clock });
    await outcome(clock, a.execute(failing())); // two retries: the budget is spent
    await outcome(clock, b.execute(failing()));
    await outcome(clock, c.execute(failing()));
    expect([a, b, c].map((p) => p.statistics.attempts)).toEqual([3, 1, 1]);
    expect([a, b, c].map((p) => p.statistics.budgetExhausted)).toEqual([0, 1, 1]);
    expect(budget.statistics).toMatchObject({ calls: 3, retries: 2, refused: 2 });
  });

  it('counts the calls of the one-shot forms too', async () => {
    const budget = retryBudget({ ratio: 1, minPerSecond: 0, window: 1_000, clock });
    await outcome(clock, retry(scripted(clock, [{ value: 1 }]).fn, { budget, clock }));
    await outcome(clock, asyncRetry(scripted(clock, [{ value: 1 }]).fn, 2, { budget, clock }));
    expect(budget.statistics.calls).toBe(2);
    const { fn, calls } = scripted(clock, [{ error: new Boom() }, { value: 'ok' }]);
    expect((await outcome(clock, retry(fn, { interval: 0, budget, clock }))).value).toBe('ok');
    expect(calls).toHaveLength(2);
    expect(budget.statistics).toMatchObject({ calls: 3, retries: 1 });
  });

  it('rejects what is not a budget, naming the policy and the option', () => {
    expect(() => retryPolicy({ budget: { ratio: 0.2 } as never })).toThrow(
      'retry: `budget` must be a budget made by retryBudget(), got an object.',
    );
    expect(() => asyncBackoffPolicy({ budget: 1 as never })).toThrow('asyncBackoff: `budget` must be a budget');
  });

  it('bounds a retry storm: N callers against a dependency that is down make at most (1 + ratio) × demand + floor calls', async () => {
    const demandPerTick = 20; // 20 calls every 100 ms for 5 s: 1,000 calls
    const ticks = 50;
    const storm = async (withBudget: boolean): Promise<number> => {
      let reached = 0;
      const dependency = (): Promise<never> => {
        reached++;
        return Promise.reject(new Boom());
      };
      const budget = retryBudget({ ratio: 0.2, minPerSecond: 10, window: 10_000, clock });
      const policy = retryPolicy({ times: 3, interval: 50, clock, ...(withBudget ? { budget } : {}) });
      const calls: Promise<unknown>[] = [];
      for (let tick = 0; tick < ticks; tick++) {
        for (let i = 0; i < demandPerTick; i++) calls.push(policy.execute(dependency).catch(() => undefined));
        await clock.advance(100);
      }
      await clock.runAll();
      await Promise.all(calls);
      return reached;
    };
    const demand = demandPerTick * ticks;
    expect(await storm(false)).toBe(3 * demand);
    const withBudget = await storm(true);
    // The whole storm fits in one window: its floor is 10/s × 10 s.
    expect(withBudget).toBeLessThanOrEqual((1 + 0.2) * demand + 100);
    expect(withBudget).toBeGreaterThan(demand);
  });
});

describe('retryBudget, property', () => {
  it('never allows more retries than its rule, over any 10,000 schedules of calls and retries', () => {
    const op = fc.record({
      wait: fc.integer({ min: 0, max: 400 }),
      retry: fc.boolean(),
      count: fc.integer({ min: 1, max: 12 }),
    });
    fc.assert(
      fc.property(
        fc.record({
          ratio: fc.constantFrom(0, 0.1, 0.2, 0.57, 1, 2.5),
          minPerSecond: fc.constantFrom(0, 1, 3, 10),
          window: fc.constantFrom(100, 1_000, 2_500),
        }),
        fc.array(op, { maxLength: 16 }),
        ({ ratio, minPerSecond, window }, ops) => {
          let now = 0;
          const clock = { now: () => now, sleep: () => Promise.resolve(), schedule: () => 0, cancel: () => undefined };
          const budget = retryBudget({ ratio, minPerSecond, window, clock });
          const deposits: number[] = [];
          const retries: number[] = [];
          const width = window / 10;
          for (const { wait, retry: isRetry, count } of ops) {
            now += wait;
            for (let i = 0; i < count; i++) {
              if (!isRetry) {
                budget.deposit();
                deposits.push(now);
              } else if (budget.tryWithdraw()) {
                retries.push(now);
                // The rule, from the true times: in the window of ten slots ending with now's slot.
                const from = (Math.floor(now / width) - 9) * width;
                const inWindow = (t: number) => t >= from && t <= now;
                const allowed = ratio * deposits.filter(inWindow).length + (minPerSecond * window) / 1000;
                expect(retries.filter(inWindow).length).toBeLessThanOrEqual(allowed + 1e-9);
              }
            }
          }
        },
      ),
      { numRuns: 10_000 },
    );
  });
});
