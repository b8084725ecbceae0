import fc from 'fast-check';
import {
  circuitBreaker,
  decorrelatedJitter,
  exponentialBackoff,
  isCircuitOpenError,
  linearBackoff,
  memoryCircuitStore,
  type CircuitBreakerOptions,
  type CircuitOpenedEvent,
  type CircuitSnapshot,
  type Clock,
} from '@staunch/core';
import { seededRandom, VirtualClock } from '@staunch/core/testing';
import {
  breakDurationOf,
  isDueForTrial,
  retryAfter,
  transition,
  type CircuitLimits,
  type CircuitStateName,
} from '../../packages/core/src/circuit-breaker/state-machine';
import { attempt, Boom, failTimes, openErrorOf } from './circuit-breaker-helpers';

// 1 s, 2 s, 4 s, … at most 10 s.
const doubling = exponentialBackoff({ initial: 1_000, factor: 2, max: 10_000 });
const limits: CircuitLimits = { resetTimeout: 1_000, halfOpenCalls: 1, resetBackoff: doubling };
const at = (state: CircuitStateName, extra: Partial<CircuitSnapshot> = {}): CircuitSnapshot => ({
  state,
  since: 0,
  trials: 0,
  successes: 0,
  epoch: 5,
  reopenings: 0,
  breakDuration: 0,
  ...extra,
});

describe('circuit state machine — growing break duration', () => {
  it('opens for the backoff’s first wait when the counting rule trips it', () => {
    expect(transition(at('closed'), 'trip', 7, limits)).toMatchObject({
      state: 'open',
      reopenings: 0,
      breakDuration: 1_000,
    });
  });

  it('re-opens for the next wait after a failed trial, counting the re-opening', () => {
    const trial = at('half-open', { trials: 1, reopenings: 2, breakDuration: 4_000 });
    expect(transition(trial, 'trialFailed', 7, limits)).toMatchObject({
      state: 'open',
      reopenings: 3,
      breakDuration: 8_000,
    });
  });

  it('passes the previous break duration to the backoff', () => {
    const seen: [number, number][] = [];
    const recording = { kind: 'recording', delay: (n: number, previous: number) => (seen.push([n, previous]), 5) };
    const own = { ...limits, resetBackoff: recording };
    transition(at('closed'), 'trip', 0, own);
    transition(at('half-open', { trials: 1, reopenings: 1, breakDuration: 300 }), 'trialFailed', 0, own);
    expect(seen).toEqual([
      [1, 0],
      [3, 300],
    ]);
  });

  it('keeps the re-opening count and duration through half-open, and waits the break duration before it', () => {
    const open = at('open', { since: 100, reopenings: 2, breakDuration: 4_000 });
    expect(isDueForTrial(open, 4_099, limits)).toBe(false);
    expect(retryAfter(open, 4_099, limits)).toBe(1);
    const halfOpen = transition(open, 'halfOpen', 4_100, limits);
    expect(halfOpen).toMatchObject({ state: 'half-open', reopenings: 2, breakDuration: 4_000 });
    expect(transition(halfOpen, 'acquireTrial', 4_100, limits)).toMatchObject({ reopenings: 2, breakDuration: 4_000 });
  });

  it('starts over when the circuit closes, is reset or isolated', () => {
    const trial = at('half-open', { trials: 1, reopenings: 3, breakDuration: 8_000 });
    for (const event of ['trialSucceeded', 'reset', 'isolate'] as const) {
      expect(transition(trial, event, 7, limits)).toMatchObject({ reopenings: 0, breakDuration: 0 });
    }
  });

  it('keeps a number resetTimeout for every re-opening', () => {
    const fixed = { resetTimeout: 500, halfOpenCalls: 1 };
    const trial = at('half-open', { trials: 1, reopenings: 4, breakDuration: 500 });
    expect(transition(trial, 'trialFailed', 0, fixed)).toMatchObject({ reopenings: 5, breakDuration: 500 });
  });

  it('reads a snapshot saved without a break duration as open for resetTimeout', () => {
    const { reopenings: _r, breakDuration: _b, ...old } = at('open', { since: 0 });
    expect(breakDurationOf(old, limits)).toBe(1_000);
    expect(retryAfter(old, 400, limits)).toBe(600);
  });
});

describe('circuitBreaker — resetTimeout as a backoff', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock(0);
  });
  const breakerWith = (options: CircuitBreakerOptions = {}) =>
    circuitBreaker({ on: Boom, threshold: 1, resetTimeout: doubling, clock, ...options });
  const failTrial = (breaker: ReturnType<typeof breakerWith>): void => failTimes(breaker, 1);
  const rejection = (breaker: ReturnType<typeof breakerWith>) =>
    openErrorOf(attempt(() => breaker.executeSync(() => 1)));

  it('stays open longer after each failed trial, and retryAfter says how long', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 1);
    expect(rejection(breaker).retryAfter).toBe(1_000);
    let current = 1_000;
    for (const next of [2_000, 4_000, 8_000, 10_000, 10_000]) {
      await clock.advance(current - 1);
      expect(breaker.state).toBe('open');
      await clock.advance(1);
      expect(breaker.state).toBe('half-open');
      failTrial(breaker);
      expect(rejection(breaker).retryAfter).toBe(next);
      current = next;
    }
    expect(breaker.toJSON().snapshot.reopenings).toBe(5);
  });

  it('reports the grown duration in the opened event', async () => {
    const breaker = breakerWith();
    const opened: CircuitOpenedEvent[] = [];
    breaker.on('opened', (event) => opened.push(event));
    failTimes(breaker, 1);
    await clock.advance(1_000);
    failTrial(breaker);
    await clock.advance(2_000);
    failTrial(breaker);
    expect(opened.map((event) => [event.reason, event.retryAfter])).toEqual([
      ['failures', 1_000],
      ['trialFailed', 2_000],
      ['trialFailed', 4_000],
    ]);
  });

  it('starts again from the first wait once a trial closes the circuit', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 1);
    await clock.advance(1_000);
    failTrial(breaker);
    await clock.advance(2_000);
    expect(breaker.executeSync(() => 'ok')).toBe('ok');
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 1);
    expect(rejection(breaker).retryAfter).toBe(1_000);
    expect(breaker.toJSON().snapshot.reopenings).toBe(0);
  });

  it('draws a random backoff’s wait once per opening: retryAfter counts down steadily', async () => {
    const breaker = breakerWith({
      resetTimeout: decorrelatedJitter({ initial: 1_000, max: 60_000, random: seededRandom(3) }),
    });
    failTimes(breaker, 1);
    await clock.advance(breaker.toJSON().snapshot.breakDuration!);
    failTrial(breaker);
    const first = rejection(breaker).retryAfter;
    await clock.advance(100);
    expect(rejection(breaker).retryAfter).toBe(first - 100);
  });

  it('resolves resetTimeout to the backoff’s first wait, and keeps the backoff', () => {
    const breaker = breakerWith({ resetTimeout: linearBackoff({ initial: 250, step: 100 }) });
    expect(breaker.options.resetTimeout).toBe(250);
    expect(breaker.options.resetBackoff).toMatchObject({ kind: 'linear' });
    expect(circuitBreaker({ resetTimeout: 5 }).options.resetBackoff).toBeUndefined();
  });

  it('names resetTimeout when it is neither a number nor a backoff', () => {
    expect(() => circuitBreaker({ resetTimeout: '1s' as never })).toThrow(
      'circuitBreaker: `resetTimeout` must be a number of milliseconds or a Backoff, got "1s".',
    );
  });

  it('carries the re-opening count and duration through toJSON and memoryCircuitStore', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 1);
    await clock.advance(1_000);
    failTrial(breaker);
    await clock.advance(500);
    const saved = JSON.parse(JSON.stringify(breaker)) as { snapshot: CircuitSnapshot };
    expect(saved.snapshot).toMatchObject({ state: 'open', reopenings: 1, breakDuration: 2_000 });
    const restored = breakerWith({ store: memoryCircuitStore(saved.snapshot) });
    expect(rejection(restored).retryAfter).toBe(1_500);
    await clock.advance(1_500);
    failTrial(restored);
    expect(rejection(restored).retryAfter).toBe(4_000);
  });

  it('refuses a saved snapshot with a broken re-opening count or duration', () => {
    const base = { state: 'open', since: 0, trials: 0, successes: 0, epoch: 1 } as const;
    expect(() => memoryCircuitStore({ ...base, reopenings: -1 })).toThrow(
      /memoryCircuitStore: `initial` must be a CircuitSnapshot/,
    );
    expect(() => memoryCircuitStore({ ...base, breakDuration: Number.NaN })).toThrow(/`initial`/);
    expect(memoryCircuitStore(base).read()).toMatchObject(base);
  });
});

/**
 * Model of the growing break: consecutive sync calls on a threshold-1,
 * consecutive-counting circuit with one trial call, at random times. The
 * model says, straight from the rule, how long each opening lasts.
 */
describe('circuitBreaker — break duration growth (property)', () => {
  type Step = { readonly wait: number; readonly fails: boolean };
  const steps = fc.array(
    fc.record({
      wait: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 20_000 })),
      fails: fc.boolean(),
    }),
    { maxLength: 30 },
  );
  const shapes = fc.record({
    initial: fc.integer({ min: 1, max: 2_000 }),
    factor: fc.integer({ min: 1, max: 3 }),
    max: fc.integer({ min: 1, max: 20_000 }),
  });

  it('opens for min(max, initial × factor^n) after n failed trials in a row, and for initial again after a close', () => {
    fc.assert(
      fc.property(shapes, steps, ({ initial, factor, max }, schedule: Step[]) => {
        // The breaker sets no timers, so a bare clock is enough (and keeps 10,000 schedules fast).
        const clock = { time: 0, now: () => clock.time } as Clock & { time: number };
        const breaker = circuitBreaker({
          threshold: 1,
          counting: 'consecutive',
          resetTimeout: exponentialBackoff({ initial, factor, max }),
          clock,
        });
        const expectedWait = (n: number): number => Math.min(max, initial * factor ** n);
        let state: 'closed' | 'open' = 'closed';
        let openedAt = 0;
        let reopenings = 0;
        for (const { wait, fails } of schedule) {
          clock.time += wait;
          const now = clock.time;
          const outcome = attempt(() =>
            breaker.executeSync(() => {
              if (fails) throw new Boom();
              return 1;
            }),
          );
          if (state === 'open' && now - openedAt < expectedWait(reopenings)) {
            // Still open: rejected, and retryAfter is what is left of the model's break.
            const left = openedAt + expectedWait(reopenings) - now;
            check(
              isCircuitOpenError(outcome.error) && outcome.error.retryAfter === left,
              `rejected, retryAfter ${left}`,
            );
            continue;
          }
          if (fails) {
            reopenings = state === 'open' ? reopenings + 1 : 0; // a trial failed, or the rule tripped it
            state = 'open';
            openedAt = now;
            const { snapshot } = breaker.toJSON();
            check(
              snapshot.reopenings === reopenings && snapshot.breakDuration === expectedWait(reopenings),
              `re-openings ${snapshot.reopenings}, break ${snapshot.breakDuration}; model ${reopenings}, ${expectedWait(reopenings)}`,
            );
          } else {
            state = 'closed';
            reopenings = 0;
          }
          check(breaker.state === state, `state ${breaker.state}, model ${state}`);
        }
      }),
      { numRuns: 10_000 },
    );
  });
});

// Plain checks: jest's expect costs more than the breaker itself, 10,000 schedules over.
function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}
