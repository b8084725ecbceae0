import type {
  AsyncBackoffPolicy,
  BulkheadPolicy,
  CircuitBreakerPolicy,
  FallbackPolicy,
  HedgePolicy,
  PollPolicy,
  RateLimitPolicy,
  RetryPolicy,
  TimeoutPolicy,
} from '@staunch/core';
import type { CircuitLayer } from './circuit-breaker.js';
import { settledPlanOf } from './deferred-layer.js';
import type { Layer } from './interceptor.js';
import { classOf, wrappersOf } from './metadata.js';
import type { PolicyLayer } from './policy-layer.js';
import type { ScopedLayer, ScopedPolicy } from './scope.js';

/** The live policy types behind each decorator kind, as `policyOf` returns them. */
export interface LivePolicies {
  retry: RetryPolicy;
  poll: PollPolicy;
  asyncBackoff: AsyncBackoffPolicy;
  asyncRetry: AsyncBackoffPolicy;
  fallback: FallbackPolicy;
  timeout: TimeoutPolicy;
  bulkhead: BulkheadPolicy;
  rateLimit: RateLimitPolicy;
  hedge: HedgePolicy;
}

/**
 * The live circuit behind a `@CircuitBreaker` method: pass an instance (for
 * `scope: 'instance'`), or the class or an instance for the other scopes, and
 * the `key` for keyed circuits. For a shared `breaker`, that same object.
 *
 * @example
 * circuitOf(Billing, 'charge').state;      // 'closed'
 * circuitOf(client, 'fetch', 'api.example.com').isolate();
 */
export function circuitOf(target: object, method: string | symbol, key?: string): CircuitBreakerPolicy {
  // By shape, not `instanceof`: a class decorated through the other build (ESM or CJS) has that copy's layers.
  const isCircuit = (l: Layer): l is CircuitLayer =>
    l.descriptor.kind === 'circuitBreaker' && typeof (l as Partial<CircuitLayer>).circuitFor === 'function';
  const found = findLayer(target, method, isCircuit, '@CircuitBreaker');
  const scope = found.layer.descriptor.scope;
  if (scope === 'instance' && found.viaClass) {
    throw new TypeError(
      `circuitOf: "${String(method)}" has one circuit per instance (scope 'instance'): pass an instance, not the class.`,
    );
  }
  if (scope === 'key' && key === undefined) {
    throw new TypeError(`circuitOf: "${String(method)}" has one circuit per key: pass the key as the third argument.`);
  }
  return found.layer.circuitFor(found.viaClass ? undefined : target, key);
}

/**
 * The live policy a decorator put on a method, to listen to its events or
 * read its statistics. Most are one per decorated method, shared by all
 * instances; a scoped one (`@Bulkhead` or `@RateLimit` with `scope: 'instance'` or `key`) is
 * found by passing an instance, and the `key` for a keyed one.
 *
 * @example
 * policyOf(Billing, 'charge', 'retry').on('retry', (e) => log.warn(`retrying in ${e.delay} ms`));
 * policyOf(Files, 'download', 'asyncRetry').statistics.attempts;
 * policyOf(Users, 'fetch', 'timeout').statistics.timeouts;
 * policyOf(client, 'fetch', 'bulkhead', 'api.example.com').statistics.queued;
 * policyOf(Geocoder, 'lookup', 'rateLimit').statistics.rejected;
 * policyOf(Users, 'fetch', 'hedge').statistics.hedges;
 */
export function policyOf<K extends keyof LivePolicies>(
  target: object,
  method: string | symbol,
  kind: K,
  key?: string,
): LivePolicies[K] {
  const decorator = `@${kind.charAt(0).toUpperCase()}${kind.slice(1)}`;
  // By shape, not `instanceof`: a class decorated through the other build (ESM or CJS) has that copy's layers.
  const isKind = (l: Layer): l is PolicyLayer | ScopedLayer<ScopedPolicy> =>
    l.descriptor.kind === kind &&
    (typeof (l as Partial<PolicyLayer>).policy === 'object' ||
      typeof (l as Partial<ScopedLayer<ScopedPolicy>>).policyFor === 'function');
  const { layer, viaClass } = findLayer(target, method, isKind, decorator);
  if ('policy' in layer) return layer.policy as LivePolicies[K];
  const scope = (layer.descriptor as { readonly scope?: string }).scope;
  if (scope === 'instance' && viaClass) {
    throw new TypeError(
      `policyOf: "${String(method)}" has one ${decorator} per instance (scope 'instance'): pass an instance, not the class.`,
    );
  }
  if (scope === 'key' && key === undefined) {
    throw new TypeError(
      `policyOf: "${String(method)}" has one ${decorator} per key: pass the key as the fourth argument.`,
    );
  }
  return layer.policyFor(viaClass ? undefined : target, key) as unknown as LivePolicies[K];
}

// A class resolves to its instance method, else its static one; an instance to its instance method.
// A method has several wrappers when foreign decorators sit between staunch's: searched outermost first.
function findLayer<L extends Layer>(
  target: object,
  method: string | symbol,
  matches: (layer: Layer) => layer is L,
  decorator: string,
): { readonly layer: L; readonly viaClass: boolean } {
  const isClass = typeof target === 'function';
  const owner = classOf(target);
  if (owner !== undefined) {
    const instanceLayer = layerIn(wrappersOf(owner, method, false), matches);
    if (instanceLayer !== undefined) return { layer: instanceLayer, viaClass: isClass };
    const staticLayer = isClass ? layerIn(wrappersOf(owner, method, true), matches) : undefined;
    if (staticLayer !== undefined) return { layer: staticLayer, viaClass: false };
  }
  const name = (owner as { name?: unknown } | undefined)?.name;
  const where = typeof name === 'string' && name !== '' ? `class ${name}` : 'this class';
  throw new TypeError(`"${String(method)}" has no ${decorator} on ${where}.`);
}

function layerIn<L extends Layer>(
  wrappers: readonly object[] | undefined,
  matches: (layer: Layer) => layer is L,
): L | undefined {
  for (const wrapper of wrappers ?? []) {
    const layer = settledPlanOf(wrapper)?.layers.find(matches);
    if (layer !== undefined) return layer;
  }
  return undefined;
}
