import {
  Bulkhead,
  CircuitBreaker,
  Fallback,
  Hedge,
  RateLimit,
  Retry,
  Timeout,
  bulkheadPolicy,
  circuitBreaker,
  circuitOf,
  hedgePolicy,
  livePolicies,
  policyHealth,
  policyOf,
  rateLimitPolicy,
  watchPolicies,
  type LivePolicy,
} from '@staunch/decorators';
import { collectGarbage } from '../core/gc';
import { useVirtualClock } from './helpers';

const rowsOf = (className: string, each = false): LivePolicy[] =>
  livePolicies({ each }).filter((row) => row.class === className);
const fail = (): Promise<never> => Promise.reject(new Error('down'));

describe('livePolicies of decorated methods', () => {
  const holder = useVirtualClock();

  it('lists a class-scoped circuit with its class, method, scope and state, before any call', () => {
    class Billing {
      @CircuitBreaker({ threshold: 1 })
      async charge(): Promise<void> {}
    }
    new Billing(); // TC39 decorators learn the class name when the class or its first instance is made
    expect(rowsOf('Billing')).toEqual([
      expect.objectContaining({
        kind: 'circuitBreaker',
        name: 'charge',
        class: 'Billing',
        method: 'charge',
        scope: 'class',
        count: 1,
        state: 'closed',
        health: 'up',
        policy: circuitOf(Billing, 'charge'),
      }),
    ]);
  });

  it('lists every policy of a stack once, the factory-made ones under the method', () => {
    class Catalog {
      @Fallback(null)
      @Retry({ times: 2 })
      @Timeout(1_000)
      async product(): Promise<string | null> {
        return 'p';
      }
      @Retry()
      static async all(): Promise<void> {}
    }
    expect(rowsOf('Catalog').map((row) => row.method)).toEqual(['all']); // static: known once the class exists
    new Catalog();
    const rows = rowsOf('Catalog');
    expect(rows.map((row) => `${row.kind} ${row.method} ${row.scope}`).sort()).toEqual([
      'fallback product class',
      'retry all class',
      'retry product class',
      'timeout product class',
    ]);
    expect(rows.find((row) => row.kind === 'retry' && row.method === 'product')?.policy).toBe(
      policyOf(Catalog, 'product', 'retry'),
    );
  });

  it('lists instance-scoped circuits as one row counting the instances that called, or one row each', async () => {
    class Client {
      @CircuitBreaker({ scope: 'instance', threshold: 1 })
      async fetch(fails: boolean): Promise<void> {
        if (fails) await fail();
      }
    }
    const [a, b] = [new Client(), new Client()];
    new Client(); // never calls: makes no circuit
    await a.fetch(false);
    await b.fetch(true).catch(() => undefined);
    expect(rowsOf('Client')).toEqual([
      expect.objectContaining({
        scope: 'instance',
        count: 2,
        state: undefined,
        states: { closed: 1, open: 1 },
        health: 'degraded',
        statistics: expect.objectContaining({ calls: 2, successes: 1, failures: 1 }),
        policy: undefined,
      }),
    ]);
    const each = rowsOf('Client', true);
    expect(each.map((row) => row.policy)).toEqual(
      expect.arrayContaining([circuitOf(a, 'fetch'), circuitOf(b, 'fetch')]),
    );
    expect(each).toHaveLength(2);
  });

  it('lists keyed circuits as a count by state, and each key only when asked', async () => {
    class Hosts {
      @CircuitBreaker({ key: (_self: Hosts, [host]: [string]) => host, threshold: 1 })
      async get(host: string): Promise<void> {
        if (host.startsWith('down')) await fail();
      }
    }
    new Hosts();
    await new Hosts().get('up.example').catch(() => undefined);
    await new Hosts().get('down1.example').catch(() => undefined);
    await new Hosts().get('down2.example').catch(() => undefined);
    const [summary] = rowsOf('Hosts');
    expect(summary).toEqual(
      expect.objectContaining({ scope: 'key', key: undefined, count: 3, states: { closed: 1, open: 2 } }),
    );
    expect(summary?.health).toBe('degraded');
    expect(
      rowsOf('Hosts', true)
        .map((row) => `${row.key ?? ''} ${row.state ?? ''}`)
        .sort(),
    ).toEqual(['down1.example open', 'down2.example open', 'up.example closed']);
  });

  it('says a keyed scope is down only when every key is', async () => {
    class Mirror {
      @CircuitBreaker({ key: (_self: Mirror, [host]: [string]) => host, threshold: 1 })
      async get(_host: string): Promise<void> {
        await fail();
      }
    }
    await new Mirror().get('a').catch(() => undefined);
    expect(rowsOf('Mirror')[0]?.health).toBe('down');
    expect(policyHealth().problems.map((row) => row.class)).toContain('Mirror');
  });

  it('forgets the circuits of collected instances', async () => {
    class Session {
      @CircuitBreaker({ scope: 'instance' })
      async ping(): Promise<void> {}
    }
    const kept = new Session();
    await kept.ping();
    let dropped: Session | undefined = new Session();
    await dropped.ping();
    const ref = new WeakRef(circuitOf(dropped, 'ping'));
    expect(rowsOf('Session')[0]?.count).toBe(2);
    dropped = undefined;
    await collectGarbage();
    expect(ref.deref()).toBeUndefined();
    expect(rowsOf('Session')[0]?.count).toBe(1);
    expect(rowsOf('Session', true).map((row) => row.policy)).toEqual([circuitOf(kept, 'ping')]);
  });

  it("lists each instance's circuit once when reading one makes circuits for new instances", async () => {
    class Tenant {
      @CircuitBreaker({ scope: 'instance', threshold: 1, resetTimeout: 1_000 })
      async ping(fails: boolean): Promise<void> {
        if (fails) await fail();
      }
    }
    // The WeakRefs of collected instances' circuits wait to be pruned, and the listener makes enough to prune them.
    for (let i = 0; i < 100; i++) await new Tenant().ping(false);
    await collectGarbage();
    const first = new Tenant();
    await first.ping(true).catch(() => undefined);
    await holder.clock.advance(1_000);
    const made: Tenant[] = [];
    circuitOf(first, 'ping').on('halfOpened', () => {
      for (let i = 0; i < 200; i++) {
        const tenant = new Tenant();
        made.push(tenant);
        void tenant.ping(false);
      }
    });
    const rows = rowsOf('Tenant', true); // reading the first circuit moves it to half-open: the listener runs
    expect(made).toHaveLength(200);
    const listed = rows.map((row) => row.policy);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed).toContain(circuitOf(first, 'ping'));
    expect(rowsOf('Tenant')[0]?.count).toBe(201);
  });

  it('forgets a collected class with all its policies', async () => {
    const define = (): object => {
      class Transient {
        @Retry()
        async run(): Promise<void> {}
      }
      return new Transient();
    };
    let instance: object | undefined = define();
    expect(rowsOf('Transient')).toHaveLength(1);
    instance = undefined;
    await collectGarbage();
    expect(instance).toBeUndefined();
    expect(rowsOf('Transient')).toHaveLength(0);
  });

  it('lists a shared breaker once, as the factory made it, not under the methods sharing it', () => {
    const shared = circuitBreaker({ name: 'shared-payments' });
    class Payments {
      @CircuitBreaker({ breaker: shared })
      async charge(): Promise<void> {}
      @CircuitBreaker({ breaker: shared })
      async refund(): Promise<void> {}
    }
    new Payments();
    const rows = livePolicies().filter((row) => row.policy === shared);
    expect(rows).toEqual([expect.objectContaining({ scope: 'standalone', class: undefined })]);
  });

  it('lists a shared bulkhead, limiter and hedge policy once each, as their factories made them', () => {
    const bulkhead = bulkheadPolicy({ limit: 2 });
    const limiter = rateLimitPolicy({ permits: 5 });
    const hedge = hedgePolicy({ delay: 100 });
    class Search {
      @Bulkhead({ bulkhead })
      @RateLimit({ limiter })
      @Hedge({ hedge })
      async query(): Promise<void> {}
      @Bulkhead({ bulkhead })
      @RateLimit({ limiter })
      @Hedge({ hedge })
      async suggest(): Promise<void> {}
    }
    new Search();
    for (const shared of [bulkhead, limiter, hedge]) {
      const rows = livePolicies().filter((row) => row.policy === shared);
      expect(rows).toEqual([expect.objectContaining({ scope: 'standalone', class: undefined, method: undefined })]);
    }
  });

  it('lists per-instance bulkheads, and tells watchers of each new one with its site', async () => {
    class Worker {
      @Bulkhead({ scope: 'instance', limit: 1 })
      async work(): Promise<void> {}
    }
    const seen: string[] = [];
    const stop = watchPolicies((row) => seen.push(`${row.kind} ${row.class ?? ''}.${row.method ?? ''} ${row.scope}`));
    await new Worker().work();
    stop();
    await new Worker().work();
    expect(seen).toEqual(['bulkhead Worker.work instance']);
    expect(rowsOf('Worker')[0]).toEqual(
      expect.objectContaining({ kind: 'bulkhead', count: 2, states: { accepting: 2 } }),
    );
  });
});
