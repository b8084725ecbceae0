import fc from 'fast-check';
import {
  circuitBreaker,
  CircuitOpenError,
  exponentialBackoff,
  isCircuitOpenError,
  memoryCircuitStore,
  type CircuitBreakerOptions,
  type CircuitBreakerPolicy,
  type CircuitRestore,
  type CircuitSnapshot,
  type CircuitStateChangeEvent,
  type Clock,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { transition, type CircuitLimits } from '../../packages/core/src/circuit-breaker/state-machine';
import { Boom, deferred, failTimes, Other, type Deferred } from './circuit-breaker-helpers';

const limits: CircuitLimits = { resetTimeout: 1_000, halfOpenCalls: 4, halfOpenFailureRate: 0.5 };
const halfOpen = (extra: Partial<CircuitSnapshot>): CircuitSnapshot => ({
  state: 'half-open',
  since: 0,
  trials: 4,
  successes: 0,
  failures: 0,
  epoch: 3,
  reopenings: 0,
  breakDuration: 1_000,
  isolations: 0,
  ...extra,
});

describe('circuit state machine — half-open decided by a rate', () => {
  it('counts a failed trial below the rate and stays half-open', () => {
    expect(transition(halfOpen({}), 'trialFailed', 5, limits)).toMatchObject({
      state: 'half-open',
      failures: 1,
      epoch: 3,
    });
  });

  it('re-opens as soon as the failures reach the rate, without waiting for the trials still running', () => {
    const next = transition(halfOpen({ failures: 1 }), 'trialFailed', 5, limits);
    expect(next).toMatchObject({ state: 'open', since: 5, epoch: 4, reopenings: 1, failures: 0 });
  });

  it('closes once every trial has finished below the rate, whichever outcome comes last', () => {
    const lastSucceeds = halfOpen({ successes: 2, failures: 1 });
    expect(transition(lastSucceeds, 'trialSucceeded', 5, limits)).toMatchObject({ state: 'closed', epoch: 4 });
    const lastFails = halfOpen({ successes: 3, failures: 0 });
    expect(transition(lastFails, 'trialFailed', 5, limits)).toMatchObject({ state: 'closed', epoch: 4 });
  });

  it('waits for every trial before closing: successes alone do not close it early', () => {
    expect(transition(halfOpen({ successes: 2 }), 'trialSucceeded', 5, limits)).toMatchObject({
      state: 'half-open',
      successes: 3,
    });
  });

  it('frees the slot of a trial that ended without an outcome, keeping the failures counted', () => {
    expect(transition(halfOpen({ failures: 1 }), 'releaseTrial', 5, limits)).toMatchObject({
      trials: 3,
      failures: 1,
    });
    expect(() => transition(halfOpen({ successes: 2, failures: 1, trials: 3 }), 'releaseTrial', 5, limits)).toThrow(
      /illegal transition 'releaseTrial' from 'half-open' \(trials 3\/2\/1\)/,
    );
  });

  it('re-opens on the first failed trial without a rate, as before', () => {
    const { halfOpenFailureRate: _rate, ...allMustSucceed } = limits;
    expect(transition(halfOpen({ successes: 2 }), 'trialFailed', 5, allMustSucceed)).toMatchObject({ state: 'open' });
  });

  it('is exact at the boundary: 3 failures of 10 trials reach a rate of 0.3, 2 do not', () => {
    const ten = { resetTimeout: 1_000, halfOpenCalls: 10, halfOpenFailureRate: 0.3 };
    expect(transition(halfOpen({ trials: 10, failures: 1 }), 'trialFailed', 5, ten).state).toBe('half-open');
    expect(transition(halfOpen({ trials: 10, failures: 2 }), 'trialFailed', 5, ten).state).toBe('open');
  });

  it('starts a new round, with no failures, in place of overdue trials', () => {
    const overdue = halfOpen({ failures: 1, successes: 1 });
    expect(transition(overdue, 'expireTrials', 1_000, limits)).toMatchObject({
      state: 'half-open',
      trials: 0,
      successes: 0,
      failures: 0,
      epoch: 4,
    });
  });
});

describe('circuitBreaker — halfOpenFailureRate', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock(0);
  });
  // Opens after one failure; from 1,000 ms four trial calls, re-opened once two of them fail.
  const breakerWith = (options: CircuitBreakerOptions = {}) =>
    circuitBreaker({
      on: Boom,
      threshold: 1,
      resetTimeout: 1_000,
      halfOpenCalls: 4,
      halfOpenFailureRate: 0.5,
      clock,
      ...options,
    });

  /** Opens `breaker`, waits until it is due, and starts `count` trials the test settles. */
  async function startTrials(breaker: CircuitBreakerPolicy, count: number) {
    failTimes(breaker, 1);
    await clock.advance(1_000);
    const trials: { control: Deferred<string>; result: Promise<string> }[] = [];
    for (let i = 0; i < count; i++) {
      const control = deferred();
      const result = breaker.execute(() => control.promise);
      result.catch(() => undefined);
      trials.push({ control, result });
    }
    return trials;
  }
  const reasons = (breaker: CircuitBreakerPolicy): string[] => {
    const seen: string[] = [];
    breaker.on('stateChange', ({ to, reason }: CircuitStateChangeEvent) => seen.push(`${to}:${reason}`));
    return seen;
  };

  it('closes after all trials finished with failures below the rate, reason trialsSucceeded', async () => {
    const breaker = breakerWith();
    const seen = reasons(breaker);
    const [a, b, c, d] = await startTrials(breaker, 4);
    a!.control.reject(new Boom());
    b!.control.resolve('ok');
    c!.control.resolve('ok');
    await expect(a!.result).rejects.toBeInstanceOf(Boom);
    expect(breaker.state).toBe('half-open');
    d!.control.resolve('ok');
    await d!.result;
    expect(breaker.state).toBe('closed');
    expect(seen).toEqual(['open:failures', 'half-open:resetTimeout', 'closed:trialsSucceeded']);
  });

  it('closes when the last trial fails below the rate, its event naming no error', async () => {
    const breaker = breakerWith();
    const changes: CircuitStateChangeEvent[] = [];
    breaker.on('stateChange', (event) => changes.push(event));
    const [a, b, c, d] = await startTrials(breaker, 4);
    for (const trial of [a!, b!, c!]) trial.control.resolve('ok');
    d!.control.reject(new Boom());
    await expect(d!.result).rejects.toBeInstanceOf(Boom);
    expect(breaker.state).toBe('closed');
    expect(changes.at(-1)).toEqual({ circuit: 'circuit', from: 'half-open', to: 'closed', reason: 'trialsSucceeded' });
  });

  it('re-opens at the failure that reaches the rate, with trials still running, reason trialFailureRate', async () => {
    const breaker = breakerWith();
    const seen = reasons(breaker);
    const opened: unknown[] = [];
    breaker.on('opened', (event) => opened.push(event));
    const [a, b, c] = await startTrials(breaker, 3);
    a!.control.reject(new Boom(1));
    await expect(a!.result).rejects.toBeInstanceOf(Boom);
    expect(breaker.state).toBe('half-open');
    const second = new Boom(2);
    b!.control.reject(second);
    await expect(b!.result).rejects.toBe(second);
    expect(breaker.state).toBe('open');
    expect(seen.at(-1)).toBe('open:trialFailureRate');
    expect(opened.at(-1)).toEqual({ circuit: 'circuit', reason: 'trialFailureRate', error: second, retryAfter: 1_000 });
    // The trial still running belongs to a round that is over: its success closes nothing.
    c!.control.resolve('late');
    await c!.result;
    expect(breaker.state).toBe('open');
  });

  it('rejects calls while every trial slot of the round is taken, even after a failure it tolerates', async () => {
    const breaker = breakerWith();
    const [a] = await startTrials(breaker, 4);
    a!.control.reject(new Boom());
    await expect(a!.result).rejects.toBeInstanceOf(Boom);
    await expect(breaker.execute(async () => 'fifth')).rejects.toMatchObject({ retryAfter: 0 });
  });

  it('lets a call waiting (halfOpenWait) through once the round closes the circuit, not at a tolerated failure', async () => {
    const breaker = breakerWith({ halfOpenWait: 5_000 });
    const [a, b, c, d] = await startTrials(breaker, 4);
    let ran = false;
    const waiting = breaker.execute(async () => {
      ran = true;
      return 'waited';
    });
    a!.control.reject(new Boom());
    b!.control.resolve('ok');
    c!.control.resolve('ok');
    await clock.flush();
    expect(ran).toBe(false);
    d!.control.resolve('ok');
    await expect(waiting).resolves.toBe('waited');
    expect(clock.pending).toBe(0);
  });

  it('rejects the waiting calls (halfOpenWait) when the rate re-opens the circuit', async () => {
    const breaker = breakerWith({ halfOpenWait: 5_000 });
    const [a, b] = await startTrials(breaker, 4);
    const waiting = breaker.execute(async () => 'never');
    a!.control.reject(new Boom());
    b!.control.reject(new Boom());
    await expect(waiting).rejects.toBeInstanceOf(CircuitOpenError);
    expect(clock.pending).toBe(0);
  });

  it('grows the break when the rate re-opens the circuit, and starts it over when a round closes it', async () => {
    const breaker = breakerWith({ resetTimeout: exponentialBackoff({ initial: 1_000, factor: 2, max: 60_000 }) });
    const retryAfter = async () => {
      const error: unknown = await breaker.execute(async () => 'x').catch((e: unknown) => e);
      return isCircuitOpenError(error) ? error.retryAfter : undefined;
    };
    const [a, b] = await startTrials(breaker, 2);
    a!.control.reject(new Boom());
    b!.control.reject(new Boom());
    await Promise.allSettled([a!.result, b!.result]);
    expect(await retryAfter()).toBe(2_000);
    await clock.advance(2_000);
    const round = [0, 1, 2, 3].map(() => breaker.execute(async () => 'ok'));
    await Promise.all(round);
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 1);
    expect(await retryAfter()).toBe(1_000);
  });

  it('lets metrics-only calls run beside a full round, which still decides the state', async () => {
    const breaker = breakerWith({ mode: 'metrics-only' });
    const [a, b] = await startTrials(breaker, 4);
    await expect(breaker.execute(async () => 'beside')).resolves.toBe('beside');
    a!.control.reject(new Boom());
    b!.control.reject(new Boom());
    await Promise.allSettled([a!.result, b!.result]);
    expect(breaker.state).toBe('open');
  });

  it('frees the slot of a trial ending with an error it does not count: another call takes it', async () => {
    const breaker = breakerWith();
    const [a] = await startTrials(breaker, 4);
    a!.control.reject(new Other());
    await expect(a!.result).rejects.toBeInstanceOf(Other);
    await expect(breaker.execute(async () => 'fourth trial')).resolves.toBe('fourth trial');
    expect(breaker.toJSON().snapshot).toMatchObject({ state: 'half-open', trials: 4, successes: 1 });
  });

  it('shows the round’s progress in toJSON, and a restored circuit starts a new round', async () => {
    const breaker = breakerWith();
    const [a, b] = await startTrials(breaker, 3);
    a!.control.reject(new Boom());
    b!.control.resolve('ok');
    await Promise.allSettled([a!.result, b!.result]);
    const saved = JSON.parse(JSON.stringify(breaker)) as CircuitRestore;
    expect(saved.snapshot).toMatchObject({ state: 'half-open', trials: 3, successes: 1, failures: 1 });
    const restored = breakerWith({ restore: saved });
    expect(restored.toJSON().snapshot).toMatchObject({ state: 'half-open', trials: 0, successes: 0, failures: 0 });
    // A new round: one failure is tolerated again, the second re-opens.
    failTimes(restored, 1);
    expect(restored.state).toBe('half-open');
    failTimes(restored, 1);
    expect(restored.state).toBe('open');
  });

  it('keeps the round’s failures in a store seeded with a snapshot', () => {
    const seeded = memoryCircuitStore(halfOpen({ trials: 2, successes: 0, failures: 1 }));
    const breaker = breakerWith({ store: seeded });
    expect(breaker.executeSync(() => 'third trial')).toBe('third trial');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('refuses a saved snapshot whose trial outcomes outnumber its trials', () => {
    expect(() => memoryCircuitStore(halfOpen({ trials: 2, successes: 1, failures: 2 }))).toThrow(
      /memoryCircuitStore: `initial` must be a CircuitSnapshot/,
    );
    expect(() => memoryCircuitStore(halfOpen({ failures: -1 }))).toThrow(/`initial`/);
  });

  it('keeps the option in the resolved options, and leaves it out when not given', () => {
    expect(breakerWith().options.halfOpenFailureRate).toBe(0.5);
    expect('halfOpenFailureRate' in circuitBreaker().options).toBe(false);
  });

  it.each<[string, CircuitBreakerOptions, typeof TypeError, string]>([
    [
      '0',
      { halfOpenCalls: 4, halfOpenFailureRate: 0 },
      RangeError,
      'circuitBreaker: `halfOpenFailureRate` must be a number > 0 and <= 1, got 0.',
    ],
    [
      '1.5',
      { halfOpenCalls: 4, halfOpenFailureRate: 1.5 },
      RangeError,
      'circuitBreaker: `halfOpenFailureRate` must be a number > 0 and <= 1, got 1.5.',
    ],
    [
      'NaN',
      { halfOpenCalls: 4, halfOpenFailureRate: Number.NaN },
      RangeError,
      'circuitBreaker: `halfOpenFailureRate` must be a number > 0 and <= 1, got NaN.',
    ],
    [
      '"50%"',
      { halfOpenCalls: 4, halfOpenFailureRate: '50%' as never },
      TypeError,
      'circuitBreaker: `halfOpenFailureRate` must be a number > 0 and <= 1, got "50%".',
    ],
    [
      'without halfOpenCalls',
      { halfOpenFailureRate: 0.5 },
      RangeError,
      'circuitBreaker: `halfOpenFailureRate` must be given with `halfOpenCalls` >= 2 (with 1 trial call, its failure always re-opens the circuit), got 0.5.',
    ],
  ])('refuses halfOpenFailureRate %s, naming the option', (_name, options, ErrorType, message) => {
    const make = () => circuitBreaker(options);
    expect(make).toThrow(ErrorType);
    expect(make).toThrow(message);
  });
});

/**
 * Model of the rate rule: async calls arrive, settle (counted failure,
 * success, or an error the circuit does not count) and time passes, in any
 * order, on a threshold-1 circuit, opened at the start, whose break doubles
 * after each failed round.
 * A reference written from the rule (integer arithmetic, no division) says
 * which calls run, which are rejected, and every state change with its
 * reason; the breaker must agree at every step.
 */
describe('circuitBreaker — half-open decided by a rate (property)', () => {
  type Step =
    | { kind: 'call' }
    | { kind: 'settle'; pick: number; outcome: 'ok' | 'boom' | 'other' }
    | { kind: 'advance'; ms: number };
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: 'call' as const }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('settle' as const),
        pick: fc.nat(20),
        outcome: fc.constantFrom('ok' as const, 'ok' as const, 'boom' as const, 'boom' as const, 'other' as const),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('advance' as const),
        ms: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 500 })),
      }),
    },
  );

  it('admits, rejects, re-opens and closes exactly as the rule says', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 100 }), // the rate, in hundredths
        fc.array(stepArb, { minLength: 10, maxLength: 40 }),
        async (halfOpenCalls, percent, steps) => {
          const reset = 100;
          const clock = { time: 0, now: () => clock.time } as Clock & { time: number };
          const breaker = circuitBreaker({
            on: Boom,
            threshold: 1,
            counting: 'consecutive',
            resetTimeout: exponentialBackoff({ initial: reset, factor: 2, max: 4 * reset }),
            halfOpenCalls,
            halfOpenFailureRate: percent / 100,
            clock,
          });
          const events: string[] = [];
          breaker.on('stateChange', ({ from, to, reason }) => events.push(`${from}>${to}:${reason}`));

          // The reference.
          const model = {
            state: 'closed' as 'closed' | 'open' | 'half-open',
            openedAt: 0,
            reopenings: 0,
            round: 0, // half-open rounds, to tell a trial of the current round from a stale one
            started: 0, // trial slots taken in the round (a trial ending with an uncounted error gives its back)
            lastTrialAt: 0,
            successes: 0,
            failures: 0,
          };
          const expected: string[] = [];
          const breakOf = (reopenings: number): number => Math.min(4 * reset, reset * 2 ** reopenings);
          const move = (to: typeof model.state, reason: string): void => {
            expected.push(`${model.state}>${to}:${reason}`);
            if (to === 'half-open') {
              model.round++;
              model.started = model.successes = model.failures = 0;
            }
            if (to === 'open') model.openedAt = clock.time;
            model.state = to;
          };
          const observe = (): void => {
            if (model.state === 'open' && clock.time - model.openedAt >= breakOf(model.reopenings)) {
              move('half-open', 'resetTimeout');
            }
          };
          const open = (reason: 'failures' | 'trialFailureRate'): void => {
            model.reopenings = reason === 'failures' ? 0 : model.reopenings + 1;
            move('open', reason);
          };
          // A call's ticket: 'normal', a trial's round, or 'rejected'.
          const admit = (): number | 'normal' | 'rejected' => {
            observe();
            if (model.state === 'closed') return 'normal';
            if (model.state === 'open') return 'rejected';
            if (model.started >= halfOpenCalls) {
              if (clock.time - model.lastTrialAt < reset) return 'rejected'; // a trial may run resetTimeout's first wait
              move('half-open', 'resetTimeout'); // overdue trials make way for a new round
            }
            model.started++;
            model.lastTrialAt = clock.time;
            return model.round;
          };
          const settle = (ticket: number | 'normal', outcome: 'ok' | 'boom' | 'other'): void => {
            const current = ticket !== 'normal' && model.state === 'half-open' && ticket === model.round;
            if (current) {
              if (outcome === 'other') model.started--;
              else if (outcome === 'ok') model.successes++;
              // failures * 100 >= percent * calls: the rate reached, in integers.
              else if (++model.failures * 100 >= percent * halfOpenCalls) {
                open('trialFailureRate');
                return;
              }
              if (model.successes + model.failures === halfOpenCalls) {
                model.reopenings = 0;
                move('closed', 'trialsSucceeded');
              }
            } else if (outcome === 'boom' && model.state === 'closed') {
              open('failures'); // threshold 1: a counted failure while closed opens it
            }
          };

          // Every schedule starts open: a counted failure trips it.
          failTimes(breaker, 1);
          open('failures');
          const running: { control: Deferred<string>; ticket: number | 'normal' }[] = [];
          for (const step of steps) {
            if (step.kind === 'call') {
              const ticket = admit();
              const control = deferred();
              let ran = false;
              const result = breaker.execute(() => {
                ran = true;
                return control.promise;
              });
              result.catch(() => undefined);
              check(ran === (ticket !== 'rejected'), `call ran: ${ran}, model: ${String(ticket)}`);
              if (ticket !== 'rejected') running.push({ control, ticket });
              else {
                const error: unknown = await result.catch((e: unknown) => e);
                check(isCircuitOpenError(error), 'rejected with CircuitOpenError');
              }
            } else if (step.kind === 'settle') {
              const [call] = running.splice(step.pick % Math.max(1, running.length), 1);
              if (call === undefined) continue;
              if (step.outcome === 'ok') call.control.resolve('ok');
              else call.control.reject(step.outcome === 'boom' ? new Boom() : new Other());
              await flush();
              settle(call.ticket, step.outcome);
            } else {
              clock.time += step.ms;
            }
            observe();
            check(breaker.state === model.state, `state ${breaker.state}, model ${model.state}`);
            check(events.join() === expected.join(), `events ${events.join(' ')}\n model ${expected.join(' ')}`);
          }
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}

// Plain checks: jest's expect costs more than the breaker itself, 10,000 schedules over.
function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}
