import { getEventListeners } from 'node:events';
import {
  asyncBackoffPolicy,
  AttemptTimeoutError,
  CallTimeoutError,
  isCallTimeoutError,
  isTimeoutError,
  setDefaultClock,
  timeout,
  timeoutPolicy,
  TimeoutError,
  type AttemptContext,
  type GiveUpEvent,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, outcome, scripted, track } from './policy-helpers';

/** Counts `clock.schedule` calls, to show which calls arm a timer at all. */
function countSchedules(clock: VirtualClock): { count: number } {
  const counter = { count: 0 };
  const schedule = clock.schedule.bind(clock);
  clock.schedule = (ms, callback) => {
    counter.count++;
    return schedule(ms, callback);
  };
  return counter;
}

/** Unhandled rejections seen while `body` runs (and a turn after). */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', listener);
  try {
    await body();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

describe.each([
  [
    'timeout(fn, ms)',
    (fn: (c: AttemptContext) => Promise<unknown>, ms: number, clock: VirtualClock) => timeout(fn, ms, { clock }),
  ],
  [
    'timeoutPolicy(ms).execute(fn)',
    (fn: (c: AttemptContext) => Promise<unknown>, ms: number, clock: VirtualClock) =>
      timeoutPolicy(ms, { clock }).execute(fn),
  ],
])('%s', (_name, run) => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it('resolves with the value of a call that finishes in time', async () => {
    const { fn } = scripted(clock, [{ value: 'ok', after: 99 }]);
    const result = await outcome(clock, run(fn, 100, clock));
    expect(result.value).toBe('ok');
    expect(result.at).toBe(99);
  });

  it('rejects with a CallTimeoutError exactly when `ms` passes', async () => {
    const { fn } = scripted(clock, [{ hang: true }]);
    const result = await outcome(clock, run(fn, 100, clock));
    expect(result.error).toBeInstanceOf(CallTimeoutError);
    expect(result.error).toBeInstanceOf(TimeoutError);
    expect(result.error).not.toBeInstanceOf(AttemptTimeoutError);
    expect(result.error).toMatchObject({ code: 'STAUNCH_CALL_TIMEOUT', timeout: 100, name: 'CallTimeoutError' });
    expect(result.at).toBe(100);
  });

  it('aborts the call’s signal with the same CallTimeoutError', async () => {
    const { fn, signals } = scripted(clock, [{ hang: true }]);
    const result = await outcome(clock, run(fn, 100, clock));
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBe(result.error);
  });

  it('rejects with the call’s own error, at once, without retrying', async () => {
    const boom = new Boom();
    const { fn, calls } = scripted(clock, [{ error: boom, after: 10 }]);
    const result = await outcome(clock, run(fn, 100, clock));
    expect(result.error).toBe(boom);
    expect(result.at).toBe(10);
    expect(calls).toHaveLength(1);
  });

  it('observes and ignores what the call does after its timeout (no unhandled rejection)', async () => {
    let rejectLate: (error: unknown) => void = () => undefined;
    const unhandled = await unhandledDuring(async () => {
      const fn = (): Promise<string> => new Promise((_resolve, reject) => (rejectLate = reject));
      const result = await outcome(clock, run(fn, 100, clock));
      expect(result.error).toBeInstanceOf(CallTimeoutError);
      rejectLate(new Boom(99));
      await clock.flush();
    });
    expect(unhandled).toEqual([]);
  });

  it('arms no timer for a call that settles within the microtask checkpoint', async () => {
    const schedules = countSchedules(clock);
    const result = track(run(async () => 'now', 100, clock));
    await clock.flush();
    expect(result.value).toBe('now');
    expect(schedules.count).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('leaves no timer behind after a success or a timeout', async () => {
    const ok = await outcome(clock, run(scripted(clock, [{ value: 1, after: 50 }]).fn, 100, clock));
    expect(ok.value).toBe(1);
    expect(clock.pending).toBe(0);
    const late = await outcome(clock, run(scripted(clock, [{ hang: true }]).fn, 100, clock));
    expect(late.error).toBeInstanceOf(CallTimeoutError);
    expect(clock.pending).toBe(0);
  });
});

describe('timeout: each call on its own', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it('times a call by the default clock it started under, even if the default clock changes before its checkpoint', async () => {
    const later = new VirtualClock();
    const restore = setDefaultClock(clock);
    let result;
    try {
      result = track(timeoutPolicy(100).execute(() => new Promise(() => undefined)));
    } finally {
      restore();
    }
    const restoreLater = setDefaultClock(later);
    try {
      await clock.flush(); // the checkpoint: the still-pending call arms its timer
      expect(later.pending).toBe(0);
      expect(clock.pending).toBe(1);
      await clock.advance(100);
      expect(result.error).toBeInstanceOf(CallTimeoutError);
    } finally {
      restoreLater();
    }
  });

  it('gives each call its own signal: one call’s timeout never aborts another’s (opossum #780)', async () => {
    const policy = timeoutPolicy(100, { clock });
    const signals: AbortSignal[] = [];
    const slow = policy.execute(({ signal }) => {
      signals.push(signal);
      return new Promise(() => undefined);
    });
    await clock.advance(50);
    const fast = policy.execute(({ signal }) => {
      signals.push(signal);
      return clock.sleep(80).then(() => 'fast');
    });
    const [slowResult, fastResult] = await Promise.all([outcome(clock, slow), outcome(clock, fast)]);
    expect(slowResult.error).toBeInstanceOf(CallTimeoutError);
    expect(slowResult.at).toBe(100);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
    expect(fastResult.value).toBe('fast');
    expect(fastResult.at).toBe(130);
  });

  it('follows the caller’s signal: its abort aborts the call’s signal synchronously, with the caller’s reason', async () => {
    const controller = new AbortController();
    let signal: AbortSignal | undefined;
    const result = track(
      timeout(
        (context) => {
          signal = context.signal;
          return new Promise(() => undefined);
        },
        100,
        { clock, signal: controller.signal },
      ),
      clock,
    );
    await clock.advance(30);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBe(reason);
    await clock.flush();
    expect(result.error).toBe(reason);
    expect(result.at).toBe(30);
    expect(clock.pending).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('with a caller’s signal, still times out at `ms` and leaves no timer or listener behind', async () => {
    const controller = new AbortController();
    const policy = timeoutPolicy(100, { clock });
    const ok = await outcome(
      clock,
      policy.execute(() => clock.sleep(20).then(() => 'ok'), controller.signal),
    );
    expect(ok.value).toBe('ok');
    const late = await outcome(
      clock,
      policy.execute(() => new Promise(() => undefined), controller.signal),
    );
    expect(late.error).toBeInstanceOf(CallTimeoutError);
    expect(late.at).toBe(120);
    expect(clock.pending).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects at once with the reason of an already-aborted caller signal, without calling fn', async () => {
    const reason = new Error('already');
    const fn = jest.fn(() => Promise.resolve(1));
    const result = await outcome(clock, timeout(fn, 100, { clock, signal: AbortSignal.abort(reason) }));
    expect(result.error).toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it('arms no timer for calls started together that settle at once (the machinery asyncBackoff shares)', async () => {
    const schedules = countSchedules(clock);
    const policy = timeoutPolicy(100, { clock });
    const backoff = asyncBackoffPolicy({ attemptTimeout: 100, clock });
    const all = await Promise.all([
      policy.execute(async () => 1),
      backoff.execute(async () => 2),
      timeout(async () => 3, 100, { clock }),
    ]);
    expect(all).toEqual([1, 2, 3]);
    expect(schedules.count).toBe(0);
  });

  it('`ms: Infinity` means no limit: no timer is ever armed', async () => {
    const schedules = countSchedules(clock);
    const result = await outcome(
      clock,
      timeout(() => clock.sleep(50_000).then(() => 'late'), Infinity, { clock }),
    );
    expect(result.value).toBe('late');
    expect(schedules.count).toBe(1); // the function's own sleep only
  });
});

describe('timeoutPolicy: events and statistics', () => {
  it('reports a timeout as a `timeout` event, a failure and a giveUp with reason "timeout"', async () => {
    const clock = new VirtualClock();
    const policy = timeoutPolicy(100, { clock });
    const timeouts: unknown[] = [];
    const giveUps: GiveUpEvent[] = [];
    const failures: unknown[] = [];
    policy.on('timeout', (e) => timeouts.push(e.error));
    policy.on('giveUp', (e) => giveUps.push(e));
    policy.on('failure', (e) => failures.push(e.timedOut));
    const result = await outcome(
      clock,
      policy.execute(() => new Promise(() => undefined)),
    );
    expect(timeouts).toEqual([result.error]);
    expect(failures).toEqual([true]);
    expect(giveUps).toEqual([{ attempts: 1, error: result.error, reason: 'timeout', elapsed: 100 }]);
  });

  it('reports a timeout on the lean path (no listener) in its statistics', async () => {
    const clock = new VirtualClock();
    const policy = timeoutPolicy(100, { clock });
    await outcome(
      clock,
      policy.execute(() => new Promise(() => undefined)),
    );
    await outcome(
      clock,
      policy.execute(() => Promise.resolve('ok')),
    );
    await outcome(
      clock,
      policy.execute(() => Promise.reject(new Boom())),
    );
    expect(policy.statistics).toMatchObject({
      calls: 3,
      attempts: 3,
      successes: 1,
      failures: 2,
      timeouts: 1,
      errors: 1,
    });
  });

  it('a non-timeout error gives up with reason "not-retryable"', async () => {
    const clock = new VirtualClock();
    const policy = timeoutPolicy(100, { clock });
    const reasons: string[] = [];
    policy.on('giveUp', (e) => reasons.push(e.reason));
    await outcome(
      clock,
      policy.execute(() => Promise.reject(new Boom())),
    );
    expect(reasons).toEqual(['not-retryable']);
  });

  it('exposes its kind and frozen options', () => {
    const policy = timeoutPolicy(250);
    expect(policy.kind).toBe('timeout');
    expect(policy.options).toEqual({ timeout: 250, clock: undefined });
    expect(Object.isFrozen(policy.options)).toBe(true);
  });
});

describe('CallTimeoutError', () => {
  it('says what happened and what to do, and is recognised by its guards', () => {
    const error = new CallTimeoutError(250);
    expect(error.message).toMatch(/took longer than its timeout of 250 ms and was abandoned/);
    expect(error.message).toMatch(/Raise the timeout/);
    expect(isCallTimeoutError(error)).toBe(true);
    expect(isTimeoutError(error)).toBe(true);
    expect(isCallTimeoutError(new AttemptTimeoutError(250, 1))).toBe(false);
  });

  it('is an instance of CallTimeoutError when made by another copy of the package (same code)', () => {
    const foreign = Object.assign(Object.create(Object.getPrototypeOf(new TimeoutError('X', 'x', 1)) as object), {
      code: 'STAUNCH_CALL_TIMEOUT',
      timeout: 1,
    }) as unknown;
    expect(foreign).toBeInstanceOf(CallTimeoutError);
  });
});

describe('timeout: validation', () => {
  it.each([
    [0, 'RangeError', 'timeout: `ms` must be a number > 0 (or Infinity), got 0.'],
    [-5, 'RangeError', 'timeout: `ms` must be a number > 0 (or Infinity), got -5.'],
    [NaN, 'TypeError', 'timeout: `ms` must be a number of milliseconds > 0 (or Infinity), got NaN.'],
    ['100', 'TypeError', 'timeout: `ms` must be a number of milliseconds > 0 (or Infinity), got "100".'],
    [undefined, 'TypeError', 'timeout: `ms` must be a number of milliseconds > 0 (or Infinity), got undefined.'],
  ])('rejects ms %p with a %s', async (ms, type, message) => {
    expect(() => timeoutPolicy(ms as number)).toThrow(message);
    expect(() => timeoutPolicy(ms as number)).toThrow(type === 'RangeError' ? RangeError : TypeError);
    await expect(timeout(() => 1, ms as number)).rejects.toThrow(message);
  });

  it('rejects a clock that is not a Clock', () => {
    expect(() => timeoutPolicy(10, { clock: {} as never })).toThrow(/timeout: `clock` must be a Clock/);
  });
});
