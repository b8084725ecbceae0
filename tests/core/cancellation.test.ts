import { getEventListeners } from 'node:events';
import {
  asyncBackoff,
  asyncBackoffPolicy,
  asyncRetryPolicy,
  attemptSignal,
  AttemptSignalError,
  AttemptTimeoutError,
  poll,
  pollPolicy,
  retry,
  retryPolicy,
  systemClock,
  type Clock,
  type GiveUpEvent,
  type TimerHandle,
} from '@staunch/core';
import { sleepWith } from '../../packages/core/src/clock';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, outcome, scripted, track } from './policy-helpers';

describe('cancellation', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it('rejects with the signal’s reason without calling fn when the signal is already aborted', async () => {
    const reason = new Error('cancelled');
    const fn = jest.fn(() => 1);
    const result = await outcome(clock, retry(fn, Boom, { clock, signal: AbortSignal.abort(reason) }));
    expect(result.error).toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it('stops waiting for an async poll predicate at once, leaving no listener behind', async () => {
    const controller = new AbortController();
    const result = track(
      poll(
        async () => 1,
        () => new Promise<boolean>(() => undefined),
        { clock, signal: controller.signal },
      ),
      clock,
    );
    await clock.advance(50);
    expect(result.settled).toBe(false);
    controller.abort('stop');
    await clock.flush();
    expect(result).toMatchObject({ settled: true, error: 'stop', at: 50 });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('stops a wait at once and rejects with the reason', async () => {
    const controller = new AbortController();
    const { fn, calls } = scripted(clock, [{ error: new Boom() }]);
    const result = track(retry(fn, Boom, { interval: 1_000, clock, signal: controller.signal }), clock);
    await clock.advance(300);
    controller.abort('stop');
    await clock.flush();
    expect(result).toMatchObject({ settled: true, error: 'stop', at: 300 });
    expect(calls).toEqual([0]);
    expect(clock.pending).toBe(0);
  });

  it('stops waiting for a running attempt at once and aborts the attempt’s signal with the same reason', async () => {
    const controller = new AbortController();
    const { fn, signals } = scripted(clock, [{ hang: true }]);
    const result = track(asyncBackoff(fn, { attemptTimeout: 1_000, clock, signal: controller.signal }), clock);
    await clock.advance(10);
    controller.abort('stop');
    await clock.flush();
    expect(result).toMatchObject({ settled: true, error: 'stop', at: 10 });
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBe('stop');
    expect(clock.pending).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('hands out one shared never-aborting signal when nothing can abort an attempt', async () => {
    const seen: AbortSignal[] = [];
    await retryPolicy(Boom, { clock }).execute(({ signal }) => seen.push(signal));
    await retryPolicy(Boom, { clock }).execute(({ signal }) => seen.push(signal));
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]!.aborted).toBe(false);
    // Its abort listeners could never run, so they are not kept.
    seen[0]!.addEventListener('abort', () => undefined);
    expect(getEventListeners(seen[0]!, 'abort')).toHaveLength(0);
  });

  it('gives each abortable attempt its own signal', async () => {
    const { fn, signals } = scripted(clock, [{ error: new Boom() }, { value: 1 }]);
    await outcome(clock, asyncBackoff(fn, { on: Boom, deadline: 1_000, clock }));
    expect(signals[0]).not.toBe(signals[1]);
  });
});

describe('attemptSignal', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it('returns the starting attempt’s signal at the top of the function called by `call`', async () => {
    const policy = asyncBackoffPolicy({ attemptTimeout: 100, clock });
    const signals: AbortSignal[] = [];
    async function work(this: unknown): Promise<string> {
      signals.push(attemptSignal());
      return new Promise(() => undefined);
    }
    const result = track(policy.call(work, undefined, []), clock);
    await clock.advance(100);
    expect(signals).toHaveLength(2);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
    await clock.runAll(150);
    expect(result.settled).toBe(false); // retries forever: no maxTries, no deadline
  });

  it('throws AttemptSignalError outside an attempt, and after the first await', async () => {
    expect(() => attemptSignal()).toThrow(AttemptSignalError);
    expect(() => attemptSignal()).toThrow(/before the first await/);
    let late: unknown;
    await retryPolicy(Boom, { clock }).call(
      async function (this: unknown) {
        await Promise.resolve();
        try {
          attemptSignal();
        } catch (error) {
          late = error;
        }
      },
      undefined,
      [],
    );
    expect(late).toBeInstanceOf(AttemptSignalError);
    expect(late).toMatchObject({ code: 'STAUNCH_ATTEMPT_SIGNAL_UNAVAILABLE' });
  });

  it('lets cancellation flow into a nested policy: the outer attempt’s signal is the inner caller signal', async () => {
    const inner = retryPolicy(Boom, { times: 10, interval: 1_000, clock });
    const outer = asyncBackoffPolicy({ attemptTimeout: 2_500, maxTries: 1, clock });
    let innerCalls = 0;
    const result = track(
      outer.call(
        function (this: unknown) {
          return inner.execute(() => {
            innerCalls++;
            throw new Boom();
          });
        },
        undefined,
        [],
      ),
      clock,
    );
    await clock.runAll();
    expect(result.error).toMatchObject({ code: 'STAUNCH_ATTEMPT_TIMEOUT' });
    expect(innerCalls).toBe(3); // at 0, 1000, 2000; aborted during the wait at 2500
    expect(clock.pending).toBe(0);
  });
});

describe('leaks', () => {
  const cases: [string, (clock: VirtualClock, signal: AbortSignal) => Promise<unknown>][] = [
    [
      'retry success',
      (clock, signal) => retry(scripted(clock, [{ error: new Boom() }, { value: 1 }]).fn, Boom, { clock, signal }),
    ],
    ['retry failure', (clock, signal) => retry(scripted(clock, [{ error: new Boom() }]).fn, Boom, { clock, signal })],
    [
      'poll success',
      (clock, signal) => poll(scripted(clock, [{ value: 0 }, { value: 1 }]).fn, Boolean, { clock, signal }),
    ],
    [
      'poll timeout',
      (clock, signal) => poll(scripted(clock, [{ value: 0 }]).fn, Boolean, { timeout: 3_000, clock, signal }),
    ],
    [
      'asyncBackoff attempt timeout',
      (clock, signal) =>
        asyncBackoff(scripted(clock, [{ hang: true }]).fn, { attemptTimeout: 10, maxTries: 3, clock, signal }),
    ],
    [
      'asyncBackoff deadline',
      (clock, signal) => asyncBackoff(scripted(clock, [{ hang: true }]).fn, { deadline: 50, clock, signal }),
    ],
    [
      'asyncBackoff success under limits',
      (clock, signal) =>
        asyncBackoff(scripted(clock, [{ value: 1 }]).fn, { attemptTimeout: 10, deadline: 50, clock, signal }),
    ],
    [
      'asyncRetry failure',
      (clock, signal) =>
        asyncRetryPolicy(3, { pause: 5, clock }).execute(scripted(clock, [{ error: new Boom() }]).fn, signal),
    ],
  ];

  it.each(cases)('leaves no timer and no abort listener after %s', async (_name, run) => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const result = await outcome(clock, run(clock, controller.signal));
    expect(result.settled).toBe(true);
    expect(clock.pending).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it.each(cases)('leaves no timer and no abort listener after an abort during %s', async (_name, run) => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const result = track(run(clock, controller.signal), clock);
    await clock.flush();
    controller.abort();
    await clock.runAll();
    expect(result.settled).toBe(true);
    expect(clock.pending).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('leaves no Timeout behind on the real clock', async () => {
    // The wrapper below tracks exactly the timers the policies set on the real clock (lint keeps every
    // timer in the library behind the Clock), and the Node timeouts the system clock makes for them are
    // tracked too, through this test file's own setTimeout / clearTimeout (a process-wide count would also
    // see timers of jest and of other test files run earlier in the same worker).
    const nodeTimeouts = new Set<unknown>();
    const realSetTimeout = globalThis.setTimeout;
    const realClearTimeout = globalThis.clearTimeout;
    globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const handle = realSetTimeout(
        (...given: unknown[]) => {
          nodeTimeouts.delete(handle);
          callback(...given);
        },
        ms,
        ...args,
      );
      nodeTimeouts.add(handle);
      return handle;
    }) as typeof setTimeout;
    globalThis.clearTimeout = (handle: Parameters<typeof clearTimeout>[0]) => {
      nodeTimeouts.delete(handle);
      realClearTimeout(handle);
    };
    const live = new Set<TimerHandle>();
    const clock: Clock = {
      now: () => systemClock.now(),
      sleep: (ms, signal) => sleepWith(clock, ms, signal),
      schedule: (ms, callback) => {
        const timer = systemClock.schedule(ms, () => {
          live.delete(timer);
          callback();
        });
        live.add(timer);
        return timer;
      },
      cancel: (timer) => {
        live.delete(timer);
        systemClock.cancel(timer);
      },
    };
    const controller = new AbortController();
    try {
      await expect(
        asyncBackoff(() => new Promise(() => undefined), { attemptTimeout: 5, maxTries: 2, pause: 5, clock }),
      ).rejects.toMatchObject({ code: 'STAUNCH_ATTEMPT_TIMEOUT' });
      await expect(
        asyncBackoff(async () => 'fast', { attemptTimeout: 1_000, deadline: 2_000, clock, signal: controller.signal }),
      ).resolves.toBe('fast');
      let calls = 0;
      await expect(
        retry(() => (++calls < 2 ? Promise.reject(new Boom()) : 'ok'), Boom, { interval: 10, clock }),
      ).resolves.toBe('ok');
      await expect(
        poll(
          () => calls++,
          (n) => n > 3,
          { interval: 5, clock },
        ),
      ).resolves.toBe(4);
    } finally {
      globalThis.setTimeout = realSetTimeout;
      globalThis.clearTimeout = realClearTimeout;
    }
    expect(live.size).toBe(0);
    expect(nodeTimeouts.size).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('poll and an async predicate when the call aborts', () => {
  it('observes the predicate’s promise when the signal aborted as the predicate returned (no unhandled rejection)', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      let rejectLater!: (error: Error) => void;
      const result = track(
        poll(
          async () => 1,
          () => {
            controller.abort('stop');
            return new Promise<boolean>((_resolve, reject) => {
              rejectLater = reject;
            });
          },
          { clock, signal: controller.signal },
        ),
        clock,
      );
      await clock.flush();
      expect(result).toMatchObject({ settled: true, error: 'stop' });
      rejectLater(new Error('predicate failed after the call ended'));
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('gives up with reason `aborted` when aborted while the predicate is pending', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const policy = pollPolicy(() => new Promise<boolean>(() => undefined), { clock });
    const giveUps: GiveUpEvent[] = [];
    policy.on('giveUp', (event) => giveUps.push(event));
    const result = track(
      policy.execute(async () => 1, controller.signal),
      clock,
    );
    await clock.flush();
    controller.abort('stop');
    await clock.flush();
    expect(result).toMatchObject({ settled: true, error: 'stop' });
    expect(giveUps).toEqual([{ attempts: 1, error: 'stop', reason: 'aborted', elapsed: 0 }]);
  });
});

describe('attempt signals follow their parent synchronously', () => {
  it('aborts the running attempt’s signal in the same turn as the caller’s signal', () => {
    const controller = new AbortController();
    const signals: AbortSignal[] = [];
    const call = retryPolicy(Boom).execute(({ signal }) => {
      signals.push(signal);
      return new Promise(() => undefined);
    }, controller.signal);
    call.catch(() => undefined);
    controller.abort('stop');
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBe('stop');
  });

  it('aborts the signal of an attempt that threw synchronously when the caller aborts during the pause', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const result = track(
      retry(
        ({ signal }) => {
          seen = signal;
          throw new Boom();
        },
        Boom,
        { interval: 1_000, clock, signal: controller.signal },
      ),
      clock,
    );
    await clock.advance(100);
    expect(seen!.aborted).toBe(false);
    controller.abort('stop');
    expect(seen!.aborted).toBe(true);
    await clock.flush();
    expect(result).toMatchObject({ settled: true, error: 'stop' });
    expect(clock.pending).toBe(0);
  });

  it('aborts a nested call’s attempt in the same turn as the outer attempt times out', async () => {
    const clock = new VirtualClock();
    let inner: AbortSignal | undefined;
    const inside = retryPolicy(Boom, { clock });
    const result = track(
      asyncBackoffPolicy({ attemptTimeout: 100, maxTries: 1, clock }).execute(() =>
        inside.execute(({ signal }) => {
          inner = signal;
          return new Promise(() => undefined);
        }),
      ),
      clock,
    );
    await clock.advance(100);
    expect(inner!.aborted).toBe(true);
    expect(inner!.reason).toBeInstanceOf(AttemptTimeoutError);
    await clock.flush();
    expect(result.error).toBeInstanceOf(AttemptTimeoutError);
  });
});

describe('fan-out', () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });
  const twoTurns = async (): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  };

  it('runs 20 nested calls inside one abortable attempt without a listener warning, and aborts them all', async () => {
    const clock = new VirtualClock();
    const inner = retryPolicy(Boom, { clock });
    let outerSignal: AbortSignal | undefined;
    const innerSignals: AbortSignal[] = [];
    const result = track(
      asyncBackoffPolicy({ attemptTimeout: 1_000, maxTries: 1, clock }).execute(({ signal }) => {
        outerSignal = signal;
        return Promise.all(
          Array.from({ length: 20 }, () =>
            inner.execute(({ signal: own }) => {
              innerSignals.push(own);
              return new Promise(() => undefined);
            }),
          ),
        );
      }),
      clock,
    );
    await clock.advance(1);
    expect(getEventListeners(outerSignal!, 'abort')).toHaveLength(0);
    await clock.advance(1_000);
    expect(innerSignals).toHaveLength(20);
    expect(innerSignals.every((signal) => signal.aborted)).toBe(true);
    expect(result.error).toBeInstanceOf(AttemptTimeoutError);
    expect(clock.pending).toBe(0);
    await twoTurns();
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('adds one listener to a caller’s signal shared by 20 calls, and none once they end', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const policy = retryPolicy(Boom, { clock });
    const calls = Array.from({ length: 20 }, (_, i) =>
      track(
        policy.execute(() => clock.sleep(10).then(() => i), controller.signal),
        clock,
      ),
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await clock.advance(10);
    expect(calls.map((call) => call.value)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await twoTurns();
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('aborts every call sharing the caller’s signal, and removes its one listener', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const policy = retryPolicy(Boom, { clock });
    const calls = Array.from({ length: 20 }, () =>
      track(
        policy.execute(() => new Promise(() => undefined), controller.signal),
        clock,
      ),
    );
    controller.abort('stop');
    await clock.flush();
    expect(calls.every((call) => call.error === 'stop')).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('a caller’s signal that is no AbortSignal', () => {
  it.each([
    ['retry({ signal })', (signal: unknown) => retry(async () => 1, { signal: signal as AbortSignal })],
    ['asyncBackoff({ signal })', (signal: unknown) => asyncBackoff(async () => 1, { signal: signal as AbortSignal })],
    ['poll({ signal })', (signal: unknown) => poll(async () => 1, Boolean, { signal: signal as AbortSignal })],
    ['retryPolicy.execute', (signal: unknown) => retryPolicy().execute(async () => 1, signal as AbortSignal)],
  ])('%s rejects with a TypeError naming the signal, without calling fn', async (_name, run) => {
    await expect(run(1)).rejects.toThrow(/: `signal` must be an AbortSignal, got 1\.$/);
    await expect(run({ aborted: false })).rejects.toThrow(TypeError);
  });
});
