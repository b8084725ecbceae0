import {
  AsyncBackoff,
  AttemptTimeoutError,
  CircuitBreaker,
  Retry,
  asyncBackoffPolicy,
  attemptSignal,
  circuitOf,
  isCircuitOpenError,
  retry,
} from '@staunch/decorators';
import { capture, HttpError, useVirtualClock } from './helpers';

// The lean paths taken when nothing needs the full attempt loop (see BENCHMARKS.md): the same
// behaviour as the loop, whichever path a call takes.
describe('hot paths', () => {
  const time = useVirtualClock();

  describe('a retry right above a breaker (the breaker hands its bookkeeping to the retry)', () => {
    it('counts successes and failures in the circuit, and retries through it', async () => {
      let calls = 0;
      class Api {
        @Retry(HttpError, { times: 3, interval: 10 })
        @CircuitBreaker(HttpError, { threshold: 5, resetTimeout: 1_000 })
        async get(fail: boolean): Promise<string> {
          calls++;
          if (fail && calls < 4) throw new HttpError(503);
          return 'ok';
        }
      }
      const api = new Api();
      expect(await api.get(false)).toBe('ok');
      const second = capture(api.get(true));
      await time.clock.advance(20);
      expect(await second).toEqual({ ok: true, value: 'ok' });
      expect(circuitOf(Api, 'get').statistics).toMatchObject({ calls: 4, successes: 2, failures: 2 });
    });

    it('opens the circuit on the failures it records, and the retry then sees CircuitOpenError', async () => {
      class Api {
        @Retry({ times: 3, interval: 10 })
        @CircuitBreaker(HttpError, { threshold: 2, resetTimeout: 1_000 })
        async get(): Promise<string> {
          throw new HttpError(503);
        }
      }
      const result = capture(new Api().get());
      await time.clock.advance(20);
      const outcome = await result;
      expect(outcome.ok).toBe(false);
      expect(isCircuitOpenError((outcome as { error: unknown }).error)).toBe(true);
      expect(circuitOf(Api, 'get').state).toBe('open');
    });

    it('passes the arguments and `this` through, with none and with several', async () => {
      class Api {
        readonly seen: unknown[][] = [];
        @Retry()
        @CircuitBreaker({ threshold: 5, resetTimeout: 1_000 })
        async get(...args: unknown[]): Promise<number> {
          this.seen.push(args);
          return args.length;
        }
      }
      const api = new Api();
      expect(await api.get()).toBe(0);
      expect(await api.get(1, 'two', 3)).toBe(3);
      expect(api.seen).toEqual([[], [1, 'two', 3]]);
    });
  });

  describe('a first attempt under an attempt timeout', () => {
    it('sets no timer when the attempt settles without waiting', async () => {
      const policy = asyncBackoffPolicy({ attemptTimeout: 100, clock: time.clock });
      const result = policy.execute(async () => 'fast');
      expect(time.clock.pending).toBe(0);
      expect(await result).toBe('fast');
      expect(time.clock.pending).toBe(0);
    });

    it('still times out, on time, an attempt that waits, and leaves no timer behind', async () => {
      let attempts = 0;
      const policy = asyncBackoffPolicy({ attemptTimeout: 100, maxTries: 2, clock: time.clock });
      const signals: AbortSignal[] = [];
      const result = capture(
        policy.execute(({ signal }) => {
          attempts++;
          signals.push(signal);
          return new Promise<never>(() => undefined);
        }),
      );
      await time.clock.advance(99);
      expect(attempts).toBe(1);
      await time.clock.advance(1);
      expect(attempts).toBe(2);
      expect(signals[0]?.aborted).toBe(true);
      await time.clock.advance(100);
      const outcome = await result;
      expect(outcome.ok).toBe(false);
      expect((outcome as { error: unknown }).error).toBeInstanceOf(AttemptTimeoutError);
      expect(time.clock.pending).toBe(0);
    });

    it('gives a decorated method its attempt signal', async () => {
      class Rows {
        @AsyncBackoff({ attemptTimeout: 50 })
        async fetch(): Promise<AbortSignal> {
          return attemptSignal();
        }
      }
      const signal = await new Rows().fetch();
      expect(signal.aborted).toBe(false);
    });
  });

  describe('an open circuit', () => {
    it('rejects async calls with a promise (one promise job later), never a synchronous throw', async () => {
      let calls = 0;
      class Api {
        @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
        async get(): Promise<never> {
          calls++;
          throw new HttpError(503);
        }
      }
      const api = new Api();
      await expect(api.get()).rejects.toBeInstanceOf(HttpError);
      const rejected = [api.get(), api.get(), api.get()];
      const outcomes = await Promise.all(rejected.map((p) => capture(p)));
      expect(outcomes.every((o) => !o.ok && isCircuitOpenError(o.error))).toBe(true);
      expect(new Set(outcomes.map((o) => (o as { error: unknown }).error)).size).toBe(3);
      expect(calls).toBe(1);
    });
  });

  describe('the one-shot retry()', () => {
    it('still rejects invalid options, even when the function would succeed', async () => {
      await expect(retry(async () => 1, { times: 1.5 })).rejects.toThrow(RangeError);
    });

    it('builds its policy only on failure, and then retries as usual', async () => {
      const errors: number[] = [];
      let calls = 0;
      const result = capture(
        retry(
          async () => {
            calls++;
            if (calls < 3) throw new HttpError(500);
            return calls;
          },
          HttpError,
          { times: 3, interval: 10, onError: (_error, previous) => errors.push(previous) },
        ),
      );
      await time.clock.advance(20);
      expect(await result).toEqual({ ok: true, value: 3 });
      expect(errors).toEqual([0, 1]);
    });
  });
});
