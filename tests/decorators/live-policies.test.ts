import { AsyncRetry, CircuitBreaker, Retry, circuitOf, policyOf, type RetryEvent } from '@staunch/decorators';
import { capture, useVirtualClock } from './helpers';

describe('policyOf', () => {
  const time = useVirtualClock();

  it('returns the live retry policy of a decorated method, whose events report each retry', async () => {
    class Api {
      calls = 0;
      @Retry({ times: 3, interval: 250 })
      async get(): Promise<string> {
        if (this.calls++ < 2) throw new Error('flaky');
        return 'ok';
      }
    }
    const retries: RetryEvent[] = [];
    const stop = policyOf(Api, 'get', 'retry').on('retry', (event) => retries.push(event));
    const result = capture(new Api().get());
    await time.clock.advance(500);
    stop();
    expect(await result).toEqual({ ok: true, value: 'ok' });
    expect(retries.map((e) => e.delay)).toEqual([250, 250]);
  });

  it('is one policy per decorated method, shared by every instance, with its statistics', async () => {
    class Files {
      @AsyncRetry(2)
      async download(): Promise<void> {}
    }
    await Promise.all([new Files().download(), new Files().download()]);
    const policy = policyOf(new Files(), 'download', 'asyncRetry');
    expect(policy).toBe(policyOf(Files, 'download', 'asyncRetry'));
    expect(policy.statistics).toEqual(expect.objectContaining({ calls: 2, successes: 2 }));
  });

  it('says which decorator is missing', () => {
    class Plain {
      @CircuitBreaker({ threshold: 1, resetTimeout: 1 })
      async m(): Promise<void> {}
    }
    expect(() => policyOf(Plain, 'm', 'retry')).toThrow('"m" has no @Retry on class Plain.');
    expect(() => circuitOf(Plain, 'other')).toThrow('"other" has no @CircuitBreaker on class Plain.');
  });
});
