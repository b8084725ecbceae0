import type { Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { Retry, Timeout } from '@staunch/decorators';
import { durationBuckets } from '@staunch/otel';
import { useTelemetry } from './sdk';

const settle = (promise: Promise<unknown>): Promise<unknown> => promise.catch((error: unknown) => error);

/** The histogram point of `metric` whose attributes include `match`: its count, sum and buckets. */
function pointOf(metric: MetricData | undefined, match: Record<string, string>): Histogram | undefined {
  const hits = (metric?.dataPoints ?? []).filter((point) =>
    Object.entries(match).every(([name, value]) => point.attributes[name] === value),
  );
  if (hits.length > 1) throw new Error(`${hits.length} data points match ${JSON.stringify(match)}`);
  return hits[0]?.value as Histogram | undefined;
}

describe('@staunch/otel call durations', () => {
  const telemetry = useTelemetry();

  it('records a call that takes 250 virtual ms as 0.25 s, in seconds, with the advised buckets', async () => {
    class Orders {
      calls = 0;
      @Retry({ times: 3, interval: 200 })
      async place(): Promise<string> {
        await telemetry.clock.sleep(25);
        if (this.calls++ === 0) throw new Error('flaky');
        return 'placed';
      }
    }
    telemetry.start({ durations: true });
    const placed = new Orders().place();
    await telemetry.clock.advance(250);
    expect(await placed).toBe('placed');
    const metric = (await telemetry.reader.staunch()).get('staunch.call.duration');
    expect(metric?.descriptor).toEqual(expect.objectContaining({ unit: 's', type: 'HISTOGRAM' }));
    const point = pointOf(metric, {
      'staunch.policy.kind': 'retry',
      'code.function.name': 'Orders.place',
      'staunch.outcome': 'success',
    });
    expect(point?.count).toBe(1);
    expect(point?.sum).toBe(0.25);
    expect(point?.buckets.boundaries).toEqual(durationBuckets);
  });

  it('records a call that gives up as a failure, and a timed-out one as a timeout', async () => {
    class Search {
      @Retry({ times: 2, interval: 100 })
      async find(): Promise<string> {
        await telemetry.clock.sleep(10);
        throw new Error('down');
      }
      @Timeout(300)
      async slow(): Promise<string> {
        await telemetry.clock.sleep(1_000);
        return 'late';
      }
    }
    telemetry.start({ durations: true });
    const search = new Search();
    const found = settle(search.find());
    const slow = settle(search.slow());
    await telemetry.clock.advance(1_000);
    await Promise.all([found, slow]);
    const metric = (await telemetry.reader.staunch()).get('staunch.call.duration');
    const failure = pointOf(metric, { 'code.function.name': 'Search.find', 'staunch.outcome': 'failure' });
    expect([failure?.count, failure?.sum]).toEqual([1, 0.12]);
    const timeout = pointOf(metric, { 'code.function.name': 'Search.slow', 'staunch.outcome': 'timeout' });
    expect([timeout?.count, timeout?.sum]).toEqual([1, 0.3]);
  });

  it('records nothing and reads no clock per call when durations are off (the default)', async () => {
    class Orders {
      calls = 0;
      @Retry({ times: 3, interval: 200 })
      async place(): Promise<string> {
        if (this.calls++ % 2 === 0) throw new Error('flaky');
        return 'placed';
      }
    }
    telemetry.start();
    const orders = new Orders();
    const now = jest.spyOn(telemetry.clock, 'now');
    for (let i = 0; i < 3; i++) {
      const placed = orders.place();
      await telemetry.clock.advance(200);
      expect(await placed).toBe('placed');
    }
    expect(now).not.toHaveBeenCalled();
    now.mockRestore();
    const found = await telemetry.reader.staunch();
    expect(found.has('staunch.calls')).toBe(true);
    expect(found.has('staunch.call.duration')).toBe(false);
  });

  it('stops recording durations when stopped', async () => {
    class Orders {
      @Retry({ times: 1 })
      async place(): Promise<string> {
        await telemetry.clock.sleep(50);
        return 'placed';
      }
    }
    const instrumentation = telemetry.start({ durations: true });
    const orders = new Orders();
    const first = orders.place();
    await telemetry.clock.advance(50);
    await first;
    instrumentation.stop();
    const now = jest.spyOn(telemetry.clock, 'now');
    const second = orders.place();
    await telemetry.clock.advance(50);
    await second;
    expect(now).not.toHaveBeenCalled();
    now.mockRestore();
    const metric = (await telemetry.reader.staunch()).get('staunch.call.duration');
    expect(pointOf(metric, { 'code.function.name': 'Orders.place' })?.count).toBe(1);
  });
});
