import { context, metrics, trace, type Attributes, type AttributeValue } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type DataPoint, type MetricData } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { setDefaultClock } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { instrument, type InstrumentOptions, type Instrumentation } from '@staunch/otel';

/** The real SDK's reader, read on demand: what a Prometheus scrape or a periodic export would see. */
export class InMemoryReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}

  /** Every staunch metric collected now, by name. */
  async staunch(): Promise<Map<string, MetricData>> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0) throw new Error(`collection failed: ${errors.map(String).join(', ')}`);
    const found = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name.startsWith('staunch.')) found.set(metric.descriptor.name, metric);
      }
    }
    return found;
  }
}

/** The value of the one data point of `metric` whose attributes include `match`. */
export function valueOf(metric: MetricData | undefined, match: Attributes): number | undefined {
  const points = (metric?.dataPoints ?? []) as DataPoint<unknown>[];
  const hits = points.filter((point) => includes(point.attributes, match));
  if (hits.length > 1) throw new Error(`${hits.length} data points match ${JSON.stringify(match)}`);
  return hits[0]?.value as number | undefined;
}

/** The attribute sets of `metric`'s data points. */
export function seriesOf(metric: MetricData | undefined): Attributes[] {
  return ((metric?.dataPoints ?? []) as DataPoint<unknown>[]).map((point) => point.attributes);
}

function includes(attributes: Attributes, match: Attributes): boolean {
  return Object.entries(match).every(([name, value]) => attributes[name] === (value as AttributeValue));
}

/**
 * Each test of the enclosing describe gets a virtual default clock, a meter
 * provider with an in-memory reader, a tracer provider with an in-memory span
 * exporter (and the async-hooks context manager, so spans are active across
 * awaits), and `start()` for staunch's instrumentation, stopped afterwards.
 */
export function useTelemetry(): {
  readonly clock: VirtualClock;
  readonly reader: InMemoryReader;
  readonly meterProvider: MeterProvider;
  readonly spans: InMemorySpanExporter;
  readonly tracerProvider: BasicTracerProvider;
  start(options?: InstrumentOptions): Instrumentation;
  /** Runs `fn` inside an active, recording span named `name`; returns the span once ended. */
  inSpan(name: string, fn: () => Promise<unknown>): Promise<ReadableSpan>;
} {
  const state = {} as {
    clock: VirtualClock;
    reader: InMemoryReader;
    meterProvider: MeterProvider;
    spans: InMemorySpanExporter;
    tracerProvider: BasicTracerProvider;
    restoreClock: () => void;
    started: Instrumentation[];
  };
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  afterAll(() => {
    context.disable();
  });
  beforeEach(() => {
    state.clock = new VirtualClock();
    state.restoreClock = setDefaultClock(state.clock);
    state.reader = new InMemoryReader();
    state.meterProvider = new MeterProvider({ readers: [state.reader] });
    state.spans = new InMemorySpanExporter();
    state.tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(state.spans)] });
    state.started = [];
  });
  afterEach(async () => {
    for (const instrumentation of state.started) instrumentation.stop();
    state.restoreClock();
    metrics.disable();
    trace.disable();
    await state.meterProvider.shutdown();
    await state.tracerProvider.shutdown();
  });
  return {
    get clock() {
      return state.clock;
    },
    get reader() {
      return state.reader;
    },
    get meterProvider() {
      return state.meterProvider;
    },
    get spans() {
      return state.spans;
    },
    get tracerProvider() {
      return state.tracerProvider;
    },
    start(options?: InstrumentOptions): Instrumentation {
      const instrumentation = instrument({ meterProvider: state.meterProvider, ...options });
      state.started.push(instrumentation);
      return instrumentation;
    },
    async inSpan(name: string, fn: () => Promise<unknown>): Promise<ReadableSpan> {
      const tracer = state.tracerProvider.getTracer('test');
      await tracer.startActiveSpan(name, async (span) => {
        try {
          await fn();
        } finally {
          span.end();
        }
      });
      const ended = state.spans.getFinishedSpans().find((span) => span.name === name);
      if (ended === undefined) throw new Error(`no span ${name}`);
      return ended;
    },
  };
}
