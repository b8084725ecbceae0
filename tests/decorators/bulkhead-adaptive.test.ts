import { Bulkhead, adaptive, policyOf, type BulkheadLimitEvent } from '@staunch/decorators';
import { useVirtualClock } from './helpers';

describe('@Bulkhead with an adaptive limit', () => {
  const time = useVirtualClock();

  it('learns its limit from the calls it measures on the default clock, and reports it', async () => {
    class Reports {
      @Bulkhead({ limit: adaptive({ algorithm: 'aimd', min: 1, max: 4, initial: 1, window: 1, sample: 1 }), queue: 10 })
      async build(): Promise<string> {
        await time.clock.sleep(10);
        return 'ok';
      }
    }
    const reports = new Reports();
    const policy = policyOf(Reports, 'build', 'bulkhead');
    const events: BulkheadLimitEvent[] = [];
    policy.on('limit', (event) => events.push(event));
    const calls = Array.from({ length: 6 }, () => reports.build());
    await time.clock.runAll();
    expect(await Promise.all(calls)).toEqual(Array(6).fill('ok'));
    expect(events.map((e) => e.limit)).toEqual([2, 3, 4]);
    expect(policy.statistics.limit).toBe(4);
  });

  it("gives each instance its own adaptive limit with scope 'instance'", async () => {
    class Search {
      @Bulkhead({ limit: adaptive({ algorithm: 'vegas', initial: 3, window: 1 }), scope: 'instance' })
      async query(): Promise<void> {
        await time.clock.sleep(5);
      }
    }
    const [a, b] = [new Search(), new Search()];
    const call = a.query();
    await time.clock.runAll();
    await call;
    expect(policyOf(a, 'query', 'bulkhead')).not.toBe(policyOf(b, 'query', 'bulkhead'));
    expect(policyOf(b, 'query', 'bulkhead').statistics.limit).toBe(3);
  });

  it('checks the adaptive options when the class is defined, naming decorator, method and option', () => {
    expect(() => {
      class Search {
        @Bulkhead({ limit: adaptive({ algorithm: 'gradient2', min: 10, max: 5 }) })
        async query(): Promise<void> {}
      }
      return Search;
    }).toThrow('@Bulkhead on query(): `limit.max` must be an integer >= 10, got 5.');
    expect(() => {
      class Search {
        // @ts-expect-error -- not an algorithm
        @Bulkhead({ limit: adaptive({ algorithm: 'reno' }) })
        async query(): Promise<void> {}
      }
      return Search;
    }).toThrow("@Bulkhead on query(): `limit.algorithm` must be 'aimd', 'gradient2' or 'vegas', got \"reno\".");
  });
});
