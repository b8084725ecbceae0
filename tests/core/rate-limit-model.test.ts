import { RateLimitedError, rateLimitPolicy, type Clock, type TimerHandle } from '@staunch/core';
import fc from 'fast-check';

// Property test: random schedules of arrivals, aborts and the passing of time against a rate limiter.
// Whatever the schedule: the limit holds over every window, waiting calls start in arrival order, the
// queue bound holds, every call settles exactly once, and nothing (call, timer) is left behind.

type Step =
  | { readonly kind: 'arrive'; readonly count: number; readonly withSignal: boolean }
  | { readonly kind: 'abort'; readonly pick: number }
  | { readonly kind: 'advance'; readonly ms: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('arrive' as const),
      count: fc.integer({ min: 1, max: 4 }),
      withSignal: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat(50) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) }) },
);

const optionsArbitrary = fc.record({
  permits: fc.integer({ min: 1, max: 4 }),
  per: fc.constantFrom(30, 100, 250),
  algorithm: fc.constantFrom('token-bucket' as const, 'sliding-window' as const),
  queue: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(Infinity)),
  maxWait: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 }), fc.constant(Infinity)),
});

type Options = typeof optionsArbitrary extends fc.Arbitrary<infer O> ? O : never;

describe('rate limiter (property)', () => {
  it('never admits over the limit in any window, keeps FIFO and the queue bound, settles every call once, leaves nothing behind', async () => {
    await fc.assert(
      fc.asyncProperty(optionsArbitrary, fc.array(stepArbitrary, { maxLength: 40 }), async (options, steps) => {
        await check(options, steps);
      }),
      { numRuns: 10_000 },
    );
  }, 120_000);
});

async function check(options: Options, steps: readonly Step[]) {
  const clock = new StepClock();
  const limiter = rateLimitPolicy({ ...options, clock });
  const admittedAt: number[] = [];
  const admittedIds: number[] = [];
  const queuedIds: number[] = [];
  const settleCounts = new Map<number, number>();
  const controllers = new Map<number, AbortController>();
  let next = 0;

  for (const step of steps) {
    if (step.kind === 'arrive') {
      for (let i = 0; i < step.count; i++) {
        const id = next++;
        const controller = step.withSignal ? new AbortController() : undefined;
        if (controller !== undefined) controllers.set(id, controller);
        const queuedBefore = limiter.statistics.queued;
        limiter
          .execute(() => {
            admittedAt.push(clock.now());
            admittedIds.push(id);
            return id;
          }, controller?.signal)
          .then(
            () => settled(id),
            (error: unknown) => {
              if (!(error instanceof RateLimitedError) && error !== 'aborted') throw error;
              settled(id);
            },
          );
        if (limiter.statistics.queued > queuedBefore) queuedIds.push(id);
      }
    } else if (step.kind === 'abort') {
      const ids = [...controllers.keys()];
      if (ids.length === 0) continue;
      const id = ids[step.pick % ids.length]!;
      controllers.get(id)!.abort('aborted');
      controllers.delete(id);
    } else {
      clock.advance(step.ms);
    }
    await drain();
    if (limiter.statistics.queued > options.queue) throw new Error(`queue bound broken: ${limiter.statistics.queued}`);
  }
  // Let every waiting call get its permit or give up.
  clock.advance(1_000_000);
  await drain();

  checkLimit(options, admittedAt);
  // Calls that waited started in the order they arrived.
  const waitedAndRan = admittedIds.filter((id) => queuedIds.includes(id));
  const inArrivalOrder = [...waitedAndRan].sort((a, b) => a - b);
  if (waitedAndRan.some((id, i) => id !== inArrivalOrder[i])) throw new Error(`FIFO broken: ${waitedAndRan.join()}`);
  if (settleCounts.size !== next || [...settleCounts.values()].some((count) => count !== 1)) {
    throw new Error(`not every call settled once: ${JSON.stringify([...settleCounts])} of ${next}`);
  }
  const statistics = limiter.statistics;
  expect(statistics.queued).toBe(0);
  expect(statistics.calls).toBe(next);
  expect(statistics.admitted + statistics.rejected + statistics.aborted).toBe(next);
  expect(statistics.admitted).toBe(admittedAt.length);
  expect(clock.pending).toBe(0);
  expect(limiter.idle).toBe(true);

  function settled(id: number) {
    settleCounts.set(id, (settleCounts.get(id) ?? 0) + 1);
  }
}

/**
 * Sliding window: no window [t, t + per) holds more than `permits` admissions. Token bucket: no interval
 * [a, b] holds more than `permits + floor((b - a) × permits / per)` (the capacity, plus what refills).
 */
function checkLimit(options: Options, times: readonly number[]) {
  const { permits, per } = options;
  // Times are floats (a permit frees at 2 + 94 / 3 ms): the window compared as the store compares it, the
  // bucket in ms × permits as the store counts, with 1e-9 of a permit for the last bit a float rounds off
  // (a timer due at 100 / 3 ms fires at 33.33333333333333, 3e-15 ms early).
  for (let i = 0; i < times.length; i++) {
    for (let j = i; j < times.length; j++) {
      const count = j - i + 1;
      const allowed =
        options.algorithm === 'sliding-window'
          ? times[i]! + per > times[j]!
            ? permits
            : Infinity
          : permits + Math.floor((times[j]! * permits - times[i]! * permits) / per + 1e-9);
      if (count > allowed) {
        throw new Error(`${count} admissions in [${times[i]}, ${times[j]}] with ${JSON.stringify(options)}`);
      }
    }
  }
}

// Enough promise jobs for any settlement the limiter starts (a deferred rejection) to arrive.
async function drain() {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}

/** A virtual clock whose timers fire synchronously in `advance` (ties in the order they were set). */
class StepClock implements Clock {
  #now = 0;
  #timers: { at: number; seq: number; callback: () => void }[] = [];
  #seq = 0;

  now(): number {
    return this.#now;
  }
  sleep(): Promise<void> {
    throw new Error('not used');
  }
  schedule(ms: number, callback: () => void): TimerHandle {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback };
    this.#timers.push(timer);
    return timer;
  }
  cancel(timer: TimerHandle): void {
    const index = this.#timers.indexOf(timer as never);
    if (index !== -1) this.#timers.splice(index, 1);
  }
  get pending(): number {
    return this.#timers.length;
  }
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let due: { at: number; seq: number; callback: () => void } | undefined;
      for (const t of this.#timers) if (t.at <= target && (due === undefined || t.at < due.at)) due = t;
      if (due === undefined) break;
      this.cancel(due);
      this.#now = due.at;
      due.callback();
    }
    this.#now = target;
  }
}
