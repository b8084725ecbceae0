import {
  CircuitBreaker,
  CircuitOpenError,
  Fallback,
  Retry,
  circuitOf,
  policiesOf,
  policyOf,
  type ErrorClass,
  type FallbackEvent,
} from '@staunch/decorators';
import { capture, HttpError, useVirtualClock } from './helpers';

interface User {
  readonly name: string;
}
const cached: User = { name: 'cached' };

describe('@Fallback', () => {
  const time = useVirtualClock();

  it('answers an async method’s matching error with the constant', async () => {
    class Users {
      @Fallback(cached, { on: HttpError })
      async get(): Promise<User> {
        throw new HttpError(503);
      }
    }
    await expect(new Users().get()).resolves.toBe(cached);
  });

  it('calls a fallback function with the method’s `this`, the error and the arguments', async () => {
    const error = new HttpError(503);
    class Users {
      readonly prefix = 'cached';
      @Fallback(function (this: Users, e: unknown, id: string, page: number) {
        return { name: `${this.prefix} ${id} ${page} ${e === error}` };
      })
      async get(_id: string, _page: number): Promise<User> {
        throw error;
      }
    }
    await expect(new Users().get('u1', 2)).resolves.toEqual({ name: 'cached u1 2 true' });
  });

  it('keeps a sync method sync: its value, or the fallback’s, is returned, not a promise', () => {
    class Parser {
      @Fallback((_error: unknown, text: string) => -text.length)
      parse(text: string): number {
        const n = Number(text);
        if (Number.isNaN(n)) throw new TypeError(`not a number: ${text}`);
        return n;
      }
    }
    const parser = new Parser();
    expect(parser.parse('12')).toBe(12);
    expect(parser.parse('abc')).toBe(-3);
  });

  it('lets an error not matching `on` propagate unchanged', async () => {
    const bug = new TypeError('bug');
    class Users {
      @Fallback(cached, { on: HttpError })
      async get(): Promise<User> {
        throw bug;
      }
    }
    await expect(new Users().get()).rejects.toBe(bug);
  });

  it('accepts `undefined` as the fallback value', async () => {
    class Users {
      @Fallback(undefined)
      async find(): Promise<User | undefined> {
        throw new HttpError(404);
      }
    }
    await expect(new Users().find()).resolves.toBeUndefined();
  });

  it('propagates the fallback’s own error with the method’s error as its cause', async () => {
    const original = new HttpError(503);
    const own = new Error('cache down too');
    class Users {
      @Fallback(async () => Promise.reject(own))
      async get(): Promise<User> {
        throw original;
      }
    }
    await expect(new Users().get()).rejects.toBe(own);
    expect(own.cause).toBe(original);
  });

  it('records a frozen descriptor with the fallback and a frozen copy of `on`', () => {
    const on: ErrorClass[] = [HttpError];
    class Users {
      @Fallback(cached, { on })
      async get(): Promise<User> {
        return cached;
      }
    }
    on.push(TypeError);
    const [descriptor] = policiesOf(Users, 'get');
    expect(descriptor).toEqual({ kind: 'fallback', options: { fallback: cached, on: [HttpError] } });
    expect(Object.isFrozen(descriptor?.options)).toBe(true);
    expect(Object.isFrozen((descriptor?.options as { on: unknown }).on)).toBe(true);
  });

  it('exposes its live policy: statistics and `fallback` events', async () => {
    const error = new HttpError(503);
    let fail = true;
    class Users {
      @Fallback(cached)
      async get(): Promise<User> {
        if (fail) throw error;
        return { name: 'live' };
      }
    }
    const policy = policyOf(Users, 'get', 'fallback');
    const events: FallbackEvent[] = [];
    policy.on('fallback', (event) => events.push(event));
    await new Users().get();
    fail = false;
    await new Users().get();
    expect(events).toEqual([{ error }]);
    expect(policy.statistics).toEqual({ calls: 2, successes: 1, fallbacks: 1, failures: 0 });
  });

  describe('over @Retry over @CircuitBreaker', () => {
    class Catalog {
      calls = 0;
      @Fallback(cached, { on: CircuitOpenError })
      @Retry(HttpError, { times: 2, interval: 100 })
      @CircuitBreaker(HttpError, { threshold: 2, resetTimeout: 1_000 })
      async product(): Promise<User> {
        this.calls++;
        throw new HttpError(503);
      }
    }

    it('lets the retry’s last error through while the circuit is closed, then answers the open circuit', async () => {
      const catalog = new Catalog();
      const first = capture(catalog.product());
      await time.clock.advance(100);
      const outcome = await first;
      expect(outcome.ok).toBe(false);
      expect((outcome as { error: unknown }).error).toBeInstanceOf(HttpError);
      expect(circuitOf(Catalog, 'product').state).toBe('open');
      const second = capture(catalog.product());
      await time.clock.advance(100);
      await expect(second).resolves.toEqual({ ok: true, value: cached });
      expect(catalog.calls).toBe(2);
      expect(policiesOf(Catalog, 'product').map((p) => p.kind)).toEqual(['fallback', 'retry', 'circuitBreaker']);
    });
  });

  it('directly over an async @CircuitBreaker: the breaker still counts each failure, the fallback answers', async () => {
    class Feed {
      @Fallback('cached')
      @CircuitBreaker({ threshold: 2, resetTimeout: 1_000 })
      async latest(): Promise<string> {
        throw new HttpError(503);
      }
    }
    const feed = new Feed();
    await expect(feed.latest()).resolves.toBe('cached');
    await expect(feed.latest()).resolves.toBe('cached');
    expect(circuitOf(Feed, 'latest').state).toBe('open');
    expect(circuitOf(Feed, 'latest').statistics.failures).toBe(2);
    await expect(feed.latest()).resolves.toBe('cached');
    expect(circuitOf(Feed, 'latest').statistics.rejections).toBe(1);
  });

  it('under @Retry: each attempt is answered, so the retry sees a success', async () => {
    let calls = 0;
    class Feed {
      @Retry({ times: 3, interval: 10 })
      @Fallback('cached', { on: HttpError })
      async latest(): Promise<string> {
        calls++;
        throw new HttpError(503);
      }
    }
    await expect(new Feed().latest()).resolves.toBe('cached');
    expect(calls).toBe(1);
  });

  it('keeps a sync method under @CircuitBreaker sync, answering CircuitOpenError at once', () => {
    class Prices {
      @Fallback(0, { on: CircuitOpenError })
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      price(): number {
        throw new HttpError(500);
      }
    }
    const prices = new Prices();
    expect(() => prices.price()).toThrow(HttpError);
    expect(prices.price()).toBe(0);
  });
});

describe('@Fallback validation', () => {
  it('names the method when the fallback is missing', () => {
    expect(() => {
      class Users {
        // @ts-expect-error the fallback is required
        @Fallback()
        async get(): Promise<User> {
          return cached;
        }
      }
      return Users;
    }).toThrow(new TypeError('@Fallback on get(): `valueOrFn` must be given (a value or a function), got undefined.'));
  });

  it('names a bad `on` and bad options', () => {
    expect(() => {
      class Users {
        @Fallback(cached, { on: 'HttpError' as never })
        async get(): Promise<User> {
          return cached;
        }
      }
      return Users;
    }).toThrow(
      '@Fallback on get(): `on` must be an error class, an array of error classes or a predicate, got "HttpError".',
    );
    expect(() => {
      class Users {
        @Fallback(cached, 5 as never)
        async get(): Promise<User> {
          return cached;
        }
      }
      return Users;
    }).toThrow('@Fallback on get(): `options` must be an object, got 5.');
  });
});
