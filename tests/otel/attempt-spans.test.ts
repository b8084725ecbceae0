import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Retry, Timeout } from '@staunch/decorators';
import { useTelemetry } from './sdk';

class Unavailable extends Error {}

/** The id of the span `span` is a child of (the SDK's field, under either of its names). */
function parentOf(span: ReadableSpan): string | undefined {
  const fields = span as unknown as { parentSpanContext?: { spanId: string }; parentSpanId?: string };
  return fields.parentSpanContext?.spanId ?? fields.parentSpanId;
}

describe('@staunch/otel attempt spans', () => {
  const telemetry = useTelemetry();

  it('runs each attempt of a retry in its own INTERNAL span under the caller, the method’s spans under it', async () => {
    const tracer = (): ReturnType<typeof trace.getTracer> => telemetry.tracerProvider.getTracer('orders');
    class Orders {
      calls = 0;
      @Retry({ times: 3, interval: 250 })
      async place(): Promise<string> {
        const attempt = ++this.calls;
        await tracer().startActiveSpan(`db.insert ${attempt}`, async (span) => {
          await telemetry.clock.sleep(10);
          span.end();
        });
        if (attempt === 1) throw new Unavailable('busy');
        return 'placed';
      }
    }
    telemetry.start({ attemptSpans: true, tracerProvider: telemetry.tracerProvider });
    const caller = await telemetry.inSpan('checkout', async () => {
      const placed = new Orders().place();
      await telemetry.clock.advance(270);
      expect(await placed).toBe('placed');
    });
    const finished = telemetry.spans.getFinishedSpans();
    const attempts = finished.filter((span) => span.name === 'staunch.attempt');
    expect(attempts.map((span) => [span.kind, parentOf(span), span.attributes, span.status.code])).toEqual([
      [
        SpanKind.INTERNAL,
        caller.spanContext().spanId,
        {
          'staunch.policy.kind': 'retry',
          'staunch.policy.scope': 'class',
          'code.function.name': 'Orders.place',
          'staunch.attempt': 1,
          'error.type': 'Unavailable',
        },
        SpanStatusCode.ERROR,
      ],
      [
        SpanKind.INTERNAL,
        caller.spanContext().spanId,
        {
          'staunch.policy.kind': 'retry',
          'staunch.policy.scope': 'class',
          'code.function.name': 'Orders.place',
          'staunch.attempt': 2,
        },
        SpanStatusCode.UNSET,
      ],
    ]);
    const inserts = ['db.insert 1', 'db.insert 2'].map((name) => finished.find((span) => span.name === name));
    expect(inserts.map((span) => span && parentOf(span))).toEqual(attempts.map((span) => span.spanContext().spanId));
    // On the caller's trace (span times are the SDK's own wall clock, not the virtual one).
    expect(attempts.every((span) => span.spanContext().traceId === caller.spanContext().traceId)).toBe(true);
  });

  it('ends an attempt span when the attempt times out, with the timeout as its error', async () => {
    class Search {
      @Timeout(100)
      async find(): Promise<string> {
        await telemetry.clock.sleep(1_000);
        return 'late';
      }
    }
    telemetry.start({ attemptSpans: true, tracerProvider: telemetry.tracerProvider });
    await telemetry.inSpan('search', async () => {
      const found = new Search().find().catch((error: unknown) => error);
      await telemetry.clock.advance(100);
      expect(await found).toBeInstanceOf(Error);
    });
    const [attempt] = telemetry.spans.getFinishedSpans().filter((span) => span.name === 'staunch.attempt');
    expect([attempt?.attributes['error.type'], attempt?.status.code]).toEqual([
      'CallTimeoutError',
      SpanStatusCode.ERROR,
    ]);
  });

  it('starts no span without attemptSpans, and none after stop()', async () => {
    class Orders {
      @Retry({ times: 2 })
      async place(): Promise<string> {
        return 'placed';
      }
    }
    const instrumentation = telemetry.start({ attemptSpans: true, tracerProvider: telemetry.tracerProvider });
    instrumentation.stop();
    telemetry.start({ tracerProvider: telemetry.tracerProvider });
    await telemetry.inSpan('checkout', async () => {
      expect(await new Orders().place()).toBe('placed');
    });
    expect(telemetry.spans.getFinishedSpans().map((span) => span.name)).toEqual(['checkout']);
  });
});
