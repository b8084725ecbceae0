// @Hedge and the `budget` option compiled with `experimentalDecorators` + `emitDecoratorMetadata` (jest project `legacy`).
import 'reflect-metadata';
import {
  Hedge,
  HedgeAbandonedError,
  Retry,
  attemptSignal,
  policiesOf,
  policyOf,
  retryBudget,
  setDefaultClock,
} from '@staunch/decorators';
import { VirtualClock } from '@staunch/core/testing';

describe('legacy mode: @Hedge and retry budgets', () => {
  let clock: VirtualClock;
  let restore: () => void;
  beforeEach(() => {
    clock = new VirtualClock();
    restore = setDefaultClock(clock);
  });
  afterEach(() => restore());

  it('hedges a slow call after `delay`, aborts the loser, and records the policy', async () => {
    const signals: AbortSignal[] = [];
    class Users {
      @Hedge({ delay: 100, scope: 'instance' })
      async fetch(): Promise<number> {
        signals.push(attemptSignal());
        await clock.sleep(signals.length === 1 ? 1_000 : 10);
        return signals.length;
      }
    }
    const users = new Users();
    const call = users.fetch();
    await clock.advance(110);
    expect(await call).toBe(2);
    expect(signals[0]?.reason).toBeInstanceOf(HedgeAbandonedError);
    expect(policyOf(users, 'fetch', 'hedge').statistics).toMatchObject({ calls: 1, hedges: 1 });
    expect(policiesOf(Users, 'fetch')).toMatchObject([{ kind: 'hedge', scope: 'instance' }]);
  });

  it('ends a @Retry call with its last error once the shared budget refuses the retry', async () => {
    const budget = retryBudget({ ratio: 0, minPerSecond: 0, window: 1_000 });
    let calls = 0;
    class Api {
      @Retry({ times: 3, interval: 10, budget })
      async get(): Promise<never> {
        calls++;
        throw new Error(`down ${calls}`);
      }
    }
    await expect(new Api().get()).rejects.toThrow('down 1');
    expect(calls).toBe(1);
    expect(policyOf(Api, 'get', 'retry').statistics.budgetExhausted).toBe(1);
  });
});
