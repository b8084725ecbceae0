import type { InstrumentOptions, Instrumentation } from '@staunch/otel';

/**
 * Starts `instrument()` of `@staunch/otel`, loaded only now: it is an optional peer, so an app
 * without telemetry needs neither it nor OpenTelemetry. Throws a clear error when it is asked
 * for and not installed.
 */
export async function startTelemetry(options: InstrumentOptions | undefined): Promise<Instrumentation> {
  let otel: typeof import('@staunch/otel');
  try {
    otel = await import('@staunch/otel');
  } catch (error) {
    if (!isMissing(error)) throw error;
    throw new Error(
      'StaunchModule: `telemetry` needs @staunch/otel and @opentelemetry/api, which are not installed: ' +
        'npm install @staunch/otel @opentelemetry/api (and an OpenTelemetry SDK to export the metrics).',
      { cause: error },
    );
  }
  return otel.instrument(options);
}

// Not found: @staunch/otel itself, or the OpenTelemetry API it needs.
function isMissing(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    (message.includes('@staunch/otel') || message.includes('@opentelemetry/api'))
  );
}
