import {
  AsyncBackoff,
  CircuitBreaker,
  Poll,
  RateLimit,
  Retry,
  circuitOf,
  isCircuitOpenError,
  circuitBreaker,
  policiesOf,
  policyOf,
} from '@staunch/decorators';
import { capture, HttpError, useVirtualClock } from './helpers';

type AnyMethod = (this: unknown, ...args: never[]) => unknown;

/**
 * A third-party method decorator in the style of `mimic-function`: it wraps the method and copies
 * the method's own properties (symbols included) onto its wrapper.
 */
function counting(counter: { calls: number }, copy = true) {
  return <M extends AnyMethod>(method: M, _context: ClassMethodDecoratorContext): M => {
    const wrapper = function (this: unknown, ...args: never[]): unknown {
      counter.calls++;
      return method.apply(this, args);
    };
    if (copy) Object.defineProperties(wrapper, Object.getOwnPropertyDescriptors(method));
    return wrapper as M;
  };
}

describe('stacked decorators', () => {
  const time = useVirtualClock();

  it('record their policies in written order, top = outermost', () => {
    class Billing {
      @Retry(HttpError, { times: 3, interval: 200 })
      @CircuitBreaker(HttpError, { threshold: 3, resetTimeout: 60_000 })
      @AsyncBackoff({ attemptTimeout: 500 })
      async charge(): Promise<void> {}
    }
    expect(policiesOf(Billing, 'charge').map((p) => p.kind)).toEqual(['retry', 'circuitBreaker', 'asyncBackoff']);
  });

  it('fuse into one wrapper around the original method', () => {
    const seen: unknown[] = [];
    const spy = (value: unknown, _context: ClassMethodDecoratorContext) => {
      seen.push(value);
    };
    class Billing {
      @spy
      @Retry()
      @spy
      @CircuitBreaker({ threshold: 1, resetTimeout: 10 })
      @spy
      async charge(): Promise<void> {}
    }
    const [original, afterBreaker, afterRetry] = seen;
    expect(afterBreaker).not.toBe(original);
    expect(afterRetry).toBe(afterBreaker);
    expect(Billing.prototype.charge).toBe(afterRetry);
  });

  it('run outermost first: a retry above a breaker retries the breaker, and sees its CircuitOpenError', async () => {
    const trace: string[] = [];
    class Api {
      @Retry({ times: 4, interval: 100, onError: (e) => trace.push(isCircuitOpenError(e) ? 'open' : 'fail') })
      @CircuitBreaker(HttpError, { threshold: 2, resetTimeout: 1_000 })
      async get(): Promise<string> {
        trace.push('call');
        throw new HttpError(503);
      }
    }
    const result = capture(new Api().get());
    await time.clock.advance(300);
    const outcome = await result;
    expect(trace).toEqual(['call', 'fail', 'call', 'fail', 'open', 'open']);
    expect(outcome.ok).toBe(false);
    expect(isCircuitOpenError((outcome as { error: unknown }).error)).toBe(true);
    expect(circuitOf(Api, 'get').state).toBe('open');
  });

  it('run a breaker above a retry once per call: the retries count as one failure', async () => {
    let calls = 0;
    class Api {
      @CircuitBreaker(HttpError, { threshold: 2, resetTimeout: 1_000 })
      @Retry(HttpError, { times: 3, interval: 10 })
      async get(): Promise<void> {
        calls++;
        throw new HttpError(500);
      }
    }
    const api = new Api();
    const first = capture(api.get());
    await time.clock.advance(20);
    await first;
    expect(calls).toBe(3);
    expect(circuitOf(Api, 'get').state).toBe('closed');
  });

  it('keep the name and length of the original method', () => {
    class Jobs {
      @Retry()
      @Poll((n: number) => n > 0)
      async count(_queue: string, _since: number): Promise<number> {
        return 1;
      }
    }
    expect(Jobs.prototype.count.name).toBe('count');
    expect(Jobs.prototype.count.length).toBe(2);
  });

  it('give an async method a rejected promise from an open breaker above another policy, never a synchronous throw', async () => {
    const shared = circuitBreaker({ threshold: 1, resetTimeout: 1_000 });
    shared.isolate();
    let calls = 0;
    class Api {
      @CircuitBreaker({ breaker: shared })
      @Retry({ times: 2, interval: 10 })
      async get(): Promise<string> {
        calls++;
        return 'ok';
      }
    }
    let result: Promise<string> | undefined;
    expect(() => (result = new Api().get())).not.toThrow();
    const outcome = await capture(result as Promise<string>);
    expect(outcome.ok).toBe(false);
    expect(isCircuitOpenError((outcome as { readonly error: unknown }).error)).toBe(true);
    expect(calls).toBe(0);
  });

  it('record every call in the right breaker when decorated methods call each other (nested retries over breakers)', async () => {
    class Service {
      @Retry({ times: 1 })
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      async failing(): Promise<void> {
        throw new HttpError(500);
      }

      @Retry({ times: 1 })
      @CircuitBreaker({ threshold: 5, resetTimeout: 1_000 })
      async working(): Promise<number> {
        return 1;
      }

      @Retry({ times: 1 })
      async outer(): Promise<unknown[]> {
        const first = capture(this.failing());
        const second = this.working();
        return [await first, await second];
      }
    }
    // A listener sends `failing`'s retry down its full loop, which must not take the outer retry's hand-off.
    const stop = policyOf(Service, 'failing', 'retry').on('giveUp', () => undefined);
    await new Service().outer();
    stop();
    expect(circuitOf(Service, 'failing').statistics).toEqual(expect.objectContaining({ calls: 1, failures: 1 }));
    expect(circuitOf(Service, 'failing').state).toBe('open');
    expect(circuitOf(Service, 'working').statistics).toEqual(expect.objectContaining({ calls: 1, successes: 1 }));
  });

  it('give a method body the promise of another decorated method only once its circuit recorded the call, whichever layer is outermost there', async () => {
    let successesSeen = -1;
    class Nested {
      @RateLimit({ permits: 100, per: 1_000 })
      @CircuitBreaker({ threshold: 5, resetTimeout: 1_000 })
      async inner(): Promise<number> {
        return 1;
      }

      // Not `async`: `inner`'s reaction runs inside the retry's attempt, while the retry waits for a breaker's hand-off.
      @Retry({ times: 1 })
      outer(): Promise<number> {
        return this.inner().then((value) => {
          successesSeen = circuitOf(Nested, 'inner').statistics.successes;
          return value;
        });
      }
    }
    expect(await new Nested().outer()).toBe(1);
    expect(successesSeen).toBe(1);
  });

  describe('with a foreign decorator in between', () => {
    it('keep top = outermost when it copies the method’s properties: it runs once per attempt', async () => {
      const foreign = { calls: 0 };
      let calls = 0;
      class Api {
        @Retry({ times: 3, interval: 10 })
        @counting(foreign)
        @CircuitBreaker({ threshold: 5, resetTimeout: 1_000 })
        async get(): Promise<string> {
          calls++;
          throw new HttpError(503);
        }
      }
      const result = capture(new Api().get());
      await time.clock.advance(20);
      expect(await result).toEqual({ ok: false, error: new HttpError(503) });
      expect([foreign.calls, calls]).toEqual([3, 3]);
      expect(circuitOf(Api, 'get').statistics).toEqual(expect.objectContaining({ calls: 3, failures: 3 }));
    });

    it('keep every policy findable on both sides of it, in written order', () => {
      class Api {
        @Retry({ times: 2 })
        @counting({ calls: 0 })
        @CircuitBreaker({ threshold: 5, resetTimeout: 1_000 })
        @counting({ calls: 0 })
        @AsyncBackoff({ attemptTimeout: 100 })
        async get(): Promise<void> {}
      }
      expect(policiesOf(Api, 'get').map((p) => p.kind)).toEqual(['retry', 'circuitBreaker', 'asyncBackoff']);
      expect(policyOf(Api, 'get', 'retry').options.times).toBe(2);
      expect(circuitOf(Api, 'get').options.threshold).toBe(5);
      expect(policyOf(new Api(), 'get', 'asyncBackoff').options.attemptTimeout).toBe(100);
    });
  });

  it.each([
    ['copies the method’s properties', true],
    ['does not copy them', false],
  ])('stay listed and findable under a foreign decorator outermost that %s', async (_how, copy) => {
    const foreign = { calls: 0 };
    class Api {
      @counting(foreign, copy)
      @Retry({ times: 2, interval: 10 })
      @CircuitBreaker({ threshold: 5, resetTimeout: 1_000 })
      async get(): Promise<never> {
        throw new HttpError(503);
      }
    }
    const result = capture(new Api().get());
    await time.clock.advance(10);
    await result;
    expect(foreign.calls).toBe(1);
    expect(policiesOf(Api, 'get').map((p) => p.kind)).toEqual(['retry', 'circuitBreaker']);
    expect(policiesOf(Api).map((e) => e.method)).toEqual(['get']);
    expect(circuitOf(Api, 'get').statistics.calls).toBe(2);
  });
});
