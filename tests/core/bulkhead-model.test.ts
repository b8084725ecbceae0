import { BulkheadRejectedError, bulkheadPolicy, type Clock, type TimerHandle } from '@staunch/core';
import fc from 'fast-check';

// Model-based test: random schedules of arrivals, completions, aborts and the passing of time, run
// against the bulkhead and against a reference model of its rules; after every step both must agree.

type Step =
  | { readonly kind: 'arrive'; readonly withSignal: boolean }
  | { readonly kind: 'complete'; readonly pick: number; readonly ok: boolean }
  | { readonly kind: 'abort'; readonly pick: number }
  | { readonly kind: 'advance'; readonly ms: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('arrive' as const), withSignal: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('complete' as const), pick: fc.nat(50), ok: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
);

const optionsArbitrary = fc.record({
  limit: fc.integer({ min: 1, max: 4 }),
  queue: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(Infinity)),
  maxWait: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 }), fc.constant(Infinity)),
});

type Outcome = 'ok' | 'failed' | 'full' | 'maxWait' | 'aborted';

describe('bulkhead (model-based)', () => {
  it('never runs more than `limit`, admits first in first out, holds the queue bound, settles every call once and leaves nothing behind', async () => {
    await fc.assert(
      fc.asyncProperty(optionsArbitrary, fc.array(stepArbitrary, { maxLength: 40 }), async (options, steps) => {
        await check(options, steps);
      }),
      { numRuns: 10_000 },
    );
  }, 60_000);
});

async function check(options: { limit: number; queue: number; maxWait: number }, steps: readonly Step[]) {
  const clock = new StepClock();
  const policy = bulkheadPolicy({ ...options, clock });
  // The model: which calls run, which wait (in order, with the time they give up), how each ended.
  const modelRunning: number[] = [];
  const modelQueue: { id: number; deadline: number }[] = [];
  const expected = new Map<number, Outcome>();
  // The real side.
  const started: number[] = [];
  const modelStarted: number[] = [];
  const finishers = new Map<number, (ok: boolean) => void>();
  const controllers = new Map<number, AbortController>();
  const outcomes = new Map<number, Outcome>();
  const settleCounts = new Map<number, number>();
  let next = 0;

  const modelAdmit = () => {
    while (modelRunning.length < options.limit && modelQueue.length > 0) {
      const head = modelQueue.shift()!;
      modelRunning.push(head.id);
      modelStarted.push(head.id);
    }
  };

  for (const step of steps) {
    if (step.kind === 'arrive') {
      const id = next++;
      const controller = step.withSignal ? new AbortController() : undefined;
      if (controller !== undefined) controllers.set(id, controller);
      const promise = policy.execute(() => {
        started.push(id);
        return new Promise<string>((resolve, reject) => {
          finishers.set(id, (ok) => (ok ? resolve('ok') : reject(new Error('failed'))));
        });
      }, controller?.signal);
      promise.then(
        () => record(id, 'ok'),
        (error: unknown) => {
          if (error instanceof BulkheadRejectedError) record(id, error.reason);
          else record(id, error === 'aborted' ? 'aborted' : 'failed');
        },
      );
      if (modelRunning.length < options.limit && modelQueue.length === 0) {
        modelRunning.push(id);
        modelStarted.push(id);
      } else if (modelQueue.length >= options.queue) expected.set(id, 'full');
      else if (options.maxWait === 0) expected.set(id, 'maxWait');
      else modelQueue.push({ id, deadline: clock.now() + options.maxWait });
    } else if (step.kind === 'complete') {
      if (modelRunning.length === 0) continue;
      const index = step.pick % modelRunning.length;
      const id = modelRunning[index]!;
      modelRunning.splice(index, 1);
      expected.set(id, step.ok ? 'ok' : 'failed');
      finishers.get(id)!(step.ok);
      await drain();
      modelAdmit();
    } else if (step.kind === 'abort') {
      const ids = [...controllers.keys()];
      if (ids.length === 0) continue;
      const id = ids[step.pick % ids.length]!;
      controllers.get(id)!.abort('aborted');
      controllers.delete(id);
      const queued = modelQueue.findIndex((w) => w.id === id);
      if (queued !== -1) {
        modelQueue.splice(queued, 1);
        expected.set(id, 'aborted');
      }
    } else {
      clock.advance(step.ms);
      while (modelQueue.length > 0 && modelQueue.some((w) => w.deadline <= clock.now())) {
        const index = modelQueue.findIndex((w) => w.deadline <= clock.now());
        expected.set(modelQueue[index]!.id, 'maxWait');
        modelQueue.splice(index, 1);
      }
    }
    await drain();
    // After every step: the same calls started, in the same (FIFO) order; the bounds hold. Checked by
    // hand (jest's matchers cost more than the whole bulkhead here); any mismatch fails with both sides.
    const statistics = policy.statistics;
    if (
      started.length !== modelStarted.length ||
      started.some((id, i) => id !== modelStarted[i]) ||
      statistics.active !== modelRunning.length ||
      statistics.active > options.limit ||
      statistics.queued !== modelQueue.length ||
      statistics.queued > options.queue ||
      outcomes.size !== expected.size ||
      [...expected].some(([id, outcome]) => outcomes.get(id) !== outcome)
    ) {
      expect({ started, statistics, outcomes }).toEqual({
        started: modelStarted,
        statistics: { ...statistics, active: modelRunning.length, queued: modelQueue.length },
        outcomes: expected,
      });
    }
  }

  // Finish everything still running: the queue drains into the free slots.
  while (modelRunning.length > 0) {
    const id = modelRunning.shift()!;
    expected.set(id, 'ok');
    finishers.get(id)!(true);
    await drain();
    modelAdmit();
  }
  await drain();
  expect(outcomes).toEqual(expected);
  expect(outcomes.size).toBe(next);
  expect([...settleCounts.values()].every((count) => count === 1)).toBe(true);
  const statistics = policy.statistics;
  expect(statistics).toMatchObject({ calls: next, active: 0, queued: 0 });
  expect(statistics.admitted + statistics.rejected + statistics.aborted).toBe(next);
  expect(policy.idle).toBe(true);
  expect(clock.pending).toBe(0);

  function record(id: number, outcome: Outcome) {
    settleCounts.set(id, (settleCounts.get(id) ?? 0) + 1);
    outcomes.set(id, outcome);
  }
}

// Enough promise jobs for any settlement the bulkhead starts (a release, a deferred rejection) to arrive.
async function drain() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
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
    const timer = { at: this.#now + ms, seq: this.#seq++, callback };
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
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.cancel(due);
      this.#now = due.at;
      due.callback();
    }
    this.#now = target;
  }
}
