import { metrics, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import { getDefaultClock, type Clock, type TimerHandle } from '@staunch/core';
import { PolicyListeners } from './policy-listeners.js';
import { PolicyMetrics } from './metrics.js';
import { startAttemptSpans } from './attempt-spans.js';

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /**
   * Where the metrics go. Default: the global one (`metrics.getMeterProvider()`),
   * followed when an SDK registers later (see the README's "Before the SDK starts").
   */
  readonly meterProvider?: MeterProvider | undefined;
  /** Report metrics (default true). */
  readonly metrics?: boolean | undefined;
  /** Add span events to the active span for retries, timeouts, rejections, fallbacks and circuit changes (default true). */
  readonly spanEvents?: boolean | undefined;
  /**
   * One series per key of keyed policies, with a `staunch.key` attribute
   * (default false: keys are unbounded in number, and each is a time series).
   */
  readonly keys?: boolean | undefined;
  /**
   * Record each call's duration in the `staunch.call.duration` histogram (s),
   * by outcome, for retry, poll, asyncBackoff, asyncRetry and timeout policies
   * (default false: it reads the clock twice per call).
   */
  readonly durations?: boolean | undefined;
  /**
   * Run each attempt of retry, poll, asyncBackoff, asyncRetry and timeout
   * policies inside its own INTERNAL `staunch.attempt` span (default false).
   * Process-wide: the last `instrument()` with it on owns the attempt spans.
   */
  readonly attemptSpans?: boolean | undefined;
  /** Where attempt spans go. Default: the global one, followed when an SDK registers later. */
  readonly tracerProvider?: TracerProvider | undefined;
  /**
   * While no SDK is registered globally, how often (ms) to look for one
   * (default 1,000; on the default clock, unref'd: it never keeps a process alive).
   */
  readonly providerCheckInterval?: number | undefined;
}

/** What {@link instrument} returns. */
export interface Instrumentation {
  /** Stops reporting: removes every listener, callback and timer it added. Idempotent. */
  stop(): void;
}

/**
 * Reports every staunch policy, those alive now and those made later, to
 * OpenTelemetry: metrics read from the policies' statistics at collection time
 * (nothing per call), and span events on the active span when a call retries,
 * times out, is rejected or falls back.
 *
 * @example
 * import { MeterProvider } from '@opentelemetry/sdk-metrics';
 * import { instrument } from '@staunch/otel';
 *
 * const telemetry = instrument({ meterProvider: new MeterProvider() });
 * // … on shutdown:
 * telemetry.stop();
 */
export function instrument(options?: InstrumentOptions): Instrumentation {
  const given = options?.meterProvider;
  const keys = options?.keys === true;
  const interval = options?.providerCheckInterval ?? 1_000;
  if (!(interval > 0))
    throw new RangeError(`instrument: providerCheckInterval must be a number > 0, got ${String(interval)}.`);
  const withMetrics = options?.metrics !== false;
  const durations = withMetrics && options?.durations === true;
  let provider = given ?? metrics.getMeterProvider();
  let reporting = withMetrics ? new PolicyMetrics(provider.getMeter(meterName), keys, durations) : undefined;
  let clock: Clock | undefined;
  let timer: TimerHandle | undefined;
  let stopped = false;

  // opentelemetry-js#3622: instruments made on the global no-op provider stay no-ops even after an SDK
  // registers. So while following the global provider, staunch looks again before reporting, and remakes
  // its instruments on the provider registered since.
  const follow = (): void => {
    if (stopped || given !== undefined || !withMetrics) return;
    const current = metrics.getMeterProvider();
    if (current === provider) return;
    reporting?.stop();
    provider = current;
    reporting = new PolicyMetrics(provider.getMeter(meterName), keys, durations);
  };
  const poll = (): void => {
    timer = undefined;
    follow();
    if (!stopped && isNoop(provider)) schedule();
  };
  const schedule = (): void => {
    clock = getDefaultClock();
    timer = clock.schedule(interval, poll);
    (timer as { unref?: () => void }).unref?.();
  };
  if (given === undefined && withMetrics && isNoop(provider)) schedule();

  const listeners = new PolicyListeners({
    spanEvents: options?.spanEvents !== false,
    keys,
    transition: withMetrics ? (attributes) => reporting?.transitions.add(1, attributes) : undefined,
    duration: durations ? (seconds, attributes) => reporting?.durations?.record(seconds, attributes) : undefined,
    beforeReport: follow,
  });
  const stopAttemptSpans =
    options?.attemptSpans === true ? startAttemptSpans(options.tracerProvider, meterName) : undefined;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      stopAttemptSpans?.();
      listeners.stop();
      reporting?.stop();
      reporting = undefined;
      if (timer !== undefined) (clock as Clock).cancel(timer);
      timer = undefined;
    },
  };
}

/**
 * The instrumentation scope staunch's meter is made under.
 *
 * @example
 * import { meterName } from '@staunch/otel';
 *
 * console.log(meterName); // '@staunch/otel'
 */
export const meterName = '@staunch/otel';

// The API's own no-op provider (what `getMeterProvider()` returns until an SDK registers).
function isNoop(provider: MeterProvider): boolean {
  return provider.constructor.name === 'NoopMeterProvider';
}
