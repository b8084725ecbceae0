// Policy defaults are process-wide and set once, and jest gives each test file a process of its
// own (its own global object): this file is the life of one process, in order. Decorated classes
// are defined while defaults are awaited, the defaults are set, then what follows.
// Conflicts (defaults set too late, set twice, invalid combinations): policy-defaults-conflicts.test.ts.
import {
  Bulkhead,
  CircuitBreaker,
  RateLimit,
  CircuitOpenError,
  Retry,
  Timeout,
  checkPolicyDefaults,
  circuitOf,
  expectPolicyDefaults,
  livePolicies,
  memoryCircuitStore,
  memoryRateLimitStore,
  policiesOf,
  policyOf,
  setPolicyDefaults,
  type CircuitStoreProvider,
  type PolicyDefaults,
  type RateLimitStoreProvider,
} from '@staunch/decorators';
import { planOf } from '../../packages/decorators/src/interceptor';
import { HttpError, capture, useVirtualClock } from './helpers';

class Unavailable extends Error {}

describe('checkPolicyDefaults', () => {
  it('names who gave the defaults, the policy and the option of an invalid default', () => {
    expect(() => checkPolicyDefaults({ retry: { times: 1.5 } }, 'StaunchModule.forRoot')).toThrow(
      'StaunchModule.forRoot: defaults.retry: `times` must be',
    );
    expect(() => checkPolicyDefaults({ bulkhead: { limit: -1 } })).toThrow(
      'setPolicyDefaults: defaults.bulkhead: `limit` must be',
    );
  });

  it('rejects a key that is no policy, listing the policies', () => {
    const misspelt = { retri: { times: 3 } } as unknown as PolicyDefaults;
    expect(() => checkPolicyDefaults(misspelt, 'app')).toThrow(
      'app: `defaults.retri` is not a policy; expected retry, circuitBreaker, timeout,',
    );
  });

  it("rejects an option that belongs to each method (a circuit's name, a scope, a store)", () => {
    const named = { circuitBreaker: { name: 'payments' } } as unknown as PolicyDefaults;
    expect(() => checkPolicyDefaults(named, 'app')).toThrow(
      'app: defaults.circuitBreaker: `name` cannot be a default (it belongs to each decorated method).',
    );
    const scoped = { bulkhead: { scope: 'instance' } } as unknown as PolicyDefaults;
    expect(() => checkPolicyDefaults(scoped, 'app')).toThrow('`scope` cannot be a default');
  });

  it('accepts the options of every policy', () => {
    expect(() =>
      checkPolicyDefaults({
        retry: { times: 5, interval: 200, on: Unavailable },
        circuitBreaker: { threshold: 5, resetTimeout: 30_000, on: [Unavailable] },
        timeout: {},
        bulkhead: { limit: 4, queue: 10 },
        rateLimit: { per: 1_000, queue: 5 },
        hedge: { delay: 100, maxHedged: 2 },
        asyncBackoff: { pause: 50, maxTries: 4 },
        asyncRetry: { pause: 50 },
        poll: { interval: 500, timeout: 5_000 },
        fallback: { on: Unavailable },
      }),
    ).not.toThrow();
  });
});

describe('policy defaults awaited (expectPolicyDefaults), then set', () => {
  const virtual = useVirtualClock();
  expectPolicyDefaults();

  const defaults: PolicyDefaults = {
    retry: { times: 4, interval: 500 },
    circuitBreaker: { threshold: 2, on: Unavailable },
    rateLimit: { per: 2_000 },
  };

  let calls = 0;
  class Billing {
    @Retry({ interval: 10 }) // times from the defaults, interval its own
    async charge(): Promise<string> {
      calls++;
      throw new Unavailable('down');
    }

    @CircuitBreaker({ resetTimeout: 1_000 }) // threshold and `on` from the defaults
    async refund(error: Error): Promise<void> {
      throw error;
    }

    @Retry({ times: 2, interval: 0 }) // every option its own: the defaults change nothing
    @Timeout(50)
    async status(): Promise<string> {
      return 'ok';
    }
  }

  // Stores of named state, recording what they are asked for (and with which options).
  const asked: string[] = [];
  const circuits: CircuitStoreProvider = {
    circuit: (name, options) => {
      asked.push(`circuit ${name} threshold ${options.threshold}`);
      return memoryCircuitStore();
    },
  };
  const limits: RateLimitStoreProvider = {
    rateLimit: (name, options) => {
      asked.push(`rate limit ${name} per ${options.per}`);
      return memoryRateLimitStore(options);
    },
  };
  class Shared {
    @CircuitBreaker({ store: circuits, name: 'payments' })
    @RateLimit({ permits: 5, store: limits, name: 'payments' })
    async pay(): Promise<void> {}
  }

  it("still rejects a decorator's own bad option when its class is defined", () => {
    expect(() => {
      class Broken {
        @Retry({ times: 1.5 })
        async run(): Promise<void> {}
      }
      return Broken;
    }).toThrow('@Retry on run(): `times` must be');
  });

  it('lists a waiting method in livePolicies only once its policy is built, and asks no store for its state', () => {
    new Billing();
    new Shared();
    expect(livePolicies().filter((row) => row.class === 'Billing' || row.class === 'Shared')).toEqual([]);
    expect(asked).toEqual([]); // validating the decorators' options made no circuit and no limit
  });

  it('builds every waiting method when the defaults are set: its own options first, the defaults for the rest', () => {
    setPolicyDefaults(defaults, { by: 'the test' });
    expect(policyOf(Billing, 'charge', 'retry').options).toMatchObject({ times: 4, interval: 10 });
    expect(circuitOf(Billing, 'refund').options).toMatchObject({ threshold: 2, resetTimeout: 1_000, on: Unavailable });
    expect(policyOf(Billing, 'status', 'retry').options).toMatchObject({ times: 2, interval: 0 });
    const rows = livePolicies().filter((row) => row.class === 'Billing');
    expect(rows.map((row) => `${row.kind} ${row.method}`).sort()).toEqual([
      'circuitBreaker refund',
      'retry charge',
      'retry status',
      'timeout status',
    ]);
  });

  it('asks the stores of named state once, for the real policies, with the defaults', () => {
    expect(asked.sort()).toEqual(['circuit payments threshold 2', 'rate limit payments per 2000']);
  });

  it("swaps the built layers into the method's plan: nothing deferred is left on the call path", () => {
    for (const method of ['charge', 'refund', 'status'] as const) {
      const layers = planOf(Billing.prototype[method])?.layers ?? [];
      expect(layers.length).toBeGreaterThan(0);
      expect(layers.filter((layer) => 'deferred' in layer)).toEqual([]);
    }
  });

  it('describes each method with the options it runs with (policiesOf)', () => {
    expect(policiesOf(Billing, 'charge')).toEqual([
      { kind: 'retry', options: policyOf(Billing, 'charge', 'retry').options },
    ]);
    expect(policiesOf(Billing, 'charge')[0]?.options).toMatchObject({ times: 4, interval: 10 });
  });

  it('runs with the merged options: retries as many times as the defaults say, as far apart as the method says', async () => {
    const outcome = capture(new Billing().charge());
    await virtual.clock.advance(30);
    expect(await outcome).toMatchObject({ ok: false, error: expect.any(Unavailable) as unknown });
    expect(calls).toBe(4);
  });

  it("opens a circuit after the defaults' threshold of failures matching the defaults' `on`", async () => {
    const billing = new Billing();
    await capture(billing.refund(new HttpError(500))); // not an Unavailable: not counted
    await capture(billing.refund(new Unavailable('1')));
    await capture(billing.refund(new Unavailable('2')));
    expect((await capture(billing.refund(new Unavailable('3')))).ok).toBe(false);
    expect(circuitOf(Billing, 'refund').state).toBe('open');
    await expect(billing.refund(new Unavailable('4'))).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('builds the policies of a class defined after the defaults were set at once, with them', () => {
    class Later {
      @Retry()
      @Bulkhead({ limit: 2 })
      async run(): Promise<void> {}
    }
    new Later();
    expect(policyOf(Later, 'run', 'retry').options).toMatchObject({ times: 4, interval: 500 });
    expect(livePolicies().filter((row) => row.class === 'Later')).toHaveLength(2);
  });

  it('keeps its own copy: changing the objects given afterwards changes nothing', () => {
    (defaults.retry as { times: number }).times = 9;
    class After {
      @Retry()
      async run(): Promise<void> {}
    }
    expect(policyOf(After, 'run', 'retry').options.times).toBe(4);
    (defaults.retry as { times: number }).times = 4;
  });

  it('lets the same defaults be set again (a second app with the same configuration)', () => {
    const same = { rateLimit: { per: 2_000 }, circuitBreaker: { on: Unavailable, threshold: 2 } };
    expect(() => setPolicyDefaults({ ...same, retry: { interval: 500, times: 4 } })).not.toThrow();
  });

  it('refuses other values, naming who set the first ones and what differs', () => {
    expect(() => setPolicyDefaults({ retry: { times: 5, interval: 500 } }, { by: 'a second app' })).toThrow(
      'a second app: the policy defaults were already set by the test, to other values (`defaults.retry.times`: 4, now 5).',
    );
    expect(policyOf(Billing, 'charge', 'retry').options.times).toBe(4);
  });
});
