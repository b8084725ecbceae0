import fc from 'fast-check';
import {
  asyncBackoffPolicy,
  attemptSignal,
  hedge,
  HedgeAbandonedError,
  hedgePolicy,
  retryBudget,
  type AttemptContext,
  type Clock,
  type TimerHandle,
  type HedgeEvent,
  type HedgeGiveUpEvent,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, Other, outcome } from './policy-helpers';

/** One attempt's script: settle after `after` ms with a value or an error, or never. */
type Script =
  { readonly after: number; readonly value: unknown } | { readonly after: number; readonly error: unknown } | 'hang';

/** An attempted function playing `scripts` in order (the last repeats), recording each attempt's start and signal. */
function attempts(clock: VirtualClock, scripts: readonly Script[]) {
  const starts: number[] = [];
  const signals: AbortSignal[] = [];
  const fn = ({ signal }: AttemptContext): Promise<unknown> => {
    starts.push(clock.now());
    signals.push(signal);
    const script = scripts[Math.min(starts.length, scripts.length) - 1]!;
    if (script === 'hang') return new Promise(() => undefined);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- scripted errors
    const settle = () => ('error' in script ? Promise.reject(script.error) : script.value);
    return script.after > 0 ? clock.sleep(script.after).then(settle) : Promise.resolve().then(settle);
  };
  return { fn, starts, signals };
}

describe('hedge', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it('makes one attempt, and arms no timer, when it settles within the microtask checkpoint', async () => {
    const policy = hedgePolicy({ delay: 100, clock });
    const { fn, starts } = attempts(clock, [{ after: 0, value: 'fast' }]);
    const promise = policy.execute(fn);
    await clock.flush();
    expect(clock.pending).toBe(0);
    expect(await promise).toBe('fast');
    expect(starts).toEqual([0]);
    expect(policy.statistics).toMatchObject({ calls: 1, attempts: 1, hedges: 0, successes: 1 });
  });

  it('starts another attempt alongside once the first has run `delay` ms; the first success wins', async () => {
    const policy = hedgePolicy({ delay: 100, clock });
    const { fn, starts } = attempts(clock, [
      { after: 500, value: 'slow' },
      { after: 50, value: 'hedged' },
    ]);
    const result = await outcome(clock, policy.execute(fn));
    expect(result).toMatchObject({ value: 'hedged', at: 150 });
    expect(starts).toEqual([0, 100]);
  });

  it('aborts the losers through their attempt signal with HedgeAbandonedError, and observes their outcome', async () => {
    const policy = hedgePolicy({ delay: 100, maxHedged: 2, clock });
    const { fn, signals } = attempts(clock, [
      { after: 1_000, error: new Boom(1) },
      { after: 150, value: 'second' },
      { after: 1_000, error: new Boom(3) },
    ]);
    const result = await outcome(clock, policy.execute(fn));
    expect(result.value).toBe('second');
    expect(signals.map((s) => s.aborted)).toEqual([true, false, true]);
    expect(signals[0]!.reason).toBeInstanceOf(HedgeAbandonedError);
    expect((signals[2]!.reason as HedgeAbandonedError).attempt).toBe(3);
    await clock.runAll(); // the losers reject later: nothing is unhandled (jest would fail the test)
    expect(clock.pending).toBe(0);
  });

  it('starts at most `maxHedged` more attempts, `delay` ms apart', async () => {
    const policy = hedgePolicy({ delay: 100, maxHedged: 3, clock });
    const { fn, starts } = attempts(clock, [{ after: 1_000, value: 'a' }]);
    const result = await outcome(clock, policy.execute(fn));
    expect(starts).toEqual([0, 100, 200, 300]);
    expect(result).toMatchObject({ value: 'a', at: 1_000 });
    expect(policy.statistics).toMatchObject({ attempts: 4, hedges: 3 });
  });

  it('starts the next attempt at once when one fails with an error matching `on`', async () => {
    const policy = hedgePolicy({ delay: 100, maxHedged: 2, on: Boom, clock });
    const events: HedgeEvent[] = [];
    policy.on('hedge', (event) => events.push(event));
    const { fn, starts } = attempts(clock, [
      { after: 10, error: new Boom() },
      { after: 500, value: 'b' },
    ]);
    const result = await outcome(clock, policy.execute(fn));
    expect(starts).toEqual([0, 10, 110]);
    expect(result).toMatchObject({ value: 'b', at: 510 });
    expect(events).toEqual([
      { attempt: 2, trigger: 'error' },
      { attempt: 3, trigger: 'delay' },
    ]);
  });

  it('ends the call at once with an error not matching `on`, abandoning the other attempts', async () => {
    const policy = hedgePolicy({ delay: 100, on: Boom, clock });
    const fatal = new Other('fatal');
    const giveUps: HedgeGiveUpEvent[] = [];
    policy.on('giveUp', (event) => giveUps.push(event));
    const { fn, signals } = attempts(clock, [
      { after: 300, value: 'late' },
      { after: 50, error: fatal },
    ]);
    const result = await outcome(clock, policy.execute(fn));
    expect(result).toMatchObject({ error: fatal, at: 150 });
    expect(signals[0]!.aborted).toBe(true);
    expect(giveUps).toEqual([{ attempts: 2, error: fatal, reason: 'not-retryable' }]);
  });

  it('rejects with the error of the last attempt to fail when every attempt fails', async () => {
    const policy = hedgePolicy({ delay: 100, maxHedged: 2, clock });
    const giveUps: HedgeGiveUpEvent[] = [];
    policy.on('giveUp', (event) => giveUps.push(event));
    const last = new Boom(1);
    const { fn } = attempts(clock, [
      { after: 400, error: last },
      { after: 100, error: new Boom(2) },
      { after: 50, error: new Boom(3) },
    ]);
    const result = await outcome(clock, policy.execute(fn));
    expect(result).toMatchObject({ error: last, at: 400 });
    expect(giveUps).toEqual([{ attempts: 3, error: last, reason: 'exhausted' }]);
    expect(policy.statistics).toMatchObject({ failures: 1, successes: 0 });
  });

  it('starts every attempt at once with `delay: 0`', async () => {
    const { fn, starts } = attempts(clock, [{ after: 30, value: 1 }, { after: 10, value: 2 }, 'hang']);
    const result = await outcome(clock, hedge(fn, { delay: 0, maxHedged: 2, clock }));
    expect(starts).toEqual([0, 0, 0]);
    expect(result).toMatchObject({ value: 2, at: 10 });
  });

  it('with `percentile`, hedges after that percentile of recent latencies, and after `delay` until 16 were seen', async () => {
    const policy = hedgePolicy({ percentile: 90, delay: 1_000, clock });
    expect(policy.statistics.delay).toBe(1_000);
    for (let i = 1; i <= 32; i++) {
      await outcome(clock, policy.execute(attempts(clock, [{ after: i * 10, value: i }]).fn));
    }
    // 32 latencies, 10 … 320 ms: the 90th percentile is the 29th, 290 ms.
    expect(policy.statistics.delay).toBe(290);
    const { fn, starts } = attempts(clock, [
      { after: 5_000, value: 'slow' },
      { after: 10, value: 'hedged' },
    ]);
    const start = clock.now();
    await outcome(clock, policy.execute(fn));
    expect(starts.map((t) => t - start)).toEqual([0, 290]);
  });

  it('draws each hedge from the retry budget; a refused hedge is not started', async () => {
    const budget = retryBudget({ ratio: 0, minPerSecond: 1, window: 1_000, clock }); // one hedge
    const policy = hedgePolicy({ delay: 100, maxHedged: 3, budget, clock });
    const giveUps: HedgeGiveUpEvent[] = [];
    policy.on('giveUp', (event) => giveUps.push(event));
    const { fn, starts } = attempts(clock, [{ after: 300, error: new Boom() }]);
    const result = await outcome(clock, policy.execute(fn));
    expect(starts).toEqual([0, 100]);
    expect(result.error).toBeInstanceOf(Boom);
    expect(giveUps[0]?.reason).toBe('budget');
    expect(policy.statistics).toMatchObject({ budgetExhausted: 1, hedges: 1 });
    expect(budget.statistics).toMatchObject({ calls: 1, retries: 1, refused: 1 });
  });

  it("ends the call with the caller's signal's reason and aborts every attempt when it aborts", async () => {
    const policy = hedgePolicy({ delay: 100, clock });
    const controller = new AbortController();
    const { fn, signals } = attempts(clock, ['hang']);
    const promise = outcome(clock, policy.execute(fn, controller.signal), 150);
    await clock.advance(150);
    const reason = new Error('stop');
    controller.abort(reason);
    const result = await promise;
    expect(result).toMatchObject({ error: reason, at: 150 });
    expect(signals.map((s): unknown => s.reason)).toEqual([reason, reason]);
    expect(clock.pending).toBe(0);
    await expect(policy.execute(fn, controller.signal)).rejects.toBe(reason);
  });

  it('is abandoned with the attempt of an outer policy it runs in', async () => {
    const outer = asyncBackoffPolicy({ attemptTimeout: 150, maxTries: 1, clock });
    const inner = hedgePolicy({ delay: 100, clock });
    const { fn, signals } = attempts(clock, ['hang']);
    const result = await outcome(
      clock,
      outer.execute(() => inner.execute(fn)),
    );
    expect(result.error).toMatchObject({ name: 'AttemptTimeoutError' });
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    expect(clock.pending).toBe(0);
  });

  it('gives each attempt its own signal through attemptSignal()', async () => {
    const policy = hedgePolicy({ delay: 100, clock });
    const seen: AbortSignal[] = [];
    const target = {
      fetch(this: unknown): Promise<string> {
        seen.push(attemptSignal());
        return seen.length === 1 ? new Promise(() => undefined) : Promise.resolve('ok');
      },
    };
    const result = await outcome(clock, policy.call(target.fetch, target, []));
    expect(result.value).toBe('ok');
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen[0]!.aborted).toBe(true);
  });

  it('rejects bad options, naming the option', async () => {
    expect(() => hedgePolicy({ delay: -1 })).toThrow('hedge: `delay` must be a finite number >= 0, got -1.');
    expect(() => hedgePolicy({ maxHedged: 0 })).toThrow('hedge: `maxHedged` must be an integer >= 1, got 0.');
    expect(() => hedgePolicy({ percentile: 0 })).toThrow(
      'hedge: `percentile` must be a number in (0, 100], such as 95, got 0.',
    );
    expect(() => hedgePolicy({ on: 'x' as never })).toThrow('hedge: `on` must be');
    expect(() => hedgePolicy({ budget: {} as never })).toThrow(
      'hedge: `budget` must be a budget made by retryBudget()',
    );
    await expect(hedge(() => 1, { percentile: 95 })).rejects.toThrow(
      'hedge: `percentile` must be left out of a one-shot call (it needs earlier calls: use hedgePolicy), got 95.',
    );
  });
});

describe('hedge, property', () => {
  const script = fc.oneof(
    fc.record({ after: fc.integer({ min: 0, max: 300 }), value: fc.integer() }),
    fc.record({ after: fc.integer({ min: 0, max: 300 }), error: fc.constantFrom('boom', 'other') }),
    fc.constant('hang' as const),
  );

  it('starts at most `maxHedged` extra attempts, settles once, and abandons every attempt still running', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(script, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        async (scripts, delay, maxHedged, onlyBoom) => {
          const clock = new StepClock();
          const starts: number[] = [];
          const signals: AbortSignal[] = [];
          const settledAt: (number | undefined)[] = [];
          const fn = ({ signal }: AttemptContext): Promise<unknown> => {
            const index = starts.length;
            starts.push(clock.now());
            signals.push(signal);
            const s = scripts[Math.min(index, scripts.length - 1)]!;
            if (s === 'hang') return new Promise(() => undefined);
            return clock.sleep(s.after).then(() => {
              settledAt[index] = clock.now();
              if ('error' in s) throw s.error === 'boom' ? new Boom() : new Other(s.error);
              return s.value;
            });
          };
          const policy = hedgePolicy({ delay, maxHedged, clock, ...(onlyBoom ? { on: Boom } : {}) });
          let settles = 0;
          let at = -1;
          const settle = () => {
            settles++;
            at = clock.now();
          };
          policy.execute(fn).then(settle, settle);
          await drain();
          await clock.runAll();
          expect(starts.length).toBeLessThanOrEqual(1 + maxHedged);
          expect(settles).toBeLessThanOrEqual(1);
          // It must settle once an attempt succeeded or failed with an error outside `on`, or all failed.
          const scriptOf = (i: number) => scripts[Math.min(i, scripts.length - 1)]!;
          const decisive = starts.some((_, i) => {
            const s = scriptOf(i);
            return s !== 'hang' && ('value' in s || (onlyBoom && s.error !== 'boom'));
          });
          const allFailed = starts.every((_, i) => scriptOf(i) !== 'hang');
          if (decisive || allFailed) expect(settles).toBe(1);
          // Every attempt still running when the call settled was abandoned; none that settled first was.
          for (let i = 0; i < starts.length; i++) {
            const running = settledAt[i] === undefined || settledAt[i]! > at;
            if (settles === 1 && running) expect(signals[i]!.aborted).toBe(true);
            if (settledAt[i] !== undefined && settledAt[i]! < at) expect(signals[i]!.aborted).toBe(false);
          }
          if (settles === 1) expect(clock.pending).toBe(0);
        },
      ),
      { numRuns: 10_000 },
    );
  }, 60_000);
});

// Enough promise jobs for whatever a settling attempt or a fired timer starts to arrive.
async function drain(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A virtual clock whose timers fire in `runAll` with only promise jobs in between (no macrotask per timer). */
class StepClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: { at: number; seq: number; callback: () => void }[] = [];

  now(): number {
    return this.#now;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }
  schedule(ms: number, callback: () => void): TimerHandle {
    const timer = { at: this.#now + ms, seq: this.#seq++, callback };
    this.#timers.push(timer);
    return timer;
  }
  cancel(timer: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t !== timer);
  }
  get pending(): number {
    return this.#timers.length;
  }
  async runAll(): Promise<void> {
    while (this.#timers.length > 0) {
      const next = this.#timers.reduce((a, b) => (b.at < a.at || (b.at === a.at && b.seq < a.seq) ? b : a));
      this.cancel(next);
      this.#now = next.at;
      next.callback();
      await drain();
    }
  }
}
