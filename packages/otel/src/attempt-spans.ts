import { context, SpanKind, SpanStatusCode, trace, type Context, type TracerProvider } from '@opentelemetry/api';
import { livePolicyOf, setAttemptHook, type AttemptHook } from '@staunch/core';
import { attributeNames, errorType, policyAttributes } from './attributes.js';

/** The name of the span around each attempt. */
export const attemptSpanName = 'staunch.attempt';

/**
 * Runs every attempt of an attempt policy inside an INTERNAL `staunch.attempt`
 * span, a child of the span active where the call runs, made active around
 * the attempt so the method's own spans nest under it. Returns the function
 * that stops it.
 */
export function startAttemptSpans(tracerProvider: TracerProvider | undefined, tracerName: string): () => void {
  // Without a provider, the API's proxy tracer: it follows an SDK registered later.
  const tracer = tracerProvider === undefined ? trace.getTracer(tracerName) : tracerProvider.getTracer(tracerName);
  const hook: AttemptHook = {
    start(policy, kind, attempt) {
      const row = livePolicyOf(policy);
      const attributes = row === undefined ? { [attributeNames.kind]: kind } : policyAttributes(row, false);
      attributes[attributeNames.attempt] = attempt;
      const parent = context.active();
      const span = tracer.startSpan(attemptSpanName, { kind: SpanKind.INTERNAL, attributes }, parent);
      return trace.setSpan(parent, span);
    },
    run(token, call) {
      return context.with(token as Context, call);
    },
    end(token, failed, error) {
      const span = trace.getSpan(token as Context);
      if (span === undefined) return;
      if (failed) {
        const type = errorType(error);
        span.setAttribute(attributeNames.errorType, type);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : type });
      }
      span.end();
    },
  };
  return setAttemptHook(hook);
}
