import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  Bulkhead,
  CircuitBreaker,
  RateLimit,
  Retry,
  Timeout,
  retryBudget,
  registerPolicy,
  retryPolicy,
} from '@staunch/decorators';
import { instrument } from '@staunch/otel';
import { InMemoryReader, seriesOf, useTelemetry, valueOf } from './sdk';

const settle = (promise: Promise<unknown>): Promise<unknown> => promise.catch((error: unknown) => error);

describe('@staunch/otel metrics', () => {
  const telemetry = useTelemetry();

  it('reports a retry then success: calls by outcome, attempts, with units and Class.method', async () => {
    class Orders {
      calls = 0;
      @Retry({ times: 3, interval: 500 })
      async place(): Promise<string> {
        if (this.calls++ === 0) throw new Error('flaky');
        return 'placed';
      }
    }
    telemetry.start();
    const placed = new Orders().place();
    await telemetry.clock.advance(500);
    expect(await placed).toBe('placed');
    const found = await telemetry.reader.staunch();
    const calls = found.get('staunch.calls');
    expect(calls?.descriptor).toEqual(expect.objectContaining({ unit: '{call}', type: 'OBSERVABLE_COUNTER' }));
    const policy = {
      'staunch.policy.kind': 'retry',
      'staunch.policy.scope': 'class',
      'code.function.name': 'Orders.place',
    };
    expect(valueOf(calls, { ...policy, 'staunch.outcome': 'success' })).toBe(1);
    expect(valueOf(calls, { ...policy, 'staunch.outcome': 'failure' })).toBe(0);
    expect(found.get('staunch.attempts')?.descriptor.unit).toBe('{attempt}');
    expect(valueOf(found.get('staunch.attempts'), policy)).toBe(2);
  });

  it('reports calls a retry budget ended as budget_exhausted, apart from the other failures', async () => {
    const budget = retryBudget({ ratio: 0.1, minPerSecond: 0.1, window: 10_000 }); // one retry in the window
    class Catalog {
      @Retry({ times: 2, interval: 100, budget }) // one retry each, if the budget allows it
      async item(): Promise<string> {
        throw new Error('down');
      }
    }
    telemetry.start();
    const catalog = new Catalog();
    const calls = [settle(catalog.item()), settle(catalog.item())];
    await telemetry.clock.advance(1_000);
    await Promise.all(calls);
    const found = (await telemetry.reader.staunch()).get('staunch.calls');
    const policy = { 'staunch.policy.kind': 'retry', 'code.function.name': 'Catalog.item' };
    expect(valueOf(found, { ...policy, 'staunch.outcome': 'budget_exhausted' })).toBe(1);
    expect(valueOf(found, { ...policy, 'staunch.outcome': 'failure' })).toBe(1);
    expect(valueOf(found, { ...policy, 'staunch.outcome': 'success' })).toBe(0);
  });

  it('reports a circuit opening and closing: the state gauge, transitions and rejections', async () => {
    class Inventory {
      failing = true;
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      async stock(): Promise<number> {
        if (this.failing) throw new Error('down');
        return 3;
      }
    }
    telemetry.start();
    const inventory = new Inventory();
    const circuit = { 'staunch.policy.kind': 'circuitBreaker', 'code.function.name': 'Inventory.stock' };
    const stateOf = async (): Promise<Record<string, number | undefined>> => {
      const gauge = (await telemetry.reader.staunch()).get('staunch.circuit.state');
      expect(gauge?.descriptor.unit).toBe('{circuit}');
      const states = ['closed', 'open', 'half-open', 'isolated'];
      return Object.fromEntries(states.map((s) => [s, valueOf(gauge, { ...circuit, 'staunch.circuit.state': s })]));
    };
    expect(await stateOf()).toEqual({ closed: 1, open: 0, 'half-open': 0, isolated: 0 });
    await settle(inventory.stock());
    await settle(inventory.stock());
    expect(await stateOf()).toEqual({ closed: 0, open: 1, 'half-open': 0, isolated: 0 });
    await telemetry.clock.advance(1_000);
    inventory.failing = false;
    expect(await inventory.stock()).toBe(3);
    expect(await stateOf()).toEqual({ closed: 1, open: 0, 'half-open': 0, isolated: 0 });
    const found = await telemetry.reader.staunch();
    expect(valueOf(found.get('staunch.calls'), { ...circuit, 'staunch.outcome': 'rejected' })).toBe(1);
    expect(valueOf(found.get('staunch.calls'), { ...circuit, 'staunch.outcome': 'failure' })).toBe(1);
    const transitions = found.get('staunch.circuit.transitions');
    expect(transitions?.descriptor.unit).toBe('{transition}');
    const change = (from: string, to: string): number | undefined =>
      valueOf(transitions, {
        ...circuit,
        'staunch.circuit.previous_state': from,
        'staunch.circuit.state': to,
      });
    expect([change('closed', 'open'), change('open', 'half-open'), change('half-open', 'closed')]).toEqual([1, 1, 1]);
  });

  it('reports a timeout as its own outcome', async () => {
    class Search {
      @Timeout(100)
      async query(): Promise<void> {
        await new Promise(() => undefined);
      }
    }
    telemetry.start();
    const call = settle(new Search().query());
    await telemetry.clock.advance(100);
    await call;
    const calls = (await telemetry.reader.staunch()).get('staunch.calls');
    const policy = { 'staunch.policy.kind': 'timeout', 'code.function.name': 'Search.query' };
    expect(valueOf(calls, { ...policy, 'staunch.outcome': 'timeout' })).toBe(1);
    expect(valueOf(calls, { ...policy, 'staunch.outcome': 'failure' })).toBe(0);
  });

  it('reports the calls running and waiting in a bulkhead', async () => {
    class Uploads {
      @Bulkhead({ limit: 1, queue: 5 })
      async send(): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    telemetry.start();
    const uploads = new Uploads();
    const sends = [uploads.send(), uploads.send(), uploads.send()];
    const found = await telemetry.reader.staunch();
    const policy = { 'code.function.name': 'Uploads.send' };
    expect(valueOf(found.get('staunch.bulkhead.active'), policy)).toBe(1);
    expect(valueOf(found.get('staunch.bulkhead.queued'), policy)).toBe(2);
    await Promise.all(sends);
  });

  it('reports a rate limiter’s calls by outcome and the calls waiting for a permit', async () => {
    class Geocoder {
      @RateLimit({ permits: 1, per: 1_000, queue: 1 })
      async lookup(): Promise<void> {}
    }
    telemetry.start();
    const geocoder = new Geocoder();
    const calls = [geocoder.lookup(), geocoder.lookup(), settle(geocoder.lookup())];
    const found = await telemetry.reader.staunch();
    const policy = { 'staunch.policy.kind': 'rateLimit', 'code.function.name': 'Geocoder.lookup' };
    expect(valueOf(found.get('staunch.rate_limit.queued'), { 'code.function.name': 'Geocoder.lookup' })).toBe(1);
    expect(valueOf(found.get('staunch.calls'), { ...policy, 'staunch.outcome': 'admitted' })).toBe(1);
    expect(valueOf(found.get('staunch.calls'), { ...policy, 'staunch.outcome': 'rejected' })).toBe(1);
    await telemetry.clock.advance(1_000);
    await Promise.all(calls);
  });

  it('sums keyed circuits into one series per method, and reports each key only when asked', async () => {
    class Hosts {
      @CircuitBreaker({ key: (_self: Hosts, [host]: [string]) => host })
      async get(_host: string): Promise<void> {}
    }
    const hosts = new Hosts();
    await Promise.all([hosts.get('a'), hosts.get('b'), hosts.get('c')]);
    telemetry.start();
    const summed = (await telemetry.reader.staunch()).get('staunch.circuit.state');
    const method = { 'code.function.name': 'Hosts.get' };
    expect(valueOf(summed, { ...method, 'staunch.circuit.state': 'closed' })).toBe(3);
    expect(seriesOf(summed).some((attributes) => 'staunch.key' in attributes)).toBe(false);

    const reader = new InMemoryReader();
    const perKey = instrument({ meterProvider: new MeterProvider({ readers: [reader] }), keys: true });
    const gauge = (await reader.staunch()).get('staunch.circuit.state');
    perKey.stop();
    expect(valueOf(gauge, { ...method, 'staunch.key': 'b', 'staunch.circuit.state': 'closed' })).toBe(1);
  });

  it('still reports when instrumented before the SDK registers (opentelemetry-js#3622)', async () => {
    const policy = retryPolicy({ times: 1 });
    registerPolicy(policy, 'retry', { name: 'early' });
    const early = instrument({ providerCheckInterval: 1_000 }); // the global provider is still the no-op one
    try {
      await policy.execute(async () => 'ok');
      const reader = new InMemoryReader();
      metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
      await telemetry.clock.advance(1_000); // staunch looks again, finds the SDK and remakes its instruments
      const calls = (await reader.staunch()).get('staunch.calls');
      expect(valueOf(calls, { 'staunch.policy.name': 'early', 'staunch.outcome': 'success' })).toBe(1);
      expect(telemetry.clock.pending).toBe(0); // and stops looking
    } finally {
      early.stop();
    }
  });

  it('reports through the global provider registered before instrumenting', async () => {
    const reader = new InMemoryReader();
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    const late = instrument();
    try {
      expect(telemetry.clock.pending).toBe(0); // a real provider: nothing to look for
      expect((await reader.staunch()).has('staunch.calls')).toBe(true);
    } finally {
      late.stop();
    }
  });

  it('stops reporting when stopped: no callback, no listener, no timer left', async () => {
    class Jobs {
      @CircuitBreaker({ threshold: 1 })
      async run(): Promise<void> {
        throw new Error('down');
      }
    }
    const early = instrument();
    const instrumentation = telemetry.start();
    expect(telemetry.clock.pending).toBe(1);
    early.stop();
    instrumentation.stop();
    instrumentation.stop();
    expect(telemetry.clock.pending).toBe(0);
    await settle(new Jobs().run()); // opens the circuit: a transition nobody counts any more
    expect((await telemetry.reader.staunch()).size).toBe(0);
  });
});
