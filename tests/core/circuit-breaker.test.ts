import {
  circuitBreaker,
  circuitBreakerFactory,
  CircuitOpenError,
  isCircuitOpenError,
  memoryCircuitStore,
  setDefaultClock,
  type CircuitBreakerOptions,
  type CircuitSnapshot,
  type CircuitStateChangeEvent,
  type CircuitStore,
  type CircuitStoreProvider,
  type ResolvedCircuitBreakerOptions,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { attempt, Boom, deferred, failTimes, openErrorOf, Other } from './circuit-breaker-helpers';
import { collectReported, reportOf } from './reported-warnings';

let clock: VirtualClock;
beforeEach(() => {
  clock = new VirtualClock(1_000);
});

const breakerWith = (options: CircuitBreakerOptions = {}) =>
  circuitBreaker({ on: Boom, threshold: 3, resetTimeout: 1_000, name: 'billing', clock, ...options });

describe('circuitBreaker — closed', () => {
  it('opens when the matching failures within resetTimeout reach threshold', () => {
    const breaker = breakerWith();
    failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('fails the call that trips it with its own error', () => {
    const breaker = breakerWith();
    failTimes(breaker, 2);
    const own = new Boom(3);
    const outcome = attempt(() =>
      breaker.executeSync(() => {
        throw own;
      }),
    );
    expect(outcome.error).toBe(own);
    expect(breaker.state).toBe('open');
  });

  it('forgets failures older than resetTimeout', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 2);
    await clock.advance(1_001);
    failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('still counts a failure exactly resetTimeout old', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 2);
    await clock.advance(1_000);
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('does not clear the failure record on success', () => {
    const breaker = breakerWith();
    failTimes(breaker, 2);
    for (let i = 0; i < 10; i++) breaker.executeSync(() => 'ok');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('lets errors not matching `on` pass through unchanged, counting nothing', () => {
    const breaker = breakerWith();
    const other = new Other('not counted');
    for (let i = 0; i < 10; i++) {
      const outcome = attempt(() =>
        breaker.executeSync(() => {
          throw other;
        }),
      );
      expect(outcome.error).toBe(other);
    }
    expect(breaker.state).toBe('closed');
    expect(breaker.statistics).toMatchObject({ calls: 10, failures: 0, ignoredErrors: 10 });
  });

  it('counts every error when `on` is omitted', () => {
    const breaker = circuitBreaker({ threshold: 2, clock });
    failTimes(breaker, 1);
    attempt(() =>
      breaker.executeSync(() => {
        throw new Other();
      }),
    );
    expect(breaker.state).toBe('open');
  });

  it('matches `on` with instanceof (subclasses count), lists of classes and predicates', () => {
    class SubBoom extends Boom {}
    const byClass = breakerWith({ threshold: 1 });
    attempt(() =>
      byClass.executeSync(() => {
        throw new SubBoom();
      }),
    );
    expect(byClass.state).toBe('open');

    const byList = breakerWith({ threshold: 1, on: [RangeError, Boom] });
    attempt(() =>
      byList.executeSync(() => {
        throw new RangeError();
      }),
    );
    expect(byList.state).toBe('open');

    const byPredicate = breakerWith({ threshold: 1, on: (e) => e instanceof Error && e.message === 'count me' });
    attempt(() =>
      byPredicate.executeSync(() => {
        throw new Error('not me');
      }),
    );
    expect(byPredicate.state).toBe('closed');
    attempt(() =>
      byPredicate.executeSync(() => {
        throw new Error('count me');
      }),
    );
    expect(byPredicate.state).toBe('open');
  });
});

describe('circuitBreaker — open', () => {
  it('rejects calls at once with CircuitOpenError carrying retryAfter and the name, without calling fn', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    await clock.advance(400);
    const fn = jest.fn(() => 'ran');
    const error = openErrorOf(attempt(() => breaker.executeSync(fn)));
    expect(fn).not.toHaveBeenCalled();
    expect(error.retryAfter).toBe(600);
    expect(error.circuit).toBe('billing');
    expect(error.code).toBe('STAUNCH_CIRCUIT_OPEN');
    expect(isCircuitOpenError(error)).toBe(true);
  });

  it('rejects with a promise through execute and throws through executeSync (see circuit-breaker-entry-points)', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    await expect(breaker.execute(async () => 'ran')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(() => breaker.executeSync(() => 'ran')).toThrow(CircuitOpenError);
  });

  it('counts down retryAfter with the clock', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    expect(openErrorOf(attempt(() => breaker.executeSync(() => 1))).retryAfter).toBe(1_000);
    await clock.advance(999);
    expect(openErrorOf(attempt(() => breaker.executeSync(() => 1))).retryAfter).toBe(1);
  });

  it('rejects without a stack trace: the message says what to do', () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    const error = openErrorOf(attempt(() => breaker.executeSync(() => 1)));
    expect(error.stack).toBe(`CircuitOpenError: ${error.message}`);
    expect(error.message).toBe(
      'Circuit "billing" is open: the call was rejected without running. Retry after 1000 ms.',
    );
  });

  it('leaves Error.stackTraceLimit as it was, so other errors keep their stacks', () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    const limit = Error.stackTraceLimit;
    attempt(() => breaker.executeSync(() => 1));
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('elsewhere').stack).toMatch(/\n\s+at /);
  });
});

describe('circuitBreaker — half-open', () => {
  it('reads half-open once resetTimeout has passed since opening', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    await clock.advance(999);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('half-open');
  });

  it('lets exactly one trial call through by default; concurrent calls meanwhile get CircuitOpenError', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    await clock.advance(1_000);
    const trial = deferred();
    const running = breaker.execute(() => trial.promise);
    const fn = jest.fn(async () => 'concurrent');
    for (let i = 0; i < 5; i++) await expect(breaker.execute(fn)).rejects.toMatchObject({ retryAfter: 0 });
    expect(fn).not.toHaveBeenCalled();
    trial.resolve('ok');
    await running;
    await expect(breaker.execute(fn)).resolves.toBe('concurrent');
  });

  it('lets exactly halfOpenCalls trial calls through; others meanwhile get CircuitOpenError with retryAfter 0', async () => {
    const breaker = breakerWith({ halfOpenCalls: 2 });
    failTimes(breaker, 3);
    await clock.advance(1_000);
    const trials = [deferred(), deferred()];
    const running = trials.map((trial) => breaker.execute(() => trial.promise));
    const fn = jest.fn(async () => 'extra');
    const extra = breaker.execute(fn);
    await expect(extra).rejects.toMatchObject({ retryAfter: 0 });
    expect(fn).not.toHaveBeenCalled();
    trials.forEach((trial) => trial.resolve('ok'));
    await Promise.all(running);
    expect(breaker.state).toBe('closed');
  });

  it('re-opens for a full new resetTimeout on a matching trial failure; the trial caller gets its own error', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    await clock.advance(1_500);
    const own = new Boom(9);
    const outcome = attempt(() =>
      breaker.executeSync(() => {
        throw own;
      }),
    );
    expect(outcome.error).toBe(own);
    expect(breaker.state).toBe('open');
    expect(openErrorOf(attempt(() => breaker.executeSync(() => 1))).retryAfter).toBe(1_000);
    await clock.advance(999);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('half-open');
  });

  it('closes on a trial success and clears the failure record', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    await clock.advance(1_000);
    expect(breaker.executeSync(() => 'trial')).toBe('trial');
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('needs every one of halfOpenCalls trials to succeed before closing', async () => {
    const breaker = breakerWith({ halfOpenCalls: 3 });
    failTimes(breaker, 3);
    await clock.advance(1_000);
    breaker.executeSync(() => 1);
    breaker.executeSync(() => 2);
    expect(breaker.state).toBe('half-open');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('frees the slot of a trial that throws a non-matching error, changing nothing else', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    await clock.advance(1_000);
    const other = new Other();
    const outcome = attempt(() =>
      breaker.executeSync(() => {
        throw other;
      }),
    );
    expect(outcome.error).toBe(other);
    expect(breaker.state).toBe('half-open');
    expect(breaker.executeSync(() => 'next trial')).toBe('next trial');
    expect(breaker.state).toBe('closed');
  });

  it('does not take late outcomes of calls admitted while closed for trial outcomes', async () => {
    const breaker = breakerWith({ threshold: 1 });
    const slow = deferred();
    const late = breaker.execute(() => slow.promise);
    failTimes(breaker, 1);
    await clock.advance(1_000);
    const trial = deferred();
    const running = breaker.execute(() => trial.promise);
    slow.reject(new Boom());
    await expect(late).rejects.toBeInstanceOf(Boom);
    expect(breaker.state).toBe('half-open');
    trial.resolve('ok');
    await running;
    expect(breaker.state).toBe('closed');
  });
});

describe('circuitBreaker — a trial that never settles', () => {
  it('keeps rejecting while the running trial is younger than resetTimeout', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    await clock.advance(1_000);
    void breaker.execute(() => deferred().promise);
    await clock.advance(999);
    const fn = jest.fn(async () => 'second trial');
    await expect(breaker.execute(fn)).rejects.toMatchObject({ retryAfter: 0 });
    expect(fn).not.toHaveBeenCalled();
  });

  it('lets a new trial through once resetTimeout has passed since the latest trial began', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    await clock.advance(1_500);
    void breaker.execute(() => deferred().promise); // hangs for ever
    await clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    expect(breaker.executeSync(() => 'second trial')).toBe('second trial');
    expect(breaker.state).toBe('closed');
  });

  it('measures a trial’s time from when it began, not from when the circuit half-opened', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    await clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    await clock.advance(900); // the first trial starts 900 ms after the circuit half-opened
    void breaker.execute(() => deferred().promise);
    await clock.advance(500);
    await expect(breaker.execute(async () => 1)).rejects.toMatchObject({ retryAfter: 0 });
  });

  it('ignores the late outcome of a trial it gave up on', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    await clock.advance(1_000);
    const lost = deferred();
    const late = breaker.execute(() => lost.promise);
    await clock.advance(1_000);
    const trial = deferred();
    const running = breaker.execute(() => trial.promise);
    lost.reject(new Boom());
    await expect(late).rejects.toBeInstanceOf(Boom);
    expect(breaker.state).toBe('half-open'); // had it counted as a trial failure, it would be open
    trial.resolve('ok');
    await running;
    expect(breaker.state).toBe('closed');
  });

  it('starts a new half-open period, reported as stateChange half-open → half-open for resetTimeout', async () => {
    const breaker = breakerWith({ halfOpenCalls: 2 });
    failTimes(breaker, 3);
    await clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    const changes: CircuitStateChangeEvent[] = [];
    const halfOpened = jest.fn();
    breaker.on('stateChange', (event) => changes.push(event));
    breaker.on('halfOpened', halfOpened);
    breaker.executeSync(() => 'first trial succeeds');
    void breaker.execute(() => deferred().promise);
    await clock.advance(1_000);
    breaker.executeSync(() => 'new period, trial 1');
    expect(breaker.state).toBe('half-open'); // the earlier success belonged to the old period
    breaker.executeSync(() => 'new period, trial 2');
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual([
      { circuit: 'billing', from: 'half-open', to: 'half-open', reason: 'resetTimeout' },
      { circuit: 'billing', from: 'half-open', to: 'closed', reason: 'trialsSucceeded' },
    ]);
    expect(halfOpened).not.toHaveBeenCalled();
  });
});

describe('circuitBreaker — onError', () => {
  it('is called with every error the function throws, counted or not, sync or async, after recording it', async () => {
    const seen: unknown[] = [];
    const breaker = breakerWith({ threshold: 2, onError: (error) => seen.push(error) });
    const [other, first, second] = [new Other(), new Boom(1), new Boom(2)];
    attempt(() =>
      breaker.executeSync(() => {
        throw other;
      }),
    );
    await breaker.execute(() => Promise.reject(first)).catch(() => undefined);
    const states: string[] = [];
    breaker.on('stateChange', () => states.push(breaker.state));
    attempt(() =>
      breaker.executeSync(() => {
        throw second;
      }),
    );
    expect(seen).toEqual([other, first, second]);
    expect(states).toEqual(['open']);
    attempt(() => breaker.executeSync(() => 1));
    expect(seen).toHaveLength(3);
  });

  it('does not let an error thrown by onError replace the caller’s error; it is reported as a warning', () => {
    const { reported, restore } = collectReported();
    try {
      const own = new Boom();
      const hookError = new Error('hook failed');
      const breaker = breakerWith({
        onError: () => {
          throw hookError;
        },
      });
      const outcome = attempt(() =>
        breaker.executeSync(() => {
          throw own;
        }),
      );
      expect(outcome.error).toBe(own);
      expect(reported.map((warning) => warning.detail)).toEqual([reportOf(hookError)]);
      expect(reported[0]!.message).toContain('the `onError` hook of circuit');
    } finally {
      restore();
    }
  });

  it('treats an error as not matching when the `on` predicate throws, reporting the predicate’s error as a warning', () => {
    const { reported, restore } = collectReported();
    try {
      const own = new Boom();
      const breaker = breakerWith({
        threshold: 1,
        on: () => {
          throw new Error('filter failed');
        },
      });
      const outcome = attempt(() =>
        breaker.executeSync(() => {
          throw own;
        }),
      );
      expect(outcome.error).toBe(own);
      expect(breaker.state).toBe('closed');
      expect(breaker.statistics).toMatchObject({ failures: 0, ignoredErrors: 1 });
      expect(reported).toHaveLength(1);
      expect(reported[0]!.message).toContain('Error: filter failed');
    } finally {
      restore();
    }
  });
});

describe('circuitBreaker — time and state', () => {
  it('sets no timer: state changes are computed from the clock when a call arrives or state is read', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    expect(clock.pending).toBe(0);
    await clock.advance(5_000);
    expect(breaker.state).toBe('half-open');
    expect(clock.pending).toBe(0);
  });

  it('holds no timer on the system clock either, through a trip, a rejection and a recovery', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout' || type === 'Immediate');
    const before = timers().length;
    const breaker = circuitBreaker({ on: Boom, threshold: 1, resetTimeout: 0 });
    await breaker.execute(() => Promise.reject(new Boom())).catch(() => undefined);
    expect(breaker.state).toBe('half-open');
    await breaker.execute(async () => 'trial');
    expect(breaker.state).toBe('closed');
    breaker.isolate();
    await breaker.execute(async () => 'rejected').catch(() => undefined);
    expect(timers()).toHaveLength(before);
  });

  it('reads the default clock when given none, at each use', async () => {
    const global = new VirtualClock();
    const restore = setDefaultClock(global);
    try {
      const breaker = circuitBreaker({ threshold: 1, resetTimeout: 100 });
      failTimes(breaker, 1);
      await global.advance(100);
      expect(breaker.state).toBe('half-open');
    } finally {
      restore();
    }
  });
});

describe('circuitBreaker — isolate and reset', () => {
  it('isolate() holds it open, rejecting with retryAfter Infinity, until reset()', async () => {
    const breaker = breakerWith();
    breaker.isolate();
    expect(breaker.state).toBe('open');
    expect(breaker.isolated).toBe(true);
    const error = openErrorOf(attempt(() => breaker.executeSync(() => 1)));
    expect(error.retryAfter).toBe(Infinity);
    expect(error.message).toMatch(/isolated/);
    await clock.advance(1_000_000);
    expect(breaker.state).toBe('open');
    breaker.reset();
    expect(breaker.state).toBe('closed');
    expect(breaker.isolated).toBe(false);
    expect(breaker.executeSync(() => 'runs')).toBe('runs');
  });

  it('reset() closes an open circuit and forgets the failure record, keeping the counters', () => {
    const breaker = breakerWith();
    failTimes(breaker, 3);
    breaker.reset();
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.statistics.failures).toBe(5);
  });

  it('reset() on a closed circuit forgets its failure record', () => {
    const breaker = breakerWith();
    failTimes(breaker, 2);
    breaker.reset();
    failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('treats a trial that outlives its half-open period (reset) like any earlier call: it counts only while closed', async () => {
    const breaker = breakerWith({ threshold: 2 });
    failTimes(breaker, 2);
    await clock.advance(1_000);
    const trial = deferred();
    const running = breaker.execute(() => trial.promise);
    breaker.reset();
    trial.reject(new Boom());
    await expect(running).rejects.toBeInstanceOf(Boom);
    expect(breaker.state).toBe('closed'); // a trial failure would have re-opened it
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open'); // the late failure was counted in the new closed period
  });
});

describe('circuitBreaker — events', () => {
  it('emits stateChange with from, to, reason and the tripping error', async () => {
    const breaker = breakerWith({ threshold: 1 });
    const changes: CircuitStateChangeEvent[] = [];
    breaker.on('stateChange', (event) => changes.push(event));
    const boom = new Boom();
    attempt(() =>
      breaker.executeSync(() => {
        throw boom;
      }),
    );
    await clock.advance(1_000);
    breaker.executeSync(() => 'trial');
    breaker.isolate();
    breaker.reset();
    expect(changes).toEqual([
      { circuit: 'billing', from: 'closed', to: 'open', reason: 'failures', error: boom },
      { circuit: 'billing', from: 'open', to: 'half-open', reason: 'resetTimeout' },
      { circuit: 'billing', from: 'half-open', to: 'closed', reason: 'trialsSucceeded' },
      { circuit: 'billing', from: 'closed', to: 'open', reason: 'isolate' },
      { circuit: 'billing', from: 'open', to: 'closed', reason: 'reset' },
    ]);
  });

  it('emits opened, halfOpened and closed', async () => {
    const breaker = breakerWith({ threshold: 1 });
    const seen: unknown[] = [];
    breaker.on('opened', (event) => seen.push(['opened', event]));
    breaker.on('halfOpened', (event) => seen.push(['halfOpened', event]));
    breaker.on('closed', (event) => seen.push(['closed', event]));
    const boom = new Boom();
    attempt(() =>
      breaker.executeSync(() => {
        throw boom;
      }),
    );
    await clock.advance(1_000);
    attempt(() =>
      breaker.executeSync(() => {
        throw boom;
      }),
    );
    await clock.advance(1_000);
    breaker.executeSync(() => 'ok');
    expect(seen).toEqual([
      ['opened', { circuit: 'billing', reason: 'failures', error: boom, retryAfter: 1_000 }],
      ['halfOpened', { circuit: 'billing' }],
      ['opened', { circuit: 'billing', reason: 'trialFailed', error: boom, retryAfter: 1_000 }],
      ['halfOpened', { circuit: 'billing' }],
      ['closed', { circuit: 'billing', reason: 'trialsSucceeded' }],
    ]);
  });

  it('stops calling a listener once unsubscribed', () => {
    const breaker = breakerWith({ threshold: 1 });
    const listener = jest.fn();
    const off = breaker.on('stateChange', listener);
    off();
    failTimes(breaker, 1);
    expect(listener).not.toHaveBeenCalled();
  });
});

describe('circuitBreaker — counters', () => {
  it('counts calls, successes, failures, ignored errors and rejections exactly', async () => {
    const breaker = breakerWith();
    breaker.executeSync(() => 1);
    await breaker.execute(async () => 2);
    attempt(() =>
      breaker.executeSync(() => {
        throw new Other();
      }),
    );
    failTimes(breaker, 3);
    attempt(() => breaker.executeSync(() => 1));
    await breaker.execute(async () => 1).catch(() => undefined);
    expect(breaker.statistics).toEqual({
      calls: 6,
      successes: 2,
      failures: 3,
      ignoredErrors: 1,
      slowCalls: 0,
      rejections: 2,
      aborted: 0,
    });
  });
});

describe('circuitBreaker — sync and async', () => {
  it('keeps a sync function sync through executeSync: returns its value, not a promise', () => {
    const breaker = breakerWith();
    const value = breaker.executeSync(() => 42);
    expect(value).toBe(42);
  });

  it('returns a promise for a function returning one, and records the outcome only when it settles', async () => {
    const breaker = breakerWith({ threshold: 1 });
    const pending = deferred();
    const result = breaker.execute(() => pending.promise);
    expect(result).toBeInstanceOf(Promise);
    expect(breaker.state).toBe('closed');
    pending.reject(new Boom());
    await expect(result).rejects.toBeInstanceOf(Boom);
    expect(breaker.state).toBe('open');
  });

  it('turns a foreign thenable into a native promise and records its outcome', async () => {
    const breaker = breakerWith({ threshold: 1 });
    const thenable = {
      then(_resolve: (value: string) => void, reject: (error: unknown) => void) {
        reject(new Boom());
      },
    };
    const result = breaker.execute(() => thenable as unknown as Promise<string>);
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toBeInstanceOf(Boom);
    expect(breaker.state).toBe('open');
  });

  it('call() passes this and the arguments through untouched', () => {
    const breaker = breakerWith();
    function add(this: { base: number }, a: number, b: number) {
      return this.base + a + b;
    }
    expect(breaker.call(add, { base: 10 }, [1, 2])).toBe(13);
  });
});

describe('circuitBreakerFactory', () => {
  it('resolves the options once and makes independent circuits sharing them', () => {
    const make = circuitBreakerFactory({ on: Boom, threshold: 1, clock });
    const [a, b] = [make(), make()];
    expect(a.options).toBe(make.options);
    expect(b.options).toBe(make.options);
    failTimes(a, 1);
    expect(a.state).toBe('open');
    expect(b.state).toBe('closed');
  });

  it('keeps idle circuits small: they share the resolved options and the frozen default counting value', () => {
    const make = circuitBreakerFactory({ threshold: 2, clock });
    expect(make().options).toBe(make().options);
    expect(circuitBreaker().options.counting).toBe(circuitBreaker({ counting: 'leaky-bucket' }).options.counting);
    expect(circuitBreaker({ counting: 'consecutive' }).options.counting).toBe(
      circuitBreaker({ counting: { mode: 'consecutive' } }).options.counting,
    );
    expect(Object.isFrozen(circuitBreaker().options.counting)).toBe(true);
  });

  it('names a circuit when asked', () => {
    const make = circuitBreakerFactory({ name: 'api', threshold: 1, clock });
    const keyed = make('api[example.com]');
    failTimes(keyed, 1);
    expect(openErrorOf(attempt(() => keyed.executeSync(() => 1))).circuit).toBe('api[example.com]');
    expect(make().name).toBe('api');
  });
});

describe('circuitBreaker — snapshot and store', () => {
  it('serialises to JSON with its state, snapshot, the clock time and counters', () => {
    const breaker = breakerWith({ threshold: 1 });
    failTimes(breaker, 1);
    expect(JSON.parse(JSON.stringify(breaker))).toEqual({
      name: 'billing',
      state: 'open',
      snapshot: {
        state: 'open',
        since: 1_000,
        trials: 0,
        successes: 0,
        failures: 0,
        epoch: 1,
        reopenings: 0,
        breakDuration: 1_000,
        isolations: 0,
      },
      savedAt: 1_000,
      stats: { calls: 1, successes: 0, failures: 1, ignoredErrors: 0, slowCalls: 0, rejections: 0, aborted: 0 },
    });
  });

  it('restores from a saved snapshot through memoryCircuitStore', () => {
    const saved = breakerWith({ threshold: 1 });
    failTimes(saved, 1);
    const restored = breakerWith({ store: memoryCircuitStore(saved.toJSON().snapshot) });
    expect(restored.state).toBe('open');
  });

  it('shares one circuit between breakers given the same store', () => {
    const store = memoryCircuitStore();
    const a = breakerWith({ threshold: 1, store });
    const b = breakerWith({ threshold: 1, store });
    failTimes(a, 1);
    expect(b.state).toBe('open');
  });

  it('runs on any store with read() and compareAndSet(); a lost swap defers to the state the other writer set', () => {
    const inner = memoryCircuitStore();
    const other = breakerWith({ threshold: 1, store: inner });
    let raced = false;
    const racing = {
      read: () => inner.read(),
      compareAndSet: (expected: CircuitSnapshot, next: CircuitSnapshot) => {
        if (!raced) {
          // Another process isolates the circuit between this breaker's read and its swap.
          raced = true;
          other.isolate();
        }
        return inner.compareAndSet(expected, next);
      },
    };
    const breaker = breakerWith({ threshold: 1, store: racing });
    const own = new Boom();
    const outcome = attempt(() =>
      breaker.executeSync(() => {
        throw own;
      }),
    );
    expect(outcome.error).toBe(own);
    expect(breaker.isolated).toBe(true); // the trip lost the race; the isolation stands
    expect(openErrorOf(attempt(() => breaker.executeSync(() => 1))).retryAfter).toBe(Infinity);
  });
});

describe('circuitBreaker — store providers', () => {
  // A provider of one in-memory circuit per name that records what it is asked and told.
  function recordingProvider() {
    const asked: { name: string; options: ResolvedCircuitBreakerOptions }[] = [];
    const failures = new Map<string, number>();
    const circuits = new Map<string, CircuitStore>();
    const provider: CircuitStoreProvider = {
      circuit(name, options) {
        asked.push({ name, options });
        let store = circuits.get(name);
        if (store === undefined) {
          const inner = memoryCircuitStore();
          store = {
            read: () => inner.read(),
            compareAndSet: (expected, next) => inner.compareAndSet(expected, next),
            recordFailure: () => failures.set(name, (failures.get(name) ?? 0) + 1),
          };
          circuits.set(name, store);
        }
        return store;
      },
    };
    return { provider, asked, failures };
  }

  it('asks the provider once per breaker for the circuit of its name: same name, same circuit', () => {
    const { provider, asked } = recordingProvider();
    const charge = breakerWith({ threshold: 1, name: 'payments', store: provider });
    const refund = breakerWith({ threshold: 1, name: 'payments', store: provider });
    const perHost = circuitBreakerFactory({ threshold: 1, clock, store: provider });
    const host = perHost('http[a]');
    expect(asked.map(({ name }) => name)).toEqual(['payments', 'payments', 'http[a]']);
    expect(asked[0]?.options).toBe(charge.options);
    failTimes(charge, 1);
    expect(refund.state).toBe('open');
    expect(host.state).toBe('closed');
  });

  it('tells the store of each failure counted while closed, and of nothing else', async () => {
    const { provider, failures } = recordingProvider();
    const breaker = breakerWith({ threshold: 2, resetTimeout: 1_000, name: 'payments', store: provider });
    breaker.executeSync(() => 1);
    attempt(() =>
      breaker.executeSync(() => {
        throw new Other();
      }),
    );
    expect(failures.get('payments')).toBeUndefined(); // successes and ignored errors are not reported
    failTimes(breaker, 2);
    expect(failures.get('payments')).toBe(2);
    expect(breaker.state).toBe('open');
    failTimes(breaker, 1); // rejected without running
    await clock.advance(1_000);
    failTimes(breaker, 1); // the failed trial re-opens it: not a closed-state failure
    expect(breaker.state).toBe('open');
    expect(failures.get('payments')).toBe(2);
  });

  it("emits events for a watched store's changes from outside, once something listens", () => {
    const inner = memoryCircuitStore();
    const watchers: ((from: CircuitSnapshot, to: CircuitSnapshot) => void)[] = [];
    const store: CircuitStore = {
      read: () => inner.read(),
      compareAndSet: (expected, next) => inner.compareAndSet(expected, next),
      watch: (listener) => {
        watchers.push(listener);
        return () => undefined;
      },
    };
    const breaker = breakerWith({ store });
    expect(watchers).toHaveLength(0); // nothing listens yet: nothing watched
    const events: CircuitStateChangeEvent[] = [];
    breaker.on('stateChange', (event) => events.push(event));
    expect(watchers).toHaveLength(1);
    // Another process opens the circuit: the store swaps its snapshot and tells its watchers.
    const from = inner.read();
    const to: CircuitSnapshot = { state: 'open', since: 1_000, trials: 0, successes: 0, epoch: 1 };
    inner.compareAndSet(from, to);
    for (const watcher of watchers) watcher(from, to);
    expect(events).toEqual([{ circuit: 'billing', from: 'closed', to: 'open', reason: 'shared' }]);
  });
});

describe('circuitBreaker — idle', () => {
  const make = (counting?: CircuitBreakerOptions['counting']) =>
    circuitBreaker({ threshold: 2, resetTimeout: 1_000, clock, ...(counting === undefined ? {} : { counting }) });

  it('is idle when new, and while closed with nothing on record and nothing running', async () => {
    const breaker = make();
    expect(breaker.idle).toBe(true);
    const running = deferred<number>();
    const call = breaker.execute(() => running.promise);
    expect(breaker.idle).toBe(false);
    running.resolve(1);
    await call;
    expect(breaker.idle).toBe(true);
  });

  it('is not idle while a failure may still count, nor open, nor isolated', async () => {
    const breaker = make();
    failTimes(breaker, 1);
    expect(breaker.idle).toBe(false);
    await clock.advance(1_001);
    expect(breaker.idle).toBe(true);
    failTimes(breaker, 2);
    expect(breaker.state).toBe('open');
    expect(breaker.idle).toBe(false);
    breaker.reset();
    expect(breaker.idle).toBe(true);
    breaker.isolate();
    expect(breaker.idle).toBe(false);
  });

  it('follows each counting mode: a success clears consecutive failures; windows forget old failures', async () => {
    const consecutive = make('consecutive');
    failTimes(consecutive, 1);
    expect(consecutive.idle).toBe(false);
    consecutive.executeSync(() => 1);
    expect(consecutive.idle).toBe(true);

    const byCalls = make({ mode: 'failure-rate', window: { calls: 3 }, minimumCalls: 3 });
    failTimes(byCalls, 1);
    expect(byCalls.idle).toBe(false);
    for (let i = 0; i < 3; i++) byCalls.executeSync(() => 1);
    expect(byCalls.idle).toBe(true);

    const byTime = make({ mode: 'failure-rate', window: { duration: 1_000 }, minimumCalls: 10 });
    failTimes(byTime, 1);
    expect(byTime.idle).toBe(false);
    await clock.advance(1_100);
    expect(byTime.idle).toBe(true);
  });

  it('is not idle while a call its caller abandoned still runs, and idle once it settled', async () => {
    const breaker = make();
    const controller = new AbortController();
    const running = deferred<number>();
    const call = breaker.execute(() => running.promise, controller.signal);
    controller.abort('gone');
    await expect(call).rejects.toBe('gone');
    expect(breaker.idle).toBe(true);
    await expect(breaker.execute(() => 1, AbortSignal.abort('early'))).rejects.toBe('early');
    expect(breaker.idle).toBe(true);
    running.resolve(1);
  });
});
