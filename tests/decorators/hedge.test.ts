import {
  AsyncBackoff,
  Hedge,
  HedgeAbandonedError,
  Retry,
  attemptSignal,
  hedgePolicy,
  policiesOf,
  policyOf,
  retryBudget,
} from '@staunch/decorators';
import { capture, useVirtualClock } from './helpers';

describe('@Hedge', () => {
  const time = useVirtualClock();

  it('calls the method again after `delay` ms and resolves with the first success, aborting the loser', async () => {
    const signals: AbortSignal[] = [];
    class Users {
      @Hedge({ delay: 100 })
      async fetch(id: string): Promise<string> {
        const signal = attemptSignal();
        signals.push(signal);
        await time.clock.sleep(signals.length === 1 ? 1_000 : 20);
        return `${id} #${signals.length}`;
      }
    }
    const call = capture(new Users().fetch('u1'));
    await time.clock.advance(120);
    expect(await call).toEqual({ ok: true, value: 'u1 #2' });
    expect(signals[0]?.reason).toBeInstanceOf(HedgeAbandonedError);
    expect(signals[1]?.aborted).toBe(false);
    expect(policyOf(Users, 'fetch', 'hedge').statistics).toMatchObject({ calls: 1, attempts: 2, hedges: 1 });
  });

  it('records its options and scope, readable with policiesOf', () => {
    class Users {
      @Hedge({ delay: 50, maxHedged: 2, scope: 'instance' })
      async fetch(): Promise<void> {}
    }
    expect(policiesOf(Users, 'fetch')).toEqual([
      {
        kind: 'hedge',
        scope: 'instance',
        options: { delay: 50, percentile: undefined, maxHedged: 2, on: undefined, budget: undefined, clock: undefined },
      },
    ]);
  });

  it("keeps one latency window per instance with scope 'instance', and per key with `key`", async () => {
    class Users {
      @Hedge({ percentile: 50, scope: 'instance' })
      async fetch(): Promise<number> {
        return 1;
      }

      @Hedge({ delay: 10, key: (_self: Users, [host]: [string]) => host, maxKeys: 5 })
      async get(host: string): Promise<string> {
        return host;
      }
    }
    const a = new Users();
    const b = new Users();
    await a.fetch();
    expect(policyOf(a, 'fetch', 'hedge')).not.toBe(policyOf(b, 'fetch', 'hedge'));
    expect(policyOf(a, 'fetch', 'hedge').statistics.calls).toBe(1);
    expect(policyOf(b, 'fetch', 'hedge').statistics.calls).toBe(0);
    await a.get('x');
    await b.get('x');
    expect(policyOf(a, 'get', 'hedge', 'x').statistics.calls).toBe(2);
    expect(() => policyOf(Users, 'fetch', 'hedge')).toThrow("one @Hedge per instance (scope 'instance')");
  });

  it('shares a policy made by hedgePolicy() between methods', async () => {
    const shared = hedgePolicy({ delay: 100 });
    class Api {
      @Hedge({ hedge: shared })
      async a(): Promise<number> {
        return 1;
      }
      @Hedge({ hedge: shared })
      async b(): Promise<number> {
        return 2;
      }
    }
    const api = new Api();
    await api.a();
    await api.b();
    expect(policyOf(Api, 'a', 'hedge')).toBe(shared);
    expect(shared.statistics.calls).toBe(2);
  });

  it('rejects bad options at class definition, naming the decorator, the method and the option', () => {
    const define = (options: object) => {
      class Users {
        @Hedge(options as never)
        async fetch(): Promise<void> {}
      }
      return Users;
    };
    expect(() => define({ maxHedged: 0 })).toThrow('@Hedge on fetch(): `maxHedged` must be an integer >= 1, got 0.');
    expect(() => define({ delay: -5 })).toThrow('@Hedge on fetch(): `delay` must be a finite number >= 0, got -5.');
    expect(() => define({ percentile: 101 })).toThrow('@Hedge on fetch(): `percentile` must be a number in (0, 100]');
    expect(() => define({ hedge: {} })).toThrow('@Hedge on fetch(): `hedge` must be a policy made by hedgePolicy()');
    expect(() => define({ hedge: hedgePolicy(), delay: 1 })).toThrow('`hedge` must be given alone');
    expect(() => define({ scope: 'global' })).toThrow("@Hedge on fetch(): `scope` must be 'class' or 'instance'");
  });
});

describe('the `budget` option on the decorators', () => {
  const time = useVirtualClock();

  it('is shared by @Retry and @AsyncBackoff, and rejected at class definition when it is no budget', async () => {
    const budget = retryBudget({ ratio: 0, minPerSecond: 1, window: 1_000 }); // one retry in all
    let calls = 0;
    class Api {
      @Retry({ times: 3, interval: 0, budget })
      async a(): Promise<never> {
        calls++;
        throw new Error('down');
      }
      @AsyncBackoff({ maxTries: 3, on: Error, budget })
      async b(): Promise<never> {
        calls++;
        throw new Error('down');
      }
    }
    const api = new Api();
    const a = capture(api.a());
    await time.clock.runAll();
    expect(await a).toMatchObject({ ok: false });
    expect(await capture(api.b())).toMatchObject({ ok: false });
    expect(calls).toBe(3); // a: 2 (one retry), b: 1 (refused)
    expect(policyOf(Api, 'b', 'asyncBackoff').statistics.budgetExhausted).toBe(1);
    expect(() => {
      class Bad {
        @Retry({ budget: { ratio: 0.2 } as never })
        async x(): Promise<void> {}
      }
      return Bad;
    }).toThrow('@Retry on x(): `budget` must be a budget made by retryBudget(), got an object.');
  });
});
