import {
  Bulkhead,
  BulkheadRejectedError,
  CircuitBreaker,
  CircuitOpenError,
  Fallback,
  Retry,
  attemptSignal,
  bulkheadPolicy,
  circuitOf,
  policiesOf,
  policyOf,
} from '@staunch/decorators';
import { capture, useVirtualClock } from './helpers';

/** A promise the test settles: `open()` lets every call waiting on it finish. */
function latch() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('@Bulkhead', () => {
  const time = useVirtualClock();

  it('runs at most `limit` calls of the method at once and queues the next ones in order', async () => {
    const gate = latch();
    const started: number[] = [];
    class Search {
      @Bulkhead({ limit: 2, queue: 2 })
      async query(n: number): Promise<number> {
        started.push(n);
        await gate.promise;
        return n;
      }
    }
    const search = new Search();
    const calls = [1, 2, 3, 4, 5].map((n) => capture(search.query(n)));
    expect(started).toEqual([1, 2]);
    expect(policyOf(Search, 'query', 'bulkhead').statistics).toMatchObject({ active: 2, queued: 2, rejected: 1 });
    gate.open();
    const outcomes = await Promise.all(calls);
    expect(started).toEqual([1, 2, 3, 4]);
    expect(outcomes.slice(0, 4)).toEqual([1, 2, 3, 4].map((value) => ({ ok: true, value })));
    expect((outcomes[4] as { error: unknown }).error).toBeInstanceOf(BulkheadRejectedError);
  });

  it('rejects a call that waited `maxWait` ms', async () => {
    const gate = latch();
    class Search {
      @Bulkhead({ limit: 1, queue: 1, maxWait: 500 })
      async query(): Promise<void> {
        await gate.promise;
      }
    }
    const search = new Search();
    void search.query();
    const waiting = capture(search.query());
    await time.clock.advance(500);
    expect(await waiting).toMatchObject({ ok: false, error: { reason: 'maxWait' } });
    gate.open();
  });

  it('records a descriptor, and shares one bulkhead per method by default (class scope)', async () => {
    class Search {
      @Bulkhead({ limit: 3 })
      async query(): Promise<number> {
        return 1;
      }
    }
    expect(policiesOf(Search, 'query')).toEqual([
      { kind: 'bulkhead', scope: 'class', options: { limit: 3, queue: 0, maxWait: Infinity, clock: undefined } },
    ]);
    await new Search().query();
    await new Search().query();
    expect(policyOf(Search, 'query', 'bulkhead').statistics.admitted).toBe(2);
    expect(policyOf(new Search(), 'query', 'bulkhead')).toBe(policyOf(Search, 'query', 'bulkhead'));
  });

  it("gives each instance its own bulkhead with scope 'instance'", async () => {
    const gate = latch();
    class Search {
      @Bulkhead({ limit: 1, scope: 'instance' })
      async query(): Promise<void> {
        await gate.promise;
      }
    }
    const [a, b] = [new Search(), new Search()];
    const calls = [capture(a.query()), capture(b.query()), capture(a.query())];
    expect(policyOf(a, 'query', 'bulkhead').statistics).toMatchObject({ active: 1, rejected: 1 });
    expect(policyOf(b, 'query', 'bulkhead').statistics).toMatchObject({ active: 1, rejected: 0 });
    expect(() => policyOf(Search, 'query', 'bulkhead')).toThrow(/pass an instance/);
    gate.open();
    expect((await Promise.all(calls)).map((o) => o.ok)).toEqual([true, true, false]);
  });

  it('gives each key its own bulkhead, and forgets idle ones past maxKeys (busy ones never)', async () => {
    const gate = latch();
    class Hosts {
      @Bulkhead({ limit: 1, key: (_self, [host]: [string, boolean]) => host, maxKeys: 2 })
      async get(host: string, wait: boolean): Promise<string> {
        if (wait) await gate.promise;
        return host;
      }
    }
    const hosts = new Hosts();
    const busy = hosts.get('busy', true);
    await expect(hosts.get('busy', false)).rejects.toBeInstanceOf(BulkheadRejectedError);
    const idle = policyOf(hosts, 'get', 'bulkhead', 'idle');
    await hosts.get('idle', false);
    await hosts.get('other', false);
    await hosts.get('more', false);
    expect(policyOf(hosts, 'get', 'bulkhead', 'idle')).not.toBe(idle);
    expect(policyOf(hosts, 'get', 'bulkhead', 'busy').statistics.active).toBe(1);
    expect(() => policyOf(hosts, 'get', 'bulkhead')).toThrow(/pass the key/);
    expect(policiesOf(Hosts, 'get')[0]).toMatchObject({ kind: 'bulkhead', scope: 'key', maxKeys: 2 });
    gate.open();
    await busy;
  });

  it('rejects the call (not throws) when the key function throws', async () => {
    class Hosts {
      @Bulkhead({
        key: () => {
          throw new Error('no key');
        },
      })
      async get(): Promise<void> {}
    }
    const result = new Hosts().get();
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toThrow('no key');
  });

  it('shares a bulkhead made by bulkheadPolicy() between methods', async () => {
    const shared = bulkheadPolicy({ limit: 1 });
    const gate = latch();
    class Reports {
      @Bulkhead({ bulkhead: shared })
      async daily(): Promise<void> {
        await gate.promise;
      }
      @Bulkhead({ bulkhead: shared })
      async weekly(): Promise<void> {}
    }
    const reports = new Reports();
    const daily = reports.daily();
    await expect(reports.weekly()).rejects.toBeInstanceOf(BulkheadRejectedError);
    expect(policyOf(Reports, 'weekly', 'bulkhead')).toBe(shared);
    expect(policiesOf(Reports, 'daily')[0]).toMatchObject({ kind: 'bulkhead', scope: 'bulkhead' });
    gate.open();
    await daily;
  });

  it('lets attemptSignal() work in the method', async () => {
    class Api {
      @Bulkhead()
      async get(): Promise<boolean> {
        return attemptSignal().aborted;
      }
    }
    await expect(new Api().get()).resolves.toBe(false);
  });

  it.each([
    [{ limit: 0 }, '@Bulkhead on query(): `limit` must be an integer >= 1, got 0.'],
    [{ queue: -1 }, '@Bulkhead on query(): `queue` must be an integer >= 0 (or Infinity), got -1.'],
    [{ maxWait: -5 }, '@Bulkhead on query(): `maxWait` must be a number >= 0, got -5.'],
    [{ scope: 'global' }, "@Bulkhead on query(): `scope` must be 'class' or 'instance', got \"global\"."],
    [{ maxKeys: 5 }, '@Bulkhead on query(): `maxKeys` must be given only with `key`, got 5.'],
    [{ bulkhead: {} }, '@Bulkhead on query(): `bulkhead` must be a bulkhead made by bulkheadPolicy(), got an object.'],
    [
      { bulkhead: bulkheadPolicy(), limit: 2 },
      '@Bulkhead on query(): `bulkhead` must be given alone (the shared bulkhead keeps its own options)',
    ],
  ])('rejects %p at class definition', (options, message) => {
    expect(() => {
      class Search {
        @Bulkhead(options as never)
        async query(): Promise<void> {}
      }
      return Search;
    }).toThrow(message);
  });

  it('must be called: `@Bulkhead` without parentheses is an error', () => {
    expect(() => {
      class Search {
        // @ts-expect-error -- the factory itself is no decorator
        @Bulkhead
        async query(): Promise<void> {}
      }
      return Search;
    }).toThrow('@Bulkhead must be called');
  });
});

describe('@Bulkhead stacked', () => {
  const time = useVirtualClock();

  it('under @Retry: a rejected call is retried, and gets a slot once one is free', async () => {
    const gate = latch();
    class Api {
      calls = 0;
      @Retry(BulkheadRejectedError, { times: 3, interval: 100 })
      @Bulkhead({ limit: 1 })
      async get(wait: boolean): Promise<string> {
        this.calls++;
        if (wait) await gate.promise;
        return 'ok';
      }
    }
    const api = new Api();
    const slow = api.get(true);
    const retried = capture(api.get(false));
    await time.clock.advance(50);
    gate.open();
    await flush();
    await time.clock.advance(100);
    expect(await retried).toEqual({ ok: true, value: 'ok' });
    await slow;
    expect(policyOf(Api, 'get', 'bulkhead').statistics).toMatchObject({ rejected: 1, admitted: 2 });
  });

  it('under @CircuitBreaker: rejections count as breaker failures (they are errors like any other)', async () => {
    const gate = latch();
    class Api {
      @CircuitBreaker({ threshold: 2, resetTimeout: 1_000 })
      @Bulkhead({ limit: 1 })
      async get(): Promise<void> {
        await gate.promise;
      }
    }
    const api = new Api();
    const running = api.get();
    await expect(api.get()).rejects.toBeInstanceOf(BulkheadRejectedError);
    await expect(api.get()).rejects.toBeInstanceOf(BulkheadRejectedError);
    expect(circuitOf(Api, 'get').state).toBe('open');
    gate.open();
    await running;
  });

  it('under @CircuitBreaker whose `on` excludes BulkheadRejectedError: rejections leave the circuit closed', async () => {
    const gate = latch();
    class Api {
      @CircuitBreaker((error) => !(error instanceof BulkheadRejectedError), { threshold: 2, resetTimeout: 1_000 })
      @Bulkhead({ limit: 1 })
      async get(): Promise<void> {
        await gate.promise;
      }
    }
    const api = new Api();
    const running = api.get();
    for (let i = 0; i < 3; i++) await expect(api.get()).rejects.toBeInstanceOf(BulkheadRejectedError);
    expect(circuitOf(Api, 'get').state).toBe('closed');
    expect(circuitOf(Api, 'get').statistics.ignoredErrors).toBe(3);
    gate.open();
    await running;
  });

  it('over @Retry: the slot is held for the whole retrying call', async () => {
    let calls = 0;
    class Api {
      @Bulkhead({ limit: 1 })
      @Retry({ times: 3, interval: 100 })
      async get(): Promise<string> {
        calls++;
        if (calls < 3) throw new Error('flaky');
        return 'ok';
      }
    }
    const api = new Api();
    const first = capture(api.get());
    await expect(api.get()).rejects.toBeInstanceOf(BulkheadRejectedError);
    await time.clock.advance(200);
    expect(await first).toEqual({ ok: true, value: 'ok' });
    expect(policiesOf(Api, 'get').map((p) => p.kind)).toEqual(['bulkhead', 'retry']);
  });

  it('over @CircuitBreaker: a call the open circuit rejects frees its slot at once', async () => {
    class Api {
      @Bulkhead({ limit: 1 })
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      async get(): Promise<void> {
        throw new Error('down');
      }
    }
    const api = new Api();
    await expect(api.get()).rejects.toThrow('down');
    await expect(api.get()).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(api.get()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(policyOf(Api, 'get', 'bulkhead').statistics).toMatchObject({ admitted: 3, rejected: 0, active: 0 });
  });

  it('under @Fallback: a rejected call gets the fallback value', async () => {
    const gate = latch();
    class Api {
      @Fallback('busy', { on: BulkheadRejectedError })
      @Bulkhead({ limit: 1 })
      async get(): Promise<string> {
        await gate.promise;
        return 'done';
      }
    }
    const api = new Api();
    const first = api.get();
    await expect(api.get()).resolves.toBe('busy');
    gate.open();
    await expect(first).resolves.toBe('done');
  });
});
