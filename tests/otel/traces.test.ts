import {
  AsyncRetry,
  CircuitBreaker,
  Fallback,
  Hedge,
  RateLimit,
  Retry,
  Timeout,
  retryPolicy,
} from '@staunch/decorators';
import { useTelemetry } from './sdk';

class Unavailable extends Error {}

const settle = (promise: Promise<unknown>): Promise<unknown> => promise.catch((error: unknown) => error);

describe('@staunch/otel span events', () => {
  const telemetry = useTelemetry();

  it('adds a staunch.retry event per retry to the active span: attempt, delay in seconds, error.type', async () => {
    class Orders {
      calls = 0;
      @Retry({ times: 3, interval: 250 })
      async place(): Promise<void> {
        if (this.calls++ < 2) throw new Unavailable('busy');
      }
    }
    telemetry.start();
    const span = await telemetry.inSpan('checkout', async () => {
      const placed = new Orders().place();
      await telemetry.clock.advance(500);
      await placed;
    });
    expect(span.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'staunch.retry',
        {
          'staunch.policy.kind': 'retry',
          'staunch.policy.scope': 'class',
          'code.function.name': 'Orders.place',
          'staunch.attempt': 1,
          'staunch.retry.delay': 0.25,
          'error.type': 'Unavailable',
        },
      ],
      ['staunch.retry', expect.objectContaining({ 'staunch.attempt': 2, 'error.type': 'Unavailable' })],
    ]);
  });

  it('adds nothing to a span whose calls succeed at once', async () => {
    class Quick {
      @Retry()
      @CircuitBreaker()
      async ok(): Promise<string> {
        return 'ok';
      }
    }
    telemetry.start();
    const span = await telemetry.inSpan('quick', () => new Quick().ok());
    expect(span.events).toEqual([]);
  });

  it('adds staunch.timeout when a call or an attempt times out', async () => {
    class Search {
      @Timeout(100)
      async query(): Promise<void> {
        await new Promise(() => undefined);
      }
    }
    telemetry.start();
    const span = await telemetry.inSpan('search', async () => {
      const call = settle(new Search().query());
      await telemetry.clock.advance(100);
      await call;
    });
    expect(span.events.map((event) => [event.name, event.attributes?.['error.type']])).toEqual([
      ['staunch.timeout', 'CallTimeoutError'],
    ]);
  });

  it('adds staunch.circuit.state_change and staunch.circuit.rejected around an opening circuit', async () => {
    class Inventory {
      @CircuitBreaker({ threshold: 1 })
      async stock(): Promise<void> {
        throw new Unavailable('down');
      }
    }
    telemetry.start();
    const inventory = new Inventory();
    const span = await telemetry.inSpan('stock', async () => {
      await settle(inventory.stock());
      await settle(inventory.stock());
    });
    expect(span.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'staunch.circuit.state_change',
        expect.objectContaining({
          'staunch.circuit.previous_state': 'closed',
          'staunch.circuit.state': 'open',
          'staunch.reason': 'failures',
          'staunch.policy.name': 'stock',
        }),
      ],
      [
        'staunch.circuit.rejected',
        expect.objectContaining({ 'error.type': 'CircuitOpenError', 'code.function.name': 'Inventory.stock' }),
      ],
    ]);
  });

  it('adds staunch.fallback with the error answered', async () => {
    class Catalog {
      @Fallback(null)
      async product(): Promise<string | null> {
        throw new Unavailable('down');
      }
    }
    telemetry.start();
    const span = await telemetry.inSpan('product', () => new Catalog().product());
    expect(span.events.map((event) => [event.name, event.attributes?.['error.type']])).toEqual([
      ['staunch.fallback', 'Unavailable'],
    ]);
  });

  it('adds staunch.rate_limit.rejected with the reason', async () => {
    class Geocoder {
      @RateLimit({ permits: 1, per: 1_000 })
      async lookup(): Promise<void> {}
    }
    telemetry.start();
    const geocoder = new Geocoder();
    const span = await telemetry.inSpan('lookups', async () => {
      await geocoder.lookup();
      await settle(geocoder.lookup());
    });
    expect(span.events.map((event) => [event.name, event.attributes?.['staunch.reason']])).toEqual([
      ['staunch.rate_limit.rejected', 'limit'],
    ]);
  });

  it('adds staunch.hedge for each hedged attempt, with its number and trigger', async () => {
    class Users {
      calls = 0;
      @Hedge({ delay: 50 })
      async fetch(): Promise<string> {
        this.calls++;
        await telemetry.clock.sleep(this.calls === 1 ? 200 : 10);
        return 'user';
      }
    }
    telemetry.start();
    const users = new Users();
    const span = await telemetry.inSpan('fetch', async () => {
      const fetched = users.fetch();
      await telemetry.clock.advance(200);
      await fetched;
    });
    expect(
      span.events.map((event) => [
        event.name,
        event.attributes?.['staunch.attempt'],
        event.attributes?.['staunch.reason'],
      ]),
    ).toEqual([['staunch.hedge', 2, 'delay']]);
  });

  it('follows policies made after instrumenting, such as per-instance circuits', async () => {
    telemetry.start();
    class Client {
      @CircuitBreaker({ scope: 'instance', threshold: 1 })
      async get(): Promise<void> {
        throw new Unavailable('down');
      }
    }
    const later = retryPolicy({ times: 2, interval: 10 });
    const span = await telemetry.inSpan('later', async () => {
      const client = new Client();
      await settle(client.get());
      const retried = settle(later.execute(() => Promise.reject(new Unavailable('once'))));
      await telemetry.clock.advance(10);
      await retried;
    });
    expect(span.events.map((event) => event.name)).toEqual(['staunch.circuit.state_change', 'staunch.retry']);
    expect(span.events[0]?.attributes?.['staunch.policy.scope']).toBe('instance');
  });

  it('adds no event without an active span, nor with spanEvents: false, nor once stopped', async () => {
    class Flaky {
      @AsyncRetry(2, { pause: 10 })
      async run(): Promise<void> {
        throw new Unavailable('down');
      }
    }
    const retried = async (): Promise<void> => {
      const call = settle(new Flaky().run());
      await telemetry.clock.advance(10);
      await call;
    };
    const quiet = telemetry.start({ spanEvents: false });
    expect((await telemetry.inSpan('quiet', retried)).events).toEqual([]);
    quiet.stop();
    const loud = telemetry.start();
    await retried(); // no active span: nothing to add to, nothing thrown
    loud.stop();
    expect((await telemetry.inSpan('stopped', retried)).events).toEqual([]);
  });
});
