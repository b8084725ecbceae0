// The @staunch/otel scenarios: the decorated happy paths with OpenTelemetry's SDK registered and
// staunch instrumented into it, held to ≤ 1.1x the same method uninstrumented. The uninstrumented
// rows run in processes of their own (instrumenting is process-wide: a reference in the same
// process would be instrumented too), so the target compares the two `× bare` medians.

import { join } from 'node:path';
import { VALUE } from './baselines.mjs';
import { outDir } from './compile.mjs';

const isValue = (result) => result === VALUE;
const value = (op) => ({ op, kind: 'value', check: isValue });
const decorated = async () => new (await import(join(outDir, 'staunch.mjs'))).Service();

/** The group, after the others in table order. */
export const otelGroup = {
  id: 'otel',
  title: '@staunch/otel: instrumented happy path (SDK MeterProvider registered)',
  target: { versus: true, max: 1.1, text: '≤ 1.1x the same uninstrumented' },
};

// The real SDK's MeterProvider, registered globally with a reader that is collected from once
// (so the observable callbacks are known to run), and staunch instrumented through the global API.
async function instrumented(options) {
  const { metrics } = await import('@opentelemetry/api');
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  const { instrument } = await import('@staunch/otel');
  class Reader extends MetricReader {
    async onShutdown() {}
    async onForceFlush() {}
  }
  const reader = new Reader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const telemetry = instrument(options);
  const { resourceMetrics } = await reader.collect();
  const names = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((m) => m.descriptor.name));
  if (!names.includes('staunch.calls')) throw new Error('otel scenario: staunch.calls is not reported');
  return async () => {
    telemetry.stop();
    await meterProvider.shutdown();
    metrics.disable();
  };
}

// A recording span active for every call, without the cost of propagating it (a context manager whose
// active context is fixed): what remains is what staunch adds while a span is active.
async function recordingSpanActive() {
  const { context, trace, ROOT_CONTEXT } = await import('@opentelemetry/api');
  const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
  const tracerProvider = new BasicTracerProvider();
  const span = tracerProvider.getTracer('bench').startSpan('request');
  if (!span.isRecording()) throw new Error('otel scenario: the span does not record');
  const active = trace.setSpan(ROOT_CONTEXT, span);
  context.setGlobalContextManager({
    active: () => active,
    with: (_context, fn, thisArg, ...args) => fn.call(thisArg, ...args),
    bind: (_context, target) => target,
    enable() {
      return this;
    },
    disable() {
      return this;
    },
  });
  if (trace.getActiveSpan() !== span) throw new Error('otel scenario: the span is not active');
  return async () => {
    span.end();
    context.disable();
    await tracerProvider.shutdown();
  };
}

// `options`: what `instrument()` is given; an opt-in feature's row reports its ratio, held to no target.
const happyPath = (id, title, versus, method, withSpan, options) => ({
  id,
  group: 'otel',
  library: 'staunch',
  title,
  versus,
  targeted: options === undefined,
  make: async () => {
    const service = await decorated();
    const stops = [await instrumented(options)];
    if (withSpan) stops.push(await recordingSpanActive());
    return {
      ...value(() => service[method]()),
      dispose: async () => {
        for (const stop of stops) await stop();
      },
    };
  },
});

/** @type {import('./scenarios.mjs').Scenario[]} */
export const otelScenarios = [
  happyPath('otel-retry', '`@Retry`, instrumented', 'retry-decorated', 'retried', false),
  happyPath('otel-breaker', '`@CircuitBreaker`, instrumented', 'breaker-decorated', 'guarded', false),
  happyPath('otel-retry-span', '`@Retry`, instrumented, a recording span active', 'retry-decorated', 'retried', true),
  happyPath(
    'otel-breaker-span',
    '`@CircuitBreaker`, instrumented, a recording span active',
    'breaker-decorated',
    'guarded',
    true,
  ),
  happyPath('otel-retry-durations', '`@Retry`, opt-in duration histogram', 'retry-decorated', 'retried', false, {
    durations: true,
  }),
];
