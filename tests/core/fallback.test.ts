import { CircuitOpenError, fallback, fallbackPolicy, type FallbackEvent } from '@staunch/core';
import { collectReported, reportOf } from './reported-warnings';

class HttpError extends Error {}
class FallbackBroke extends Error {}

/** A function failing with `error`, typed as the async call it stands for. */
function rejecting(error: unknown): () => Promise<number> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- any thrown value, as callers may throw
  return () => Promise.reject(error);
}

describe('fallback', () => {
  it('returns the function’s own value when it succeeds, without calling the fallback', async () => {
    const answer = jest.fn(() => 0);
    expect(fallback(() => 1, answer)).toBe(1);
    await expect(fallback(async () => 2, answer)).resolves.toBe(2);
    expect(answer).not.toHaveBeenCalled();
  });

  it('answers a sync throw synchronously with the constant', () => {
    const result = fallback((): number => {
      throw new HttpError('down');
    }, 7);
    expect(result).toBe(7);
  });

  it('answers a rejection with the constant, as a promise', async () => {
    await expect(fallback(rejecting(new HttpError('down')), 7)).resolves.toBe(7);
  });

  it('calls a fallback function with the error and returns what it returns', async () => {
    const error = new HttpError('down');
    const answer = jest.fn((e: unknown) => (e === error ? 'cached' : 'wrong'));
    await expect(fallback(async (): Promise<string> => Promise.reject(error), answer)).resolves.toBe('cached');
    expect(answer).toHaveBeenCalledWith(error);
  });

  it('waits for a fallback function’s promise', async () => {
    await expect(
      fallback(
        async (): Promise<number> => Promise.reject(new HttpError('down')),
        async () => 3,
      ),
    ).resolves.toBe(3);
  });

  it('lets an error not matching `on` propagate unchanged, without calling the fallback', async () => {
    const error = new TypeError('bug');
    const answer = jest.fn(() => 0);
    expect(() =>
      fallback(
        (): number => {
          throw error;
        },
        answer,
        { on: HttpError },
      ),
    ).toThrow(error);
    await expect(fallback(rejecting(error), answer, { on: HttpError })).rejects.toBe(error);
    expect(answer).not.toHaveBeenCalled();
  });

  it('matches `on` as every policy does: a class, a list of classes or a predicate', async () => {
    const open = new CircuitOpenError('c', 1);
    await expect(fallback(rejecting(open), 1, { on: CircuitOpenError })).resolves.toBe(1);
    await expect(fallback(rejecting(open), 1, { on: [HttpError, CircuitOpenError] })).resolves.toBe(1);
    await expect(fallback(rejecting(open), 1, { on: (e) => e === open })).resolves.toBe(1);
    await expect(fallback(rejecting(open), 1, { on: HttpError })).rejects.toBe(open);
  });

  it('gives the fallback’s own error the original as a non-enumerable `cause`', async () => {
    const original = new HttpError('down');
    const own = new FallbackBroke('cache down too');
    const failing = (): never => {
      throw own;
    };
    await expect(fallback(rejecting(original), failing)).rejects.toBe(own);
    expect(own.cause).toBe(original);
    expect(Object.getOwnPropertyDescriptor(own, 'cause')).toMatchObject({ enumerable: false, writable: true });
    expect(Object.keys(own)).not.toContain('cause');
  });

  it('sets `cause` on a fallback’s rejection and on a sync throw alike', async () => {
    const original = new HttpError('down');
    const rejected = new FallbackBroke('async');
    await expect(
      fallback(
        () => Promise.reject(original),
        () => Promise.reject(rejected),
      ),
    ).rejects.toBe(rejected);
    expect(rejected.cause).toBe(original);
    const thrown = new FallbackBroke('sync');
    expect(() =>
      fallback(
        (): number => {
          throw original;
        },
        (): number => {
          throw thrown;
        },
      ),
    ).toThrow(thrown);
    expect(thrown.cause).toBe(original);
  });

  it('keeps a `cause` the fallback’s error already has, and propagates a non-object as it is', async () => {
    const original = new HttpError('down');
    const own = new FallbackBroke('with its own cause', { cause: 'mine' });
    await expect(
      fallback(
        () => Promise.reject(original),
        () => Promise.reject(own),
      ),
    ).rejects.toBe(own);
    expect(own.cause).toBe('mine');
    await expect(fallback(rejecting(original), rejecting('plain string'))).rejects.toBe('plain string');
  });

  it('leaves the original error unchanged when the fallback re-throws it', async () => {
    const original = new HttpError('down');
    await expect(
      fallback(
        () => Promise.reject(original),
        (e) => {
          throw e;
        },
      ),
    ).rejects.toBe(original);
    expect(Object.prototype.hasOwnProperty.call(original, 'cause')).toBe(false);
  });

  it('propagates a frozen fallback error unchanged', async () => {
    const own = Object.freeze(new FallbackBroke('frozen'));
    await expect(
      fallback(
        () => Promise.reject(new HttpError('down')),
        () => Promise.reject(own),
      ),
    ).rejects.toBe(own);
    expect(Object.prototype.hasOwnProperty.call(own, 'cause')).toBe(false);
  });

  it('treats a thenable result as a promise', async () => {
    const thenable: PromiseLike<number> = {
      then: (_resolve, reject) => {
        reject?.(new HttpError('down'));
        return thenable as never;
      },
    };
    await expect(fallback(() => thenable, 5)).resolves.toBe(5);
  });

  it('decides sync or async from each call’s own result, not from earlier calls', async () => {
    const policy = fallbackPolicy(0);
    let async = true;
    const fn = (): number | Promise<number> => {
      if (async) return Promise.reject(new HttpError('down'));
      throw new HttpError('down');
    };
    const first = policy.execute(fn);
    expect(first).toBeInstanceOf(Promise);
    await expect(first).resolves.toBe(0);
    async = false;
    expect(policy.execute(fn)).toBe(0);
  });

  it('reports a throwing filter as a warning and lets the error propagate unchanged', async () => {
    const collector = collectReported();
    try {
      const broken = new Error('filter broke');
      const error = new HttpError('down');
      await expect(
        fallback(rejecting(error), 1, {
          on: () => {
            throw broken;
          },
        }),
      ).rejects.toBe(error);
      await new Promise((resolve) => setImmediate(resolve));
      expect(collector.reported.map((warning) => warning.detail)).toEqual([reportOf(broken)]);
    } finally {
      collector.restore();
    }
  });
});

describe('fallbackPolicy', () => {
  it('keeps frozen options, with the filter array copied and frozen', () => {
    const on = [HttpError];
    const policy = fallbackPolicy(1, { on });
    on.push(TypeError);
    expect(Object.isFrozen(policy.options)).toBe(true);
    expect(policy.options.on).toEqual([HttpError]);
    expect(Object.isFrozen(policy.options.on)).toBe(true);
    expect(policy.options.fallback).toBe(1);
    expect(policy.kind).toBe('fallback');
  });

  it('counts calls, successes, fallbacks and failures', async () => {
    const policy = fallbackPolicy((e: unknown) => (e instanceof FallbackBroke ? Promise.reject(e) : 0), {
      on: [HttpError, FallbackBroke],
    });
    policy.execute(() => 1);
    await policy.execute(async () => 1);
    await policy.execute(rejecting(new HttpError('down')));
    await policy.execute(rejecting(new TypeError('bug'))).catch(() => undefined);
    await policy.execute(rejecting(new FallbackBroke('fallback fails'))).catch(() => undefined);
    expect(policy.statistics).toEqual({ calls: 5, successes: 2, fallbacks: 1, failures: 2 });
    expect(Object.isFrozen(policy.statistics)).toBe(true);
  });

  it('emits `fallback` with the error each time the fallback answers, and stops when unsubscribed', async () => {
    const policy = fallbackPolicy(0);
    const events: FallbackEvent[] = [];
    const stop = policy.on('fallback', (event) => events.push(event));
    const error = new HttpError('down');
    await policy.execute(rejecting(error));
    policy.execute(() => 1);
    stop();
    await policy.execute(rejecting(error));
    expect(events).toEqual([{ error }]);
  });

  it('rejects bad options at once, naming the option', () => {
    expect(() => fallbackPolicy(0, 'on' as never)).toThrow('fallback: `options` must be an object, got "on".');
    expect(() => fallbackPolicy(0, { on: 'HttpError' as never })).toThrow(
      'fallback: `on` must be an error class, an array of error classes or a predicate, got "HttpError".',
    );
  });
});
