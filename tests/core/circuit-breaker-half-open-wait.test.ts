import fc from 'fast-check';
import {
  circuitBreaker,
  CircuitOpenError,
  isCircuitOpenError,
  type CircuitBreakerOptions,
  type Clock,
  type TimerHandle,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { attempt, Boom, deferred, failTimes, Other, type Deferred } from './circuit-breaker-helpers';

let clock: VirtualClock;
beforeEach(() => {
  clock = new VirtualClock(0);
});

// Opens at 0 after one failure; half-open from 1,000 with one trial slot; calls wait up to 500 ms for the trial.
const breakerWith = (options: CircuitBreakerOptions = {}) =>
  circuitBreaker({ on: Boom, threshold: 1, resetTimeout: 1_000, halfOpenWait: 500, clock, ...options });

/** Opens `breaker`, waits for half-open, and starts a trial the test settles. */
async function startTrial(
  breaker: ReturnType<typeof breakerWith>,
): Promise<{ trial: Deferred<string>; result: Promise<string> }> {
  failTimes(breaker, 1);
  await clock.advance(1_000);
  const trial = deferred();
  const result = breaker.execute(() => trial.promise);
  return { trial, result };
}

const outcomeOf = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ value, error: undefined as unknown }),
    (error: unknown) => ({ value: undefined, error }),
  );

describe('circuitBreaker — halfOpenWait', () => {
  it('lets a call arriving while the trial runs wait, and run once the trial closes the circuit', async () => {
    const breaker = breakerWith();
    const { trial } = await startTrial(breaker);
    const ran: string[] = [];
    const waiting = breaker.execute(async () => (ran.push('waiter'), 'waited'));
    await clock.advance(200);
    expect(ran).toEqual([]);
    trial.resolve('trial');
    await expect(waiting).resolves.toBe('waited');
    expect(breaker.state).toBe('closed');
    expect(clock.pending).toBe(0);
  });

  it('rejects waiting calls with CircuitOpenError when the trial fails, with the new break as retryAfter', async () => {
    const breaker = breakerWith();
    const { trial, result } = await startTrial(breaker);
    const waiting = outcomeOf(breaker.execute(async () => 'never'));
    trial.reject(new Boom());
    await expect(result).rejects.toBeInstanceOf(Boom);
    const { error } = await waiting;
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).retryAfter).toBe(1_000);
    expect(clock.pending).toBe(0);
  });

  it('rejects a waiting call with CircuitOpenError (retryAfter 0) once halfOpenWait has passed', async () => {
    const breaker = breakerWith();
    await startTrial(breaker);
    const waiting = outcomeOf(breaker.execute(async () => 'never'));
    await clock.advance(499);
    let settled = false;
    void waiting.then(() => (settled = true));
    await clock.flush();
    expect(settled).toBe(false);
    await clock.advance(1);
    const { error } = await waiting;
    expect(isCircuitOpenError(error) && error.retryAfter).toBe(0);
    expect(breaker.statistics.rejections).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('rejects at once and sets no timer when halfOpenWait is 0 (the default)', async () => {
    const breaker = breakerWith({ halfOpenWait: 0 });
    await startTrial(breaker);
    const { error } = await outcomeOf(breaker.execute(async () => 'never'));
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(clock.pending).toBe(0);
  });

  it('admits the oldest waiter as a trial when the trial’s slot is freed by an error that does not count', async () => {
    const breaker = breakerWith();
    const { trial, result } = await startTrial(breaker);
    const order: string[] = [];
    const first = deferred();
    const second = breaker.execute(async () => (order.push('first'), first.promise));
    const third = outcomeOf(breaker.execute(async () => (order.push('second'), 'second')));
    trial.reject(new Other());
    await result.catch(() => undefined);
    await clock.flush();
    expect(order).toEqual(['first']); // the first waiter took the freed slot; the second still waits
    first.resolve('first');
    await expect(second).resolves.toBe('first');
    expect((await third).value).toBe('second');
    expect(breaker.state).toBe('closed');
  });

  it('rejects a waiting call with its signal’s reason as soon as the signal aborts, leaving no timer', async () => {
    const breaker = breakerWith();
    await startTrial(breaker);
    const controller = new AbortController();
    const waiting = outcomeOf(breaker.execute(async () => 'never', controller.signal));
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect((await waiting).error).toBe(reason);
    expect(clock.pending).toBe(0);
    expect(breaker.statistics.aborted).toBe(1);
  });

  it('never makes a sync call wait', async () => {
    const breaker = breakerWith();
    await startTrial(breaker);
    expect(attempt(() => breaker.executeSync(() => 1)).error).toBeInstanceOf(CircuitOpenError);
    expect(attempt(() => breaker.call(() => 1, undefined, [])).error).toBeInstanceOf(CircuitOpenError);
    expect(clock.pending).toBe(0);
  });

  it('lets waiters go on when the circuit is reset or isolated', async () => {
    const breaker = breakerWith();
    await startTrial(breaker);
    const admitted = breaker.execute(async () => 'after reset');
    breaker.reset();
    await expect(admitted).resolves.toBe('after reset');
    failTimes(breaker, 1);
    await clock.advance(1_000);
    void breaker.execute(() => deferred().promise);
    const rejected = outcomeOf(breaker.execute(async () => 'never'));
    breaker.isolate();
    expect(isCircuitOpenError((await rejected).error) && (await rejected).error).toMatchObject({
      retryAfter: Infinity,
    });
    expect(clock.pending).toBe(0);
  });

  it('is validated when the circuit is made, naming the option', () => {
    expect(() => circuitBreaker({ halfOpenWait: -1 })).toThrow(
      'circuitBreaker: `halfOpenWait` must be a finite number >= 0, got -1.',
    );
    expect(() => circuitBreaker({ halfOpenWait: 10, clock: { now: () => 0 } as Clock })).toThrow(
      /`clock` must be a Clock with schedule\(\) and cancel\(\) when `halfOpenWait` is given/,
    );
  });
});

/**
 * For any schedule of async arrivals, trial outcomes and time on a circuit
 * with `halfOpenWait`: every call settles exactly once; no call waits longer
 * than `halfOpenWait`; no more than `halfOpenCalls` run while half-open; and
 * once everything has settled no timer is left.
 */
describe('circuitBreaker — halfOpenWait (property)', () => {
  type Step =
    | { kind: 'call' }
    | { kind: 'settle'; pick: number; fails: boolean; other: boolean }
    | { kind: 'advance'; ms: number };
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: 'call' as const }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('settle' as const),
        pick: fc.nat(20),
        fails: fc.boolean(),
        other: fc.boolean(),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400 }) }),
    },
  );

  it('settles every call once, within halfOpenWait of waiting, and leaves no timer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 600 }),
        fc.array(stepArb, { maxLength: 30 }),
        async (halfOpenCalls, halfOpenWait, steps) => {
          const timers = new ManualTimers();
          const breaker = circuitBreaker({
            on: Boom,
            threshold: 1,
            resetTimeout: 300,
            halfOpenCalls,
            halfOpenWait,
            clock: timers,
          });
          const running: Deferred<string>[] = [];
          const calls: { settled: number; started: boolean; waitingSince: number | undefined }[] = [];
          // Calls running that began while half-open, by half-open period (epoch): overdue trials may run beside new ones.
          const trialsByPeriod = new Map<number, number>();
          let maxTrialsInFlight = 0;
          for (const step of steps) {
            if (step.kind === 'call') {
              const call = { settled: 0, started: false, waitingSince: undefined as number | undefined };
              calls.push(call);
              const before = breaker.state;
              const promise = breaker.execute(() => {
                call.started = true;
                call.waitingSince = undefined; // admitted: no longer waiting
                const control = deferred();
                running.push(control);
                const { state, epoch } = breaker.toJSON().snapshot;
                if (state !== 'half-open') return control.promise;
                const trials = (trialsByPeriod.get(epoch) ?? 0) + 1;
                trialsByPeriod.set(epoch, trials);
                maxTrialsInFlight = Math.max(maxTrialsInFlight, trials);
                return control.promise.finally(() => trialsByPeriod.set(epoch, (trialsByPeriod.get(epoch) ?? 1) - 1));
              });
              if (!call.started && before === 'half-open') call.waitingSince = timers.time;
              promise.then(
                () => call.settled++,
                () => call.settled++,
              );
            } else if (step.kind === 'settle') {
              const [control] = running.splice(step.pick % Math.max(1, running.length), 1);
              if (control !== undefined) {
                if (step.fails) control.reject(step.other ? new Other() : new Boom());
                else control.resolve('ok');
              }
            } else {
              timers.advance(step.ms);
            }
            await flush();
            for (const call of calls) {
              check(call.settled <= 1, 'a call settled twice');
              if (call.waitingSince !== undefined && call.settled === 0) {
                check(
                  timers.time - call.waitingSince <= halfOpenWait,
                  `a call waited ${timers.time - call.waitingSince} ms`,
                );
              }
            }
          }
          check(
            maxTrialsInFlight <= halfOpenCalls,
            `${maxTrialsInFlight} calls ran half-open, halfOpenCalls ${halfOpenCalls}`,
          );
          // Settle everything that runs, let every wait end: nothing is left.
          for (let round = 0; round < 10 && (running.length > 0 || timers.pending > 0); round++) {
            for (const control of running.splice(0)) control.resolve('ok');
            await flush();
            timers.advance(halfOpenWait);
            await flush();
          }
          check(
            calls.every((call) => call.settled === 1),
            'every call settled',
          );
          check(timers.pending === 0, `${timers.pending} timers left`);
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

/** A bare clock whose timers fire synchronously as the test moves time (no promise turns, for speed). */
class ManualTimers implements Clock {
  time = 0;
  readonly #timers = new Set<{ at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  sleep(): Promise<void> {
    throw new Error('not used');
  }

  schedule(ms: number, callback: () => void): TimerHandle {
    const timer = { at: this.time + ms, callback };
    this.#timers.add(timer);
    return timer;
  }

  cancel(timer: TimerHandle): void {
    this.#timers.delete(timer as { at: number; callback: () => void });
  }

  get pending(): number {
    return this.#timers.size;
  }

  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: { at: number; callback: () => void } | undefined;
      for (const timer of this.#timers)
        if (timer.at <= target && (next === undefined || timer.at < next.at)) next = timer;
      if (next === undefined) break;
      this.#timers.delete(next);
      this.time = next.at;
      next.callback();
    }
    this.time = target;
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

// Plain checks: jest's expect costs more than the breaker itself, 10,000 schedules over.
function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}
