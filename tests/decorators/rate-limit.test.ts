import {
  Fallback,
  RateLimit,
  RateLimitedError,
  Retry,
  attemptSignal,
  memoryRateLimitStore,
  policiesOf,
  policyOf,
  rateLimitPolicy,
  type RateLimitStore,
  type RateLimitStoreProvider,
} from '@staunch/decorators';
import { capture, useVirtualClock } from './helpers';

describe('@RateLimit', () => {
  const time = useVirtualClock();

  it('starts at most `permits` calls per `per` ms and queues the next ones in order', async () => {
    const started: [number, number][] = [];
    class Geocoder {
      @RateLimit({ permits: 2, per: 1000, queue: 2 })
      async lookup(n: number): Promise<number> {
        started.push([n, time.clock.now()]);
        return n;
      }
    }
    const geocoder = new Geocoder();
    const calls = [1, 2, 3, 4, 5].map((n) => capture(geocoder.lookup(n)));
    expect(policyOf(Geocoder, 'lookup', 'rateLimit').statistics).toMatchObject({ admitted: 2, queued: 2, rejected: 1 });
    await time.clock.advance(1000);
    const outcomes = await Promise.all(calls);
    expect(started).toEqual([
      [1, 0],
      [2, 0],
      [3, 500],
      [4, 1000],
    ]);
    expect((outcomes[4] as { error: unknown }).error).toMatchObject({ reason: 'full', retryAfter: 500 });
  });

  it('rejects a call that waited `maxWait` ms, with the time until the next permit', async () => {
    class Geocoder {
      @RateLimit({ permits: 1, per: 1000, queue: 5, maxWait: 400 })
      async lookup(): Promise<void> {}
    }
    const geocoder = new Geocoder();
    await geocoder.lookup();
    const waiting = capture(geocoder.lookup());
    await time.clock.advance(400);
    expect(await waiting).toMatchObject({ ok: false, error: { reason: 'maxWait', retryAfter: 600 } });
  });

  it('records a descriptor, and shares one limit per method by default (class scope)', async () => {
    class Geocoder {
      @RateLimit({ permits: 3 })
      async lookup(): Promise<number> {
        return 1;
      }
    }
    expect(policiesOf(Geocoder, 'lookup')).toEqual([
      {
        kind: 'rateLimit',
        scope: 'class',
        options: {
          permits: 3,
          per: 1000,
          algorithm: 'token-bucket',
          queue: 0,
          maxWait: Infinity,
          store: undefined,
          name: 'lookup',
          clock: undefined,
        },
      },
    ]);
    await new Geocoder().lookup();
    await new Geocoder().lookup();
    expect(policyOf(Geocoder, 'lookup', 'rateLimit').statistics.admitted).toBe(2);
    expect(policyOf(new Geocoder(), 'lookup', 'rateLimit')).toBe(policyOf(Geocoder, 'lookup', 'rateLimit'));
  });

  it("gives each instance its own limit with scope 'instance'", async () => {
    class Client {
      @RateLimit({ permits: 1, scope: 'instance' })
      async send(): Promise<void> {}
    }
    const [a, b] = [new Client(), new Client()];
    const calls = [capture(a.send()), capture(b.send()), capture(a.send())];
    expect((await Promise.all(calls)).map((o) => o.ok)).toEqual([true, true, false]);
    expect(policyOf(a, 'send', 'rateLimit').statistics).toMatchObject({ admitted: 1, rejected: 1 });
    expect(() => policyOf(Client, 'send', 'rateLimit')).toThrow(/pass an instance/);
  });

  it('gives each key its own limit, and forgets idle ones past maxKeys (ones with permits out never)', async () => {
    class Tenants {
      @RateLimit({ permits: 1, per: 1000, key: (_self, [tenant]: [string]) => tenant, maxKeys: 2 })
      async call(tenant: string): Promise<string> {
        return tenant;
      }
    }
    const tenants = new Tenants();
    await tenants.call('a');
    await expect(tenants.call('a')).rejects.toBeInstanceOf(RateLimitedError);
    await expect(tenants.call('b')).resolves.toBe('b');
    const a = policyOf(tenants, 'call', 'rateLimit', 'a');
    await tenants.call('c'); // a third key: nothing idle yet, so nothing forgotten
    expect(policyOf(tenants, 'call', 'rateLimit', 'a')).toBe(a);
    await time.clock.advance(1000); // every permit back: all idle
    await tenants.call('d'); // the sweep after a busy one waits for twice as many keys
    await tenants.call('e');
    expect(policyOf(tenants, 'call', 'rateLimit', 'a')).not.toBe(a);
    expect(() => policyOf(tenants, 'call', 'rateLimit')).toThrow(/pass the key/);
    expect(policiesOf(Tenants, 'call')[0]).toMatchObject({ kind: 'rateLimit', scope: 'key', maxKeys: 2 });
  });

  it('shares a limiter made by rateLimitPolicy() between methods', async () => {
    const shared = rateLimitPolicy({ permits: 1, per: 1000 });
    class Api {
      @RateLimit({ limiter: shared })
      async search(): Promise<void> {}
      @RateLimit({ limiter: shared })
      async lookup(): Promise<void> {}
    }
    const api = new Api();
    await api.search();
    await expect(api.lookup()).rejects.toBeInstanceOf(RateLimitedError);
    expect(policyOf(Api, 'lookup', 'rateLimit')).toBe(shared);
    expect(policiesOf(Api, 'search')[0]).toMatchObject({ kind: 'rateLimit', scope: 'limiter' });
  });

  it('takes its permits from a store by `name`, one limit per key named `name[key]`', async () => {
    const names: string[] = [];
    const store: RateLimitStoreProvider = {
      rateLimit(name, options) {
        names.push(name);
        return memoryRateLimitStore(options);
      },
    };
    class Api {
      @RateLimit({ permits: 1, store, name: 'api' })
      async search(): Promise<void> {}
      @RateLimit({ permits: 1, store, name: 'tenant', key: (_self, [id]: [string]) => id })
      async lookup(_id: string): Promise<void> {}
    }
    const api = new Api();
    await api.search();
    await api.lookup('t1');
    await api.lookup('t2');
    expect(names).toEqual(['api', 'tenant[t1]', 'tenant[t2]']);
  });

  it('lets attemptSignal() work in the method', async () => {
    class Api {
      @RateLimit({ permits: 1 })
      async get(): Promise<boolean> {
        return attemptSignal().aborted;
      }
    }
    await expect(new Api().get()).resolves.toBe(false);
  });

  const store: RateLimitStoreProvider = { rateLimit: () => ({}) as RateLimitStore };
  it.each([
    [{ permits: 0 }, '@RateLimit on lookup(): `permits` must be an integer >= 1, got 0.'],
    [{}, '@RateLimit on lookup(): `permits` must be a number, got undefined.'],
    [{ permits: 1, per: 0 }, '@RateLimit on lookup(): `per` must be a finite number of ms > 0, got 0.'],
    [
      { permits: 1, algorithm: 'leaky' },
      "@RateLimit on lookup(): `algorithm` must be 'token-bucket' or 'sliding-window'",
    ],
    [{ permits: 1, queue: 1.5 }, '@RateLimit on lookup(): `queue` must be an integer >= 0 (or Infinity), got 1.5.'],
    [{ permits: 1, maxWait: -5 }, '@RateLimit on lookup(): `maxWait` must be a number >= 0, got -5.'],
    [{ permits: 1, scope: 'global' }, "@RateLimit on lookup(): `scope` must be 'class' or 'instance', got \"global\"."],
    [{ permits: 1, maxKeys: 5 }, '@RateLimit on lookup(): `maxKeys` must be given only with `key`, got 5.'],
    [{ permits: 1, store: {} }, '@RateLimit on lookup(): `store` must be a RateLimitStoreProvider'],
    [{ permits: 1, store }, '@RateLimit on lookup(): `name` must be given with a store (it names the shared limit)'],
    [{ permits: 1, store, name: 'x', scope: 'instance' }, "`scope` must be 'class' or a `key` with a store"],
    [{ limiter: {} }, '@RateLimit on lookup(): `limiter` must be a limiter made by rateLimitPolicy(), got an object.'],
    [
      { limiter: rateLimitPolicy({ permits: 1 }), permits: 2 },
      '@RateLimit on lookup(): `limiter` must be given alone (the shared limiter keeps its own options)',
    ],
    [null, '@RateLimit on lookup(): `options` must be an object, got null.'],
  ])('rejects %p at class definition', (options, message) => {
    expect(() => {
      class Geocoder {
        @RateLimit(options as never)
        async lookup(): Promise<void> {}
      }
      return Geocoder;
    }).toThrow(message);
  });

  it('must be called: `@RateLimit` without parentheses is an error', () => {
    expect(() => {
      class Geocoder {
        // @ts-expect-error -- the factory itself is no decorator
        @RateLimit
        async lookup(): Promise<void> {}
      }
      return Geocoder;
    }).toThrow('@RateLimit must be called');
  });
});

describe('@RateLimit stacked', () => {
  const time = useVirtualClock();

  it('under @Retry: a rejected call is retried, and gets a permit once one frees', async () => {
    let runs = 0;
    class Api {
      @Retry({ times: 3, interval: 600, on: RateLimitedError })
      @RateLimit({ permits: 1, per: 1000 })
      async get(): Promise<number> {
        return ++runs;
      }
    }
    const api = new Api();
    await api.get();
    const second = capture(api.get());
    await time.clock.advance(1200);
    expect(await second).toEqual({ ok: true, value: 2 });
    expect(policyOf(Api, 'get', 'rateLimit').statistics).toMatchObject({ admitted: 2, rejected: 2 }); // at 0 and 600
  });

  it('under @Fallback: a rejected call gets the fallback value', async () => {
    class Api {
      @Fallback('cached', { on: RateLimitedError })
      @RateLimit({ permits: 1 })
      async get(): Promise<string> {
        return 'fresh';
      }
    }
    const api = new Api();
    expect([await api.get(), await api.get()]).toEqual(['fresh', 'cached']);
  });
});
