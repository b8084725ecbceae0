import { getEventListeners } from 'node:events';
import {
  asyncBackoffPolicy,
  AttemptSignalError,
  attemptSignal,
  circuitBreaker,
  CircuitOpenError,
  type CircuitBreakerOptions,
  type CircuitBreakerPolicy,
  type CircuitStore,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { attempt, Boom, deferred, failTimes } from './circuit-breaker-helpers';

// The breaker's three entry points: execute (async), executeSync (sync) and call (the decorators'),
// what decides between a throw and a rejection, the attempt slot, and the caller's signal.

let clock: VirtualClock;
beforeEach(() => {
  clock = new VirtualClock(1_000);
});

const breakerWith = (options: CircuitBreakerOptions = {}) =>
  circuitBreaker({ on: Boom, threshold: 1, resetTimeout: 1_000, name: 'billing', clock, ...options });

/** A breaker opened by one failed call that returned a promise, or one that threw synchronously. */
async function openedAfter(previous: 'async' | 'sync', options: CircuitBreakerOptions = {}) {
  const breaker = breakerWith(options);
  if (previous === 'async') await breaker.execute(() => Promise.reject(new Boom())).catch(() => undefined);
  else failTimes(breaker, 1);
  expect(breaker.state).toBe('open');
  return breaker;
}

/** What a call gave back synchronously: a thrown error, or a value (a promise is a value). */
function syncOutcome(run: () => unknown): { threw: unknown } | { returned: unknown } {
  try {
    return { returned: run() };
  } catch (error) {
    return { threw: error };
  }
}

describe('circuitBreaker — execute, the async entry point', () => {
  it('returns a promise of a sync function’s value', async () => {
    const breaker = breakerWith();
    const result = breaker.execute(() => 42);
    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toBe(42);
  });

  it('turns a synchronous throw into a rejection, and counts it', async () => {
    const breaker = breakerWith();
    const own = new Boom();
    const outcome = syncOutcome(() =>
      breaker.execute(() => {
        throw own;
      }),
    );
    expect(outcome).toEqual({ returned: expect.any(Promise) });
    await expect((outcome as { returned: Promise<never> }).returned).rejects.toBe(own);
    expect(breaker.state).toBe('open');
  });

  it.each(['async', 'sync'] as const)(
    'rejects on an open circuit whose previous call was %s, never throwing',
    async (previous) => {
      const breaker = await openedAfter(previous);
      const fn = jest.fn(() => 42);
      const outcome = syncOutcome(() => breaker.execute(fn));
      expect(outcome).toEqual({ returned: expect.any(Promise) });
      await expect((outcome as { returned: Promise<number> }).returned).rejects.toBeInstanceOf(CircuitOpenError);
      expect(fn).not.toHaveBeenCalled();
    },
  );
});

describe('circuitBreaker — executeSync, the sync entry point', () => {
  it('returns the function’s value and throws its error, synchronously', () => {
    const breaker = breakerWith({ threshold: 2 });
    expect(breaker.executeSync(() => 42)).toBe(42);
    const own = new Boom();
    expect(
      syncOutcome(() =>
        breaker.executeSync(() => {
          throw own;
        }),
      ),
    ).toEqual({ threw: own });
  });

  it.each(['async', 'sync'] as const)(
    'throws CircuitOpenError synchronously on an open circuit whose previous call was %s',
    async (previous) => {
      const breaker = await openedAfter(previous);
      const fn = jest.fn(() => 42);
      expect(() => breaker.executeSync(fn)).toThrow(CircuitOpenError);
      expect(fn).not.toHaveBeenCalled();
    },
  );

  it('does not compile for a function returning a promise, and still records one returned anyway', async () => {
    const breaker = breakerWith();
    // @ts-expect-error a function returning a promise belongs in execute
    const returned: unknown = breaker.executeSync(() => Promise.reject(new Boom()));
    // @ts-expect-error so does one that may return a promise
    breaker.executeSync((): number | Promise<number> => 1);
    expect(breaker.state).toBe('closed'); // not settled yet
    await expect(returned).rejects.toBeInstanceOf(Boom);
    expect(breaker.state).toBe('open');
    expect(breaker.statistics).toMatchObject({ calls: 2, successes: 1, failures: 1 });
  });
});

describe('circuitBreaker — call, the decorators’ entry point', () => {
  function plain(this: unknown, fail: boolean): Promise<string> {
    return fail ? Promise.reject(new Boom()) : Promise.resolve('ok');
  }
  async function asynchronous(this: unknown): Promise<string> {
    return 'ok';
  }

  it('gives an async function a rejected promise on an open circuit, whatever its previous call did', async () => {
    const breaker = await openedAfter('sync');
    const outcome = syncOutcome(() => breaker.call(asynchronous, undefined, []));
    expect(outcome).toEqual({ returned: expect.any(Promise) });
    await expect((outcome as { returned: Promise<string> }).returned).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('throws for any other function on an open circuit, even one that returned promises before', async () => {
    const breaker = breakerWith();
    await breaker.call(plain, undefined, [false]);
    await expect(breaker.call(plain, undefined, [true])).rejects.toBeInstanceOf(Boom);
    expect(breaker.state).toBe('open');
    expect(() => breaker.call(plain, undefined, [false])).toThrow(CircuitOpenError);
  });
});

describe('circuitBreaker — attemptSignal() under the breaker alone', () => {
  it('gives executeSync, execute and call a signal that never aborts, on the closed path', async () => {
    const breaker = breakerWith();
    expect(breaker.executeSync(() => attemptSignal()).aborted).toBe(false);
    expect((await breaker.execute(() => attemptSignal())).aborted).toBe(false);
    expect(breaker.call(() => attemptSignal(), undefined, []).aborted).toBe(false);
  });

  it('gives one to trial calls and to timed calls too', async () => {
    const breaker = await openedAfter('sync');
    await clock.advance(1_000);
    expect(breaker.executeSync(() => attemptSignal()).aborted).toBe(false); // the trial
    const timed = breakerWith({ counting: { mode: 'leaky-bucket', slowCallDuration: 100 } });
    expect(timed.executeSync(() => attemptSignal()).aborted).toBe(false);
  });

  it('restores the slot after the call, returned or thrown: outside a call attemptSignal() still throws', () => {
    const breaker = breakerWith({ threshold: 5 });
    breaker.executeSync(() => attemptSignal());
    expect(() => attemptSignal()).toThrow(AttemptSignalError);
    attempt(() =>
      breaker.executeSync(() => {
        throw new Boom();
      }),
    );
    expect(() => attemptSignal()).toThrow(AttemptSignalError);
  });

  it('keeps the outer attempt’s signal when it runs inside another policy’s attempt', async () => {
    const breaker = breakerWith();
    const outer = asyncBackoffPolicy({ attemptTimeout: 100, clock });
    const [own, seen] = await outer.execute(({ signal }) => [signal, breaker.executeSync(() => attemptSignal())]);
    expect(seen).toBe(own);
  });
});

describe('circuitBreaker — the caller’s signal', () => {
  /** A controller whose signal counts the abort listeners it holds. */
  function watchedController(): AbortController & { listeners(): number } {
    const controller = new AbortController();
    return Object.assign(controller, { listeners: () => getEventListeners(controller.signal, 'abort').length });
  }

  it('rejects at once with the reason of an already-aborted signal, without running fn or counting a failure', async () => {
    const breaker = breakerWith();
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    controller.abort(reason);
    const fn = jest.fn(() => 'ran');
    await expect(breaker.execute(fn, controller.signal)).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    expect(breaker.state).toBe('closed');
    expect(breaker.statistics).toMatchObject({ calls: 0, failures: 0, rejections: 0, aborted: 1 });
  });

  it('takes no trial slot and changes no state when already aborted', async () => {
    const breaker = await openedAfter('sync');
    await clock.advance(1_000); // due for a trial, not yet half-open: only a call or a state read moves it
    const changes = jest.fn();
    breaker.on('stateChange', changes);
    const controller = new AbortController();
    controller.abort();
    await expect(breaker.execute(() => 'ran', controller.signal)).rejects.toBe(controller.signal.reason);
    expect(changes).not.toHaveBeenCalled();
    expect(breaker.executeSync(() => 'the trial')).toBe('the trial');
    expect(breaker.state).toBe('closed');
  });

  it.each([
    ['resolves', (call: ReturnType<typeof deferred>) => call.resolve('late value')],
    ['rejects', (call: ReturnType<typeof deferred>) => call.reject(new Boom())],
  ])('rejects at once when aborted while fn runs, and does not record what fn later %s', async (_, settle) => {
    const breaker = breakerWith();
    const controller = new AbortController();
    const running = deferred();
    const result = breaker.execute(() => running.promise, controller.signal);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    settle(running);
    await clock.flush();
    expect(breaker.state).toBe('closed');
    expect(breaker.statistics).toMatchObject({ calls: 1, successes: 0, failures: 0, ignoredErrors: 0, aborted: 1 });
  });

  it('frees the slot of a trial its caller abandoned, so the circuit is not stuck half-open', async () => {
    const breaker = await openedAfter('sync');
    await clock.advance(1_000);
    const controller = new AbortController();
    const trial = breaker.execute(() => deferred().promise, controller.signal);
    expect(() => breaker.executeSync(() => 'meanwhile')).toThrow(CircuitOpenError); // the slot is taken
    controller.abort();
    await expect(trial).rejects.toBe(controller.signal.reason);
    expect(breaker.state).toBe('half-open');
    expect(breaker.executeSync(() => 'the next trial')).toBe('the next trial');
    expect(breaker.state).toBe('closed');
  });

  it('treats a signal aborted while a sync fn ran like one aborted while a promise was pending', async () => {
    const breaker = breakerWith();
    const controller = new AbortController();
    const result = breaker.execute(() => {
      controller.abort();
      throw new Boom();
    }, controller.signal);
    await expect(result).rejects.toBe(controller.signal.reason);
    expect(breaker.state).toBe('closed');
    expect(breaker.statistics).toMatchObject({ calls: 1, failures: 0, aborted: 1 });
  });

  it('records calls its signal never aborted as usual', async () => {
    const breaker = breakerWith({ threshold: 2 });
    const signal = new AbortController().signal;
    await expect(breaker.execute(() => 'sync value', signal)).resolves.toBe('sync value');
    await expect(breaker.execute(async () => 'async value', signal)).resolves.toBe('async value');
    await expect(breaker.execute(() => Promise.reject(new Boom()), signal)).rejects.toBeInstanceOf(Boom);
    await expect(
      breaker.execute(() => {
        throw new Boom();
      }, signal),
    ).rejects.toBeInstanceOf(Boom);
    expect(breaker.state).toBe('open');
    await expect(breaker.execute(() => 'rejected', signal)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(breaker.statistics).toMatchObject({ calls: 4, successes: 2, failures: 2, rejections: 1, aborted: 0 });
  });

  it('leaves no abort listener on the signal once the call settled, whichever way', async () => {
    const breaker = breakerWith({ threshold: 100 });
    const controller = watchedController();
    const calls: Promise<unknown>[] = [];
    const pending = [deferred(), deferred()];
    calls.push(breaker.execute(() => pending[0]!.promise, controller.signal));
    calls.push(breaker.execute(() => pending[1]!.promise, controller.signal));
    expect(controller.listeners()).toBe(1); // one for all the calls running on this signal
    pending[0]!.resolve('ok');
    pending[1]!.reject(new Boom());
    await Promise.allSettled(calls);
    expect(controller.listeners()).toBe(0);
    await breaker.execute(() => 'sync', controller.signal);
    expect(controller.listeners()).toBe(0);

    const abandoned = breaker.execute(() => deferred().promise, controller.signal);
    expect(controller.listeners()).toBe(1);
    controller.abort();
    await abandoned.catch(() => undefined);
    expect(controller.listeners()).toBe(0);
  });
});

describe('circuitBreaker — entry point types', () => {
  it('types each entry point’s result as what it returns: execute a promise, executeSync the value', async () => {
    const breaker: CircuitBreakerPolicy = breakerWith();
    const asynchronous: Promise<number> = breaker.execute(() => 1);
    const synchronous: number = breaker.executeSync(() => 1);
    expect(asynchronous).toBeInstanceOf(Promise);
    expect(synchronous).toBe(1);
    await expect(asynchronous).resolves.toBe(1);
  });
});

describe('circuitBreaker — what never throws', () => {
  // A store whose reads fail (a broken custom store): the error must still arrive as a rejection on the async paths.
  const brokenStore: CircuitStore = {
    read: () => {
      throw new Error('store down');
    },
    compareAndSet: () => false,
  };

  it('rejects execute when its store throws, never throwing', async () => {
    const breaker = circuitBreaker({ store: brokenStore, clock });
    let result: Promise<number> | undefined;
    expect(() => (result = breaker.execute(async () => 1))).not.toThrow();
    await expect(result).rejects.toThrow('store down');
  });

  it('rejects call of an async function when its store throws, and throws for a sync one', async () => {
    const breaker = circuitBreaker({ store: brokenStore, clock });
    let result: Promise<number> | undefined;
    expect(() => (result = breaker.call(async () => 1, undefined, []))).not.toThrow();
    await expect(result).rejects.toThrow('store down');
    expect(() => breaker.call(() => 1, undefined, [])).toThrow('store down');
  });

  it('observes the promise of a function that aborted its caller’s signal before returning it', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const controller = new AbortController();
      const breaker = circuitBreaker({ clock });
      const late = deferred<number>();
      const result = breaker.execute(() => {
        controller.abort('caller gone');
        return late.promise;
      }, controller.signal);
      await expect(result).rejects.toBe('caller gone');
      late.reject(new Boom());
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('rejects a signal that is no AbortSignal with a TypeError, without running fn', async () => {
    const breaker = circuitBreaker({ clock });
    const fn = jest.fn(async () => 1);
    await expect(breaker.execute(fn, { aborted: false } as unknown as AbortSignal)).rejects.toThrow(
      new TypeError('circuitBreaker: `signal` must be an AbortSignal, got an object.'),
    );
    expect(fn).not.toHaveBeenCalled();
    expect(breaker.statistics.calls).toBe(0);
  });
});
