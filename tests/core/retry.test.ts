import { retry, retryPolicy, exponentialBackoff, setDefaultClock } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, Other, outcome, scripted } from './policy-helpers';
import { collectReported, reportOf } from './reported-warnings';

describe('retry', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it('resolves with the first successful value without waiting', async () => {
    const { fn, calls } = scripted(clock, [{ value: 'ok' }]);
    const result = await outcome(clock, retry(fn, Boom, { clock }));
    expect(result.value).toBe('ok');
    expect(calls).toEqual([0]);
  });

  it('retries a matching error after `interval` until a call succeeds', async () => {
    const { fn, calls } = scripted(clock, [{ error: new Boom() }, { error: new Boom() }, { value: 42 }]);
    const result = await outcome(clock, retry(fn, Boom, { times: 3, interval: 200, clock }));
    expect(result.value).toBe(42);
    expect(calls).toEqual([0, 200, 400]);
  });

  it('re-throws the last error unchanged after `times` calls', async () => {
    const errors = [new Boom(1), new Boom(2), new Boom(3)];
    const { fn, calls } = scripted(
      clock,
      errors.map((error) => ({ error })),
    );
    const result = await outcome(clock, retry(fn, Boom, { times: 3, interval: 100, clock }));
    expect(result.error).toBe(errors[2]);
    expect(calls).toEqual([0, 100, 200]);
  });

  it('does not wait after the last call', async () => {
    const { fn } = scripted(clock, [{ error: new Boom() }]);
    const result = await outcome(clock, retry(fn, Boom, { times: 2, interval: 500, clock }));
    expect(result.at).toBe(500);
    expect(clock.pending).toBe(0);
  });

  it('re-throws a non-matching error at once, with no further call', async () => {
    const other = new Other();
    const { fn, calls } = scripted(clock, [{ error: other }]);
    const result = await outcome(clock, retry(fn, Boom, { times: 5, clock }));
    expect(result.error).toBe(other);
    expect(calls).toEqual([0]);
    expect(result.at).toBe(0);
  });

  it.each([1, 0, -1])('makes exactly one call when `times` is %d', async (times) => {
    const boom = new Boom();
    const { fn, calls } = scripted(clock, [{ error: boom }]);
    const result = await outcome(clock, retry(fn, Boom, { times, clock }));
    expect(result.error).toBe(boom);
    expect(calls).toHaveLength(1);
  });

  it('defaults to 3 calls, 1,000 ms apart', async () => {
    const { fn, calls } = scripted(clock, [{ error: new Boom() }]);
    await outcome(clock, retry(fn, Boom, { clock }));
    expect(calls).toEqual([0, 1_000, 2_000]);
    expect(retryPolicy().options).toMatchObject({ times: 3, interval: 1_000, on: undefined });
  });

  it('retries every error when `on` is omitted', async () => {
    const { fn, calls } = scripted(clock, [{ error: 'a string' }, { error: new Other() }, { value: 1 }]);
    const result = await outcome(clock, retry(fn, undefined, { interval: 10, clock }));
    expect(result.value).toBe(1);
    expect(calls).toEqual([0, 10, 20]);
  });

  it('accepts `{ on, ...options }` in place of `(on, options)`', async () => {
    const other = new Other();
    const { fn, calls } = scripted(clock, [{ error: other }]);
    const result = await outcome(clock, retry(fn, { on: Boom, times: 4, clock }));
    expect(result.error).toBe(other);
    expect(calls).toHaveLength(1);
  });

  it('calls `onError(error, previousAttempts)` for every error, matching or not', async () => {
    const seen: [unknown, number][] = [];
    const first = new Boom(1);
    const second = new Other();
    const { fn } = scripted(clock, [{ error: first }, { error: second }]);
    await outcome(
      clock,
      retry(fn, Boom, { times: 5, interval: 10, clock, onError: (error, previous) => seen.push([error, previous]) }),
    );
    expect(seen).toEqual([
      [first, 0],
      [second, 1],
    ]);
  });

  it('reports an error thrown by `onError` as a warning and goes on deciding as if it had returned', async () => {
    const { reported, restore } = collectReported();
    try {
      const hookError = new Error('hook');
      const other = new Other();
      const { fn, calls } = scripted(clock, [{ error: new Boom() }, { error: other }]);
      const result = await outcome(
        clock,
        retry(fn, Boom, {
          times: 5,
          interval: 10,
          clock,
          onError: () => {
            throw hookError;
          },
        }),
      );
      expect(result.error).toBe(other);
      expect(calls).toEqual([0, 10]);
      expect(reported.map((warning) => warning.detail)).toEqual([reportOf(hookError), reportOf(hookError)]);
    } finally {
      restore();
    }
  });

  it('treats a synchronous throw like a rejection', async () => {
    const { fn, calls } = scripted(clock, [{ error: new Boom(), sync: true }, { value: 'ok' }]);
    const result = await outcome(clock, retry(fn, Boom, { interval: 5, clock }));
    expect(result.value).toBe('ok');
    expect(calls).toEqual([0, 5]);
  });

  it('waits what a Backoff says between calls', async () => {
    const { fn, calls } = scripted(clock, [{ error: new Boom() }]);
    await outcome(clock, retry(fn, Boom, { times: 4, interval: exponentialBackoff({ initial: 100 }), clock }));
    expect(calls).toEqual([0, 100, 300, 700]);
  });

  it('passes `{ signal, attempt }` to fn, attempt counting from 1', async () => {
    const attempts: number[] = [];
    await outcome(
      clock,
      retry(
        ({ attempt, signal }) => {
          attempts.push(attempt);
          expect(signal.aborted).toBe(false);
          if (attempt < 3) throw new Boom();
          return attempt;
        },
        Boom,
        { interval: 1, clock },
      ),
    );
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('uses the default clock read per call, so setDefaultClock affects existing policies', async () => {
    const policy = retryPolicy(Boom, { times: 2, interval: 300 });
    const restore = setDefaultClock(clock);
    try {
      const { fn, calls } = scripted(clock, [{ error: new Boom() }, { value: 'v' }]);
      const result = await outcome(clock, policy.execute(fn));
      expect(result.value).toBe('v');
      expect(calls).toEqual([0, 300]);
    } finally {
      restore();
    }
  });

  it('passes this and arguments through `call`', async () => {
    const policy = retryPolicy(Boom, { times: 2, interval: 10, clock });
    const target = { factor: 3, tries: 0 };
    async function scale(this: typeof target, a: number, b: number): Promise<number> {
      this.tries++;
      if (this.tries === 1) throw new Boom();
      return (a + b) * this.factor;
    }
    const result = await outcome(clock, policy.call(scale, target, [1, 2]));
    expect(result.value).toBe(9);
    expect(target.tries).toBe(2);
  });

  it('rejects invalid options with a message naming the option', async () => {
    await expect(retry(() => 1, Boom, { times: 1.5 })).rejects.toThrow(
      new RangeError('retry: `times` must be an integer (the total number of calls) or Infinity, got 1.5.'),
    );
    expect(() => retryPolicy(Boom, { interval: -1 })).toThrow(
      new RangeError('retry: `interval` must be a finite number >= 0, got -1.'),
    );
    expect(() => retryPolicy(42 as never)).toThrow(TypeError);
    expect(() => retryPolicy(Boom, { onError: 'no' as never })).toThrow(
      'retry: `onError` must be a function, got "no".',
    );
    expect(() => retryPolicy(Boom, { clock: {} as never })).toThrow(TypeError);
  });

  it('rejects an interval that is not a finite number of ms >= 0 in the one-shot call as in a policy', async () => {
    for (const [interval, error, message] of [
      [-1, RangeError, 'retry: `interval` must be a finite number >= 0, got -1.'],
      [Infinity, RangeError, 'retry: `interval` must be a finite number >= 0, got Infinity.'],
      [NaN, TypeError, 'retry: `interval` must be a number, got NaN.'],
    ] as const) {
      await expect(retry(() => 1, { interval })).rejects.toThrow(new error(message));
      expect(() => retryPolicy({ interval })).toThrow(new error(message));
    }
    // No filter given: every error is retried, in the one-shot call as in a policy.
    let calls = 0;
    await expect(
      retry(
        () => {
          if (++calls < 3) throw new Other();
          return calls;
        },
        { interval: 0 },
      ),
    ).resolves.toBe(3);
  });

  it('freezes its resolved options', () => {
    const policy = retryPolicy(Boom, { times: 5 });
    expect(Object.isFrozen(policy.options)).toBe(true);
    expect(policy.options).toEqual({ on: Boom, times: 5, interval: 1_000, onError: undefined, clock: undefined });
    expect(policy.kind).toBe('retry');
  });
});
