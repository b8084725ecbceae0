// @Bulkhead compiled with `experimentalDecorators` + `emitDecoratorMetadata` (jest project `legacy`).
import 'reflect-metadata';
import {
  Bulkhead,
  BulkheadRejectedError,
  CircuitBreaker,
  Retry,
  circuitOf,
  policiesOf,
  policyOf,
} from '@staunch/decorators';
import { useVirtualClock } from '../decorators/helpers';

function latch() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('legacy mode: @Bulkhead', () => {
  const time = useVirtualClock();

  it('limits calls in flight, queues in order, and rejects past the queue and after maxWait', async () => {
    const gate = latch();
    const started: number[] = [];
    class Search {
      @Bulkhead({ limit: 1, queue: 2, maxWait: 1_000 })
      async query(n: number): Promise<number> {
        started.push(n);
        await gate.promise;
        return n;
      }
    }
    const search = new Search();
    const call = (n: number) => search.query(n).catch((error: unknown) => error);
    const calls = [call(1), call(2)];
    await time.clock.advance(500);
    calls.push(call(3), call(4));
    expect(started).toEqual([1]);
    expect(await calls[3]).toMatchObject({ reason: 'full' });
    await time.clock.advance(500);
    expect(await calls[1]).toMatchObject({ reason: 'maxWait' });
    gate.open();
    expect(await Promise.all(calls.slice(0, 3))).toEqual([1, expect.any(BulkheadRejectedError), 3]);
    expect(started).toEqual([1, 3]);
    expect(policiesOf(Search, 'query')).toEqual([
      { kind: 'bulkhead', scope: 'class', options: { limit: 1, queue: 2, maxWait: 1_000, clock: undefined } },
    ]);
    expect(policyOf(Search, 'query', 'bulkhead').statistics).toMatchObject({ admitted: 2, rejected: 2 });
  });

  it('keys bulkheads per argument, and stacks under @Retry and @CircuitBreaker', async () => {
    const gate = latch();
    class Hosts {
      @Retry({ times: 2, interval: 10, on: Error })
      @CircuitBreaker({ threshold: 5 })
      @Bulkhead({ limit: 1, key: (_self, [host]: [string, boolean]) => host })
      async get(host: string, wait: boolean): Promise<string> {
        if (wait) await gate.promise;
        return host;
      }
    }
    const hosts = new Hosts();
    const busy = hosts.get('a', true);
    await expect(hosts.get('b', false)).resolves.toBe('b');
    const rejected = hosts.get('a', false).catch((error: unknown) => error);
    await time.clock.advance(10);
    expect(await rejected).toBeInstanceOf(BulkheadRejectedError);
    expect(circuitOf(Hosts, 'get').statistics.failures).toBe(2);
    expect(policyOf(hosts, 'get', 'bulkhead', 'a').statistics.rejected).toBe(2);
    gate.open();
    await busy;
  });
});
