import {
  AsyncBackoff,
  AttemptTimeoutError,
  CallTimeoutError,
  CircuitBreaker,
  CircuitOpenError,
  Retry,
  Timeout,
  attemptSignal,
  circuitOf,
  policiesOf,
  policyOf,
} from '@staunch/decorators';
import type { VirtualClock } from '@staunch/core/testing';
import { capture, HttpError, useVirtualClock } from './helpers';

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

const never = (): Promise<never> => new Promise(() => undefined);

describe('@Timeout', () => {
  const time = useVirtualClock();

  it('rejects with a CallTimeoutError exactly when `ms` passes, and aborts the call’s signal with it', async () => {
    const signals: AbortSignal[] = [];
    class Users {
      @Timeout(100)
      async fetch(): Promise<string> {
        signals.push(attemptSignal());
        return never();
      }
    }
    const result = capture(new Users().fetch());
    await time.clock.advance(99);
    expect(signals[0]!.aborted).toBe(false);
    await time.clock.advance(1);
    const settled = await result;
    expect(settled).toEqual({ ok: false, error: expect.any(CallTimeoutError) });
    expect(settled).toMatchObject({ error: { timeout: 100, code: 'STAUNCH_CALL_TIMEOUT' } });
    expect(signals[0]!.reason).toBe((settled as { error: unknown }).error);
  });

  it('resolves with the method’s value when it finishes in time, with `this` and arguments intact', async () => {
    class Users {
      prefix = 'user-';
      @Timeout(100)
      async fetch(id: number): Promise<string> {
        await time.clock.sleep(60);
        return `${this.prefix}${id}`;
      }
    }
    const result = capture(new Users().fetch(7));
    await time.clock.advance(60);
    expect(await result).toEqual({ ok: true, value: 'user-7' });
    expect(time.clock.pending).toBe(0);
  });

  it('observes and ignores what the method does after its timeout', async () => {
    let rejectLate: (error: unknown) => void = () => undefined;
    let resolveLate: (value: string) => void = () => undefined;
    class Users {
      @Timeout(100)
      fetch(late: 'reject' | 'resolve'): Promise<string> {
        return new Promise((resolve, reject) => {
          if (late === 'reject') rejectLate = reject;
          else resolveLate = resolve;
        });
      }
    }
    const users = new Users();
    const rejected = capture(users.fetch('reject'));
    const resolved = capture(users.fetch('resolve'));
    await time.clock.advance(100);
    expect(await rejected).toEqual({ ok: false, error: expect.any(CallTimeoutError) });
    expect(await resolved).toEqual({ ok: false, error: expect.any(CallTimeoutError) });
    // Settling late changes nothing and is not reported as an unhandled rejection (jest would fail the run).
    rejectLate(new HttpError(500));
    resolveLate('late');
    await time.clock.flush();
    expect(policyOf(Users, 'fetch', 'timeout').statistics).toMatchObject({ timeouts: 2, successes: 0, errors: 0 });
  });

  it('gives each call its own signal: one call’s timeout never touches another call (opossum #780)', async () => {
    const signals: AbortSignal[] = [];
    class Upstream {
      @Timeout(100)
      async get(delay: number): Promise<number> {
        signals.push(attemptSignal());
        if (delay === Infinity) return never();
        await time.clock.sleep(delay);
        return delay;
      }
    }
    const upstream = new Upstream();
    const slow = capture(upstream.get(Infinity));
    await time.clock.advance(50);
    const fast = capture(upstream.get(80));
    await time.clock.advance(50);
    expect(await slow).toEqual({ ok: false, error: expect.any(CallTimeoutError) });
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
    await time.clock.advance(30);
    expect(await fast).toEqual({ ok: true, value: 80 });
    expect(signals[1]!.aborted).toBe(false);
  });

  it('arms no timer for a call that settles within the microtask checkpoint', async () => {
    const schedules = countSchedules(time.clock);
    class Cache {
      @Timeout(1_000)
      async get(): Promise<number> {
        return 1;
      }
    }
    const cache = new Cache();
    const results = [await cache.get(), await cache.get(), await cache.get()];
    expect(results).toEqual([1, 1, 1]);
    expect(schedules.count).toBe(0);
    expect(time.clock.pending).toBe(0);
  });

  it('arms no timer for calls started together that all settle within the checkpoint', async () => {
    const schedules = countSchedules(time.clock);
    class Cache {
      @Timeout(1_000)
      async get(n: number): Promise<number> {
        return n;
      }
    }
    const cache = new Cache();
    expect(await Promise.all([cache.get(1), cache.get(2), cache.get(3)])).toEqual([1, 2, 3]);
    expect(schedules.count).toBe(0);
  });

  it('still times out every call of a batch that stays pending, exactly at `ms`', async () => {
    class Svc {
      @Timeout(100)
      async run(): Promise<void> {
        return never();
      }
    }
    const svc = new Svc();
    const all = Promise.all([capture(svc.run()), capture(svc.run()), capture(svc.run())]);
    await time.clock.advance(99);
    expect(time.clock.pending).toBe(3);
    await time.clock.advance(1);
    expect((await all).map((r) => (r.ok ? r.value : r.error))).toEqual([
      expect.any(CallTimeoutError),
      expect.any(CallTimeoutError),
      expect.any(CallTimeoutError),
    ]);
    expect(time.clock.pending).toBe(0);
  });

  it('leaves no timer behind after a success, a failure or a timeout', async () => {
    class Svc {
      @Timeout(100)
      async run(kind: 'ok' | 'fail' | 'hang'): Promise<string> {
        if (kind === 'hang') return never();
        await time.clock.sleep(10);
        if (kind === 'fail') throw new HttpError(500);
        return kind;
      }
    }
    const svc = new Svc();
    const all = Promise.all([capture(svc.run('ok')), capture(svc.run('fail')), capture(svc.run('hang'))]);
    await time.clock.advance(100);
    expect(await all).toEqual([
      { ok: true, value: 'ok' },
      { ok: false, error: expect.any(HttpError) },
      { ok: false, error: expect.any(CallTimeoutError) },
    ]);
    expect(time.clock.pending).toBe(0);
  });

  it('follows an enclosing policy’s attempt: its abort aborts the call’s signal synchronously, with its reason', async () => {
    const signals: AbortSignal[] = [];
    const seenAt: number[] = [];
    class Svc {
      @AsyncBackoff({ attemptTimeout: 50, maxTries: 1 })
      @Timeout(1_000)
      async run(): Promise<void> {
        const signal = attemptSignal();
        signals.push(signal);
        signal.addEventListener('abort', () => seenAt.push(time.clock.now()));
        return never();
      }
    }
    const result = capture(new Svc().run());
    await time.clock.advance(50);
    expect(await result).toEqual({ ok: false, error: expect.any(AttemptTimeoutError) });
    expect(signals[0]!.reason).toBeInstanceOf(AttemptTimeoutError);
    expect(seenAt).toEqual([50]);
    expect(time.clock.pending).toBe(0);
  });

  it('reports timeouts in events and statistics, read with policyOf(C, m, "timeout")', async () => {
    class Svc {
      @Timeout(100)
      async run(): Promise<void> {
        return never();
      }
    }
    const reasons: string[] = [];
    const policy = policyOf(Svc, 'run', 'timeout');
    const off = policy.on('giveUp', (e) => reasons.push(e.reason));
    const result = capture(new Svc().run());
    await time.clock.advance(100);
    expect(await result).toEqual({ ok: false, error: expect.any(CallTimeoutError) });
    off();
    expect(reasons).toEqual(['timeout']);
    expect(policy.statistics).toMatchObject({ calls: 1, timeouts: 1, failures: 1 });
    expect(policiesOf(Svc, 'run')).toEqual([{ kind: 'timeout', options: { timeout: 100, clock: undefined } }]);
  });

  describe('stacked', () => {
    it('under @Retry: bounds each attempt, and the retry sees CallTimeoutError', async () => {
      const calledAt: number[] = [];
      class Svc {
        @Retry(CallTimeoutError, { times: 3, interval: 10 })
        @Timeout(100)
        async run(): Promise<string> {
          calledAt.push(time.clock.now());
          if (calledAt.length < 3) return never();
          return 'third';
        }
      }
      const result = capture(new Svc().run());
      await time.clock.advance(220);
      expect(await result).toEqual({ ok: true, value: 'third' });
      expect(calledAt).toEqual([0, 110, 220]);
      expect(policyOf(Svc, 'run', 'timeout').statistics).toMatchObject({ calls: 3, timeouts: 2, successes: 1 });
    });

    it('over @Retry: bounds the whole call, retries and pauses included', async () => {
      const calledAt: number[] = [];
      class Svc {
        @Timeout(250)
        @Retry({ times: 10, interval: 100 })
        async run(): Promise<string> {
          calledAt.push(time.clock.now());
          throw new HttpError(503);
        }
      }
      const result = capture(new Svc().run());
      await time.clock.advance(250);
      expect(await result).toEqual({ ok: false, error: expect.any(CallTimeoutError) });
      await time.clock.advance(1_000);
      expect(calledAt).toEqual([0, 100, 200]);
      expect(time.clock.pending).toBe(0);
    });

    it('under @CircuitBreaker: timeouts count as failures and open the circuit', async () => {
      let calls = 0;
      class Svc {
        @CircuitBreaker({ threshold: 2, resetTimeout: 1_000 })
        @Timeout(100)
        async run(): Promise<void> {
          calls++;
          return never();
        }
      }
      const svc = new Svc();
      const first = capture(svc.run());
      const second = capture(svc.run());
      await time.clock.advance(100);
      expect(await first).toEqual({ ok: false, error: expect.any(CallTimeoutError) });
      expect(await second).toEqual({ ok: false, error: expect.any(CallTimeoutError) });
      expect(circuitOf(Svc, 'run').state).toBe('open');
      expect(await capture(svc.run())).toEqual({ ok: false, error: expect.any(CircuitOpenError) });
      expect(calls).toBe(2);
    });

    it('over @CircuitBreaker: an open circuit’s rejection passes through unchanged, at once', async () => {
      let calls = 0;
      class Svc {
        @Timeout(100)
        @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
        async run(): Promise<void> {
          calls++;
          throw new HttpError(500);
        }
      }
      const svc = new Svc();
      expect(await capture(svc.run())).toEqual({ ok: false, error: expect.any(HttpError) });
      expect(await capture(svc.run())).toEqual({ ok: false, error: expect.any(CircuitOpenError) });
      expect(calls).toBe(1);
      expect(time.clock.pending).toBe(0);
      expect(policyOf(Svc, 'run', 'timeout').statistics).toMatchObject({ calls: 2, timeouts: 0, errors: 2 });
    });
  });

  describe('validation at class definition', () => {
    it.each([
      [0, RangeError, '@Timeout on run(): `ms` must be a number > 0 (or Infinity), got 0.'],
      [-1, RangeError, '@Timeout on run(): `ms` must be a number > 0 (or Infinity), got -1.'],
      [NaN, TypeError, '@Timeout on run(): `ms` must be a number of milliseconds > 0 (or Infinity), got NaN.'],
      ['1s', TypeError, '@Timeout on run(): `ms` must be a number of milliseconds > 0 (or Infinity), got "1s".'],
    ])('rejects ms %p', (ms, ErrorType, message) => {
      const define = (): unknown =>
        class {
          @Timeout(ms as number)
          async run(): Promise<void> {}
        };
      expect(define).toThrow(message);
      expect(define).toThrow(ErrorType);
    });

    it('rejects options that are not an object', () => {
      expect(
        () =>
          class {
            @Timeout(10, 5 as never)
            async run(): Promise<void> {}
          },
      ).toThrow('@Timeout on run(): `options` must be an object, got 5.');
    });
  });
});
