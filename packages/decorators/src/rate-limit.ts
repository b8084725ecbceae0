import { RateLimitPolicy, invalidOption, type RateLimitOptions } from '@staunch/core';
import { assertCalledWithOptions, defineDecorator } from './define-decorator.js';
import type { AsyncMethodDecorator } from './decorator-types.js';
import { withDefaults } from './policy-defaults.js';
import { scopedLayer, type ScopeChoice, type ScopedKind, type ScopeOptions, type SharedPolicyOption } from './scope.js';

/** `@RateLimit`'s options: the core rate-limit options plus where its state lives (as `@Bulkhead`'s). */
export type RateLimitDecoratorOptions<This = unknown, Args extends unknown[] = unknown[]> = RateLimitOptions & {
  /** Only in {@link SharedRateLimitOption}, alone. */
  readonly limiter?: never;
} & ScopeChoice<This, Args>;

/** `@RateLimit({ limiter })`: a limiter made by `rateLimitPolicy()`, shared as it is (no other option). */
export type SharedRateLimitOption = SharedPolicyOption<'limiter', RateLimitPolicy, RateLimitOptions>;

/** The defaults of keyed limiters, stated once. */
export const keyedRateLimitDefaults = Object.freeze({ maxKeys: 10_000 });

/**
 * Lets the method start at most `permits` times per `per` ms (default 1000):
 * a token bucket by default (bursts up to `permits`), or an exact sliding
 * window. Calls over the limit wait their turn in arrival order (up to
 * `queue`, default 0, for at most `maxWait` ms) or are rejected with
 * `RateLimitedError`, whose `retryAfter` says when a permit frees. Async
 * methods only. With a `store` (`@staunch/redis`), a fleet shares the limit
 * called `name`.
 *
 * @example
 * class Geocoder {
 *   @RateLimit({ permits: 50, per: 1000, queue: 100, maxWait: 5_000 })
 *   async lookup(address: string): Promise<Point> { … }
 * }
 */
export function RateLimit<This = unknown, Args extends unknown[] = unknown[]>(
  options: RateLimitDecoratorOptions<This, Args> | SharedRateLimitOption,
): AsyncMethodDecorator<This, Args>;
export function RateLimit(...args: unknown[]): AsyncMethodDecorator {
  assertCalledWithOptions('@RateLimit', args);
  return defineDecorator('@RateLimit', 'rateLimit', (method, defaults) => {
    const label = '@RateLimit';
    const given = args[0];
    if (typeof given !== 'object' || given === null) invalidOption(label, 'options', 'an object', given);
    const {
      limiter: shared,
      scope,
      key,
      maxKeys,
      store,
      name,
      ...options
    } = given as RateLimitOptions & ScopeOptions & { readonly limiter?: unknown };
    const placement = { scope, key, maxKeys };
    if (shared !== undefined) {
      const others = store !== undefined || name !== undefined || Object.keys(options).length > 0;
      return scopedLayer(limiters, label, method.label, shared, placement, others, undefined);
    }
    if (store !== undefined) {
      if (typeof (store as { rateLimit?: unknown } | null)?.rateLimit !== 'function') {
        invalidOption(label, 'store', 'a RateLimitStoreProvider (an object with rateLimit(name, options))', store);
      }
      // The name is the limit's identity across processes: never a method name by accident.
      if (typeof name !== 'string') {
        invalidOption(label, 'name', 'given with a store (it names the shared limit)', name);
      }
      // Objects have no name another process could share: per-instance limits would silently be one.
      if (scope === 'instance') invalidOption(label, 'scope', "'class' or a `key` with a store", scope);
    }
    const ownName = name ?? (typeof method.name === 'symbol' ? (method.name.description ?? 'rate-limit') : method.name);
    // Validated once, at class definition; the store is asked for a limit only when a limiter is made.
    const resolved = new RateLimitPolicy({ ...withDefaults(defaults, options), name: ownName }).options;
    // A probe (options checked while defaults are awaited) asks no store for a limit.
    const make =
      store === undefined || method.probe
        ? () => new RateLimitPolicy(resolved)
        : // Keyed limits in a store are named by their key: one shared limit per key.
          (limitKey?: string) =>
            new RateLimitPolicy({
              ...resolved,
              store,
              name: limitKey === undefined ? ownName : `${ownName}[${limitKey}]`,
            });
    const described = store === undefined ? resolved : Object.freeze({ ...resolved, store });
    return scopedLayer(limiters, label, method.label, undefined, placement, false, { options: described, make });
  });
}

const limiters: ScopedKind<RateLimitPolicy> = {
  kind: 'rateLimit',
  shared: 'limiter',
  sharedIs: 'a limiter made by rateLimitPolicy()',
  noun: 'a rate limit',
  maxKeys: keyedRateLimitDefaults.maxKeys,
  isPolicy: isRateLimitPolicy,
  isIdle,
};

// An idle limiter (nothing waiting, every permit back) can be forgotten: a new one acts the same.
function isIdle(policy: RateLimitPolicy): boolean {
  return policy.idle;
}

// By shape too: a limiter made by the other build (ESM or CJS) of the core package.
function isRateLimitPolicy(value: unknown): value is RateLimitPolicy {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'rateLimit' &&
    typeof (value as RateLimitPolicy).call === 'function'
  );
}
