import {
  asyncBackoff,
  asyncBackoffPolicy,
  asyncRetry,
  asyncRetryPolicy,
  AttemptTimeoutError,
  DeadlineExceededError,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, Other, outcome, scripted } from './policy-helpers';

describe('asyncBackoff', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it('retries an error matching `on`', async () => {
    const { fn, calls } = scripted(clock, [{ error: new Boom() }, { value: 'ok' }]);
    const result = await outcome(clock, asyncBackoff(fn, { on: Boom, pause: 50, clock }));
    expect(result.value).toBe('ok');
    expect(calls).toEqual([0, 50]);
  });

  it('always retries an attempt that exceeds `attemptTimeout`', async () => {
    const { fn, calls } = scripted(clock, [{ hang: true }, { value: 'ok', after: 10 }]);
    const result = await outcome(clock, asyncBackoff(fn, { attemptTimeout: 100, pause: 5, clock }));
    expect(result.value).toBe('ok');
    expect(calls).toEqual([0, 105]);
    expect(result.at).toBe(115);
  });

  it('with no `on`, retries only attempt timeouts: other errors propagate at once', async () => {
    const boom = new Boom();
    const { fn, calls } = scripted(clock, [{ error: boom }]);
    const result = await outcome(clock, asyncBackoff(fn, { attemptTimeout: 100, clock }));
    expect(result.error).toBe(boom);
    expect(calls).toEqual([0]);
  });

  it('propagates an error not matching `on` at once', async () => {
    const other = new Other();
    const { fn, calls } = scripted(clock, [{ error: other }]);
    const result = await outcome(clock, asyncBackoff(fn, { on: Boom, maxTries: 5, clock }));
    expect(result.error).toBe(other);
    expect(calls).toHaveLength(1);
  });

  it('abandons a timed-out attempt: aborts its signal and ignores its later settling', async () => {
    const late = new Boom(99);
    let rejectLate: (error: unknown) => void = () => undefined;
    const signals: AbortSignal[] = [];
    const fn = jest.fn(({ signal, attempt }: { signal: AbortSignal; attempt: number }) => {
      signals.push(signal);
      if (attempt === 1) return new Promise<string>((_resolve, reject) => (rejectLate = reject));
      return Promise.resolve('second');
    });
    const result = await outcome(clock, asyncBackoff(fn, { attemptTimeout: 100, clock }));
    expect(result.value).toBe('second');
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBeInstanceOf(AttemptTimeoutError);
    expect(signals[1]!.aborted).toBe(false);
    rejectLate(late); // no unhandled rejection, no effect
    await clock.flush();
  });

  it('bounds the whole call by `deadline`: DeadlineExceededError when no attempt failed yet', async () => {
    const { fn, calls } = scripted(clock, [{ hang: true }]);
    const result = await outcome(clock, asyncBackoff(fn, { deadline: 300, clock }));
    expect(result.error).toBeInstanceOf(DeadlineExceededError);
    expect(result.error).toMatchObject({ timeout: 300, code: 'STAUNCH_DEADLINE_EXCEEDED' });
    expect(result.at).toBe(300);
    expect(calls).toEqual([0]);
    expect(calls).toHaveLength(1);
  });

  it('when the deadline passes after a failure, rejects with the last attempt’s own error', async () => {
    const first = new Boom(1);
    const { fn, calls } = scripted(clock, [{ error: first, after: 100 }, { hang: true }]);
    const result = await outcome(clock, asyncBackoff(fn, { deadline: 300, on: Boom, clock }));
    expect(result.error).toBe(first);
    expect(calls).toEqual([0, 100]);
    expect(result.at).toBe(300);
  });

  it('when the last attempt timed out before the deadline, rejects with its AttemptTimeoutError', async () => {
    const { fn, calls } = scripted(clock, [{ hang: true }]);
    const result = await outcome(clock, asyncBackoff(fn, { attemptTimeout: 100, deadline: 250, clock }));
    expect(calls).toEqual([0, 100, 200]);
    expect(result.at).toBe(250);
    expect(result.error).toBeInstanceOf(AttemptTimeoutError);
    expect(result.error).toMatchObject({ attempt: 2, timeout: 100 });
  });

  it('cuts a pause short at the deadline, then applies the deadline rule', async () => {
    const boom = new Boom();
    const { fn, calls } = scripted(clock, [{ error: boom, after: 100 }]);
    const result = await outcome(clock, asyncBackoff(fn, { deadline: 250, pause: 1_000, on: Boom, clock }));
    expect(calls).toEqual([0]);
    expect(result.at).toBe(250);
    expect(result.error).toBe(boom);
  });

  it('sleeps `pause` between attempts, never after the last one', async () => {
    const last = new Boom(3);
    const { fn, calls } = scripted(clock, [{ error: new Boom(1) }, { error: new Boom(2) }, { error: last }]);
    const result = await outcome(clock, asyncBackoff(fn, { on: Boom, pause: 100, maxTries: 3, clock }));
    expect(calls).toEqual([0, 100, 200]);
    expect(result.at).toBe(200);
    expect(result.error).toBe(last);
  });

  it('counts timed-out attempts towards `maxTries`', async () => {
    const { fn, calls } = scripted(clock, [{ hang: true }, { error: new Boom() }, { hang: true }]);
    const result = await outcome(clock, asyncBackoff(fn, { attemptTimeout: 50, maxTries: 3, on: Boom, clock }));
    expect(calls).toEqual([0, 50, 50]);
    expect(result.error).toBeInstanceOf(AttemptTimeoutError);
    expect(result.error).toMatchObject({ attempt: 3 });
  });

  it('consults `giveup` for retryable errors only, after the `maxTries` check; truthy stops with that error', async () => {
    const giveup = jest.fn((error: unknown) => error instanceof Boom && error.id === 2);
    const other = new Other();
    const stop = new Boom(2);
    const { fn, calls } = scripted(clock, [{ error: new Boom(1) }, { error: stop }]);
    const result = await outcome(clock, asyncBackoff(fn, { on: Boom, giveup, clock }));
    expect(result.error).toBe(stop);
    expect(calls).toHaveLength(2);
    expect(giveup).toHaveBeenCalledTimes(2);

    giveup.mockClear();
    const second = scripted(clock, [{ error: other }]);
    await outcome(clock, asyncBackoff(second.fn, { on: Boom, giveup, clock }));
    expect(giveup).not.toHaveBeenCalled();

    const third = scripted(clock, [{ error: new Boom(1) }]);
    await outcome(clock, asyncBackoff(third.fn, { on: Boom, giveup, maxTries: 1, clock }));
    expect(giveup).not.toHaveBeenCalled();
  });

  it('consults `giveup` for attempt timeouts too (they are retryable)', async () => {
    const giveup = jest.fn(() => true);
    const { fn, calls } = scripted(clock, [{ hang: true }]);
    const result = await outcome(clock, asyncBackoff(fn, { attemptTimeout: 10, giveup, clock }));
    expect(result.error).toBeInstanceOf(AttemptTimeoutError);
    expect(calls).toHaveLength(1);
  });

  it('throws the original error when `giveup` itself throws', async () => {
    const boom = new Boom();
    const { fn, calls } = scripted(clock, [{ error: boom }]);
    const result = await outcome(
      clock,
      asyncBackoff(fn, {
        on: Boom,
        clock,
        giveup: () => {
          throw new Error('giveup broke');
        },
      }),
    );
    expect(result.error).toBe(boom);
    expect(calls).toHaveLength(1);
  });

  it('`deadline: 0` rejects with DeadlineExceededError without calling fn', async () => {
    const fn = jest.fn(() => 1);
    const result = await outcome(clock, asyncBackoff(fn, { deadline: 0, clock }));
    expect(result.error).toBeInstanceOf(DeadlineExceededError);
    expect(fn).not.toHaveBeenCalled();
    expect(result.at).toBe(0);
  });

  it('`attemptTimeout: 0` times every attempt out before the body runs', async () => {
    const fn = jest.fn(() => 1);
    const result = await outcome(clock, asyncBackoff(fn, { attemptTimeout: 0, maxTries: 3, pause: 10, clock }));
    expect(fn).not.toHaveBeenCalled();
    expect(result.error).toBeInstanceOf(AttemptTimeoutError);
    expect(result.error).toMatchObject({ attempt: 3, timeout: 0 });
    expect(result.at).toBe(20);
  });

  it('does not time out an attempt that returns synchronously', async () => {
    const result = await outcome(
      clock,
      asyncBackoff(() => 'sync', { attemptTimeout: 10, deadline: 20, clock }),
    );
    expect(result.value).toBe('sync');
    expect(clock.pending).toBe(0);
  });

  it('applies the deadline rule when an attempt timeout and the deadline fall on the same millisecond', async () => {
    const { fn } = scripted(clock, [{ hang: true }]);
    const result = await outcome(clock, asyncBackoff(fn, { attemptTimeout: 100, deadline: 100, clock }));
    expect(result.error).toBeInstanceOf(DeadlineExceededError);
  });

  it('treats null and undefined limits as "no limit" and records undefined', () => {
    const policy = asyncBackoffPolicy({ attemptTimeout: null, deadline: undefined, pause: 5 });
    expect(policy.options).toEqual({
      attemptTimeout: undefined,
      deadline: undefined,
      pause: 5,
      on: undefined,
      maxTries: Infinity,
      giveup: undefined,
      clock: undefined,
    });
    expect(policy.kind).toBe('asyncBackoff');
  });

  it.each([
    [{ pause: -1 }, RangeError, 'asyncBackoff: `pause` must be a finite number >= 0, got -1.'],
    [{ attemptTimeout: -1 }, RangeError, 'asyncBackoff: `attemptTimeout` must be a number >= 0, got -1.'],
    [{ deadline: -0.5 }, RangeError, 'asyncBackoff: `deadline` must be a number >= 0, got -0.5.'],
    [{ maxTries: 0 }, RangeError, 'asyncBackoff: `maxTries` must be an integer >= 1 (or Infinity), got 0.'],
    [{ giveup: 5 }, TypeError, 'asyncBackoff: `giveup` must be a function, got 5.'],
    [{ on: [Boom, 'x'] }, TypeError, 'asyncBackoff: `on` must be an error class at index 1, got "x".'],
  ])('rejects invalid options %p with %p', async (options, ErrorType, message) => {
    expect(() => asyncBackoffPolicy(options as never)).toThrow(new ErrorType(message));
    await expect(asyncBackoff(() => 1, options as never)).rejects.toThrow(message);
  });
});

describe('asyncRetry', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it('retries every error by default, up to `maxTries` attempts, with no pause', async () => {
    const last = new Other();
    const { fn, calls } = scripted(clock, [{ error: 'x' }, { error: new Boom() }, { error: last }]);
    const result = await outcome(clock, asyncRetry(fn, 3, { clock }));
    expect(result.error).toBe(last);
    expect(calls).toEqual([0, 0, 0]);
  });

  it('retries forever when `maxTries` is omitted or Infinity', async () => {
    for (const maxTries of [undefined, Infinity]) {
      const { fn, calls } = scripted(clock, [
        ...Array.from({ length: 99 }, () => ({ error: new Boom() })),
        { value: 'ok' },
      ]);
      const result = await outcome(clock, asyncRetry(fn, maxTries, { clock }));
      expect(result.value).toBe('ok');
      expect(calls).toHaveLength(100);
    }
  });

  it('retries only errors matching `on`', async () => {
    const other = new Other();
    const { fn, calls } = scripted(clock, [{ error: new Boom() }, { error: other }]);
    const result = await outcome(clock, asyncRetry(fn, 5, { on: Boom, pause: 30, clock }));
    expect(result.error).toBe(other);
    expect(calls).toEqual([0, 30]);
  });

  it('rejects `maxTries: 0`', async () => {
    expect(() => asyncRetryPolicy(0)).toThrow(
      new RangeError('asyncRetry: `maxTries` must be an integer >= 1 (or Infinity), got 0.'),
    );
    await expect(asyncRetry(() => 1, 0)).rejects.toThrow(RangeError);
  });

  it('is asyncBackoff with no attemptTimeout and no deadline', () => {
    const policy = asyncRetryPolicy(5, { pause: 10 });
    expect(policy.kind).toBe('asyncRetry');
    expect(policy.options).toMatchObject({ attemptTimeout: undefined, deadline: undefined, maxTries: 5, pause: 10 });
    expect(() => asyncRetryPolicy(5, { deadline: 10 } as never)).toThrow(TypeError);
  });
});
