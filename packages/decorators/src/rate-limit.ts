import { RateLimitPolicy, invalidOption, type RateLimitOptions } from '@staunch/core';
import { assertCalledWithOptions, defineDecorator } from './define-decorator.js';
import type { AsyncMethodDecorator } from './decorator-types.js';
import { Scope, ScopedLayer, scopeFromOptions, type ScopeOptions } from './scope.js';

/** `@RateLimit`'s options: the core rate-limit options plus where its state lives (as `@Bulkhead`'s). */
export type RateLimitDecoratorOptions<This = unknown, Args extends unknown[] = unknown[]> = RateLimitOptions & {
  /** Only in {@link SharedRateLimitOption}, alone. */
  readonly limiter?: never;
} & (
    | {
        /** `'class'` (default): one limit for the method, for all instances. `'instance'`: one per object. */
        readonly scope?: 'class' | 'instance';
        readonly key?: never;
        readonly maxKeys?: never;
      }
    | {
        /** One limit per key, e.g. per tenant: `key: (self, [tenant]) => tenant.id`. */
        readonly key: (self: This, args: Args) => string;
        /** How many keyed limiters are kept before idle ones (nothing waiting, no recent permit) are forgotten (default 10,000). */
        readonly maxKeys?: number;
        readonly scope?: never;
      }
  );

/** `@RateLimit({ limiter })`: a limiter made by `rateLimitPolicy()`, shared as it is (no other option). */
export type SharedRateLimitOption = { readonly limiter: RateLimitPolicy } & {
  readonly [K in keyof RateLimitOptions | 'scope' | 'key' | 'maxKeys']?: never;
};

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
  return defineDecorator('@RateLimit', (method) => {
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
    if (shared !== undefined) {
      if (!isRateLimitPolicy(shared)) invalidOption(label, 'limiter', 'a limiter made by rateLimitPolicy()', shared);
      const others = [scope, key, maxKeys, store, name].some((value) => value !== undefined);
      if (others || Object.keys(options).length > 0)
        invalidOption(label, 'limiter', 'given alone (the shared limiter keeps its own options)', shared);
      const descriptor = { kind: 'rateLimit', scope: 'limiter', options: shared.options } as const;
      return new ScopedLayer(descriptor, method.label, Scope.single(shared));
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
    const resolved = new RateLimitPolicy({ ...options, name: ownName }).options;
    const make =
      store === undefined
        ? () => new RateLimitPolicy(resolved)
        : // Keyed limits in a store are named by their key: one shared limit per key.
          (limitKey?: string) =>
            new RateLimitPolicy({
              ...resolved,
              store,
              name: limitKey === undefined ? ownName : `${ownName}[${limitKey}]`,
            });
    const plan = scopeFromOptions(
      label,
      { scope, key, maxKeys },
      make,
      isIdle,
      'a rate limit',
      keyedRateLimitDefaults.maxKeys,
    );
    const descriptor = {
      kind: 'rateLimit',
      scope: plan.kind,
      options: store === undefined ? resolved : Object.freeze({ ...resolved, store }),
      ...(plan.maxKeys !== undefined ? { maxKeys: plan.maxKeys } : {}),
    } as const;
    return new ScopedLayer(descriptor, method.label, plan.scope, plan.key);
  });
}

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
