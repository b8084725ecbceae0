import { HedgePolicy, type HedgeOptions } from '@staunch/core';
import { assertCalledWithOptions, defineDecorator } from './define-decorator.js';
import type { AsyncMethodDecorator } from './decorator-types.js';
import { withDefaults } from './policy-defaults.js';
import { scopedLayer, type ScopeChoice, type ScopedKind, type ScopeOptions, type SharedPolicyOption } from './scope.js';

/** `@Hedge`'s options: the core hedge options plus where its latency window lives (as `@Bulkhead`'s). */
export type HedgeDecoratorOptions<This = unknown, Args extends unknown[] = unknown[]> = HedgeOptions & {
  /** Only in {@link SharedHedgeOption}, alone. */
  readonly hedge?: never;
} & ScopeChoice<This, Args>;

/** `@Hedge({ hedge })`: a policy made by `hedgePolicy()`, shared as it is (no other option). */
export type SharedHedgeOption = SharedPolicyOption<'hedge', HedgePolicy, HedgeOptions>;

/** The defaults of keyed hedge policies, stated once. */
export const keyedHedgeDefaults = Object.freeze({ maxKeys: 10_000 });

/**
 * If a call of the method has not settled after `delay` ms (or after the
 * `percentile` of recent latencies), calls it again alongside, up to
 * `maxHedged` more times; the first success wins and the other attempts are
 * abandoned (their `attemptSignal()` aborts). Async methods only, and the
 * method must be idempotent: several attempts may run, and complete, at once.
 *
 * @example
 * class Users {
 *   @Hedge({ percentile: 95, delay: 100, maxHedged: 1 })
 *   async fetch(id: string): Promise<User> {
 *     const signal = attemptSignal();
 *     return (await fetch(`/users/${id}`, { signal })).json();
 *   }
 * }
 */
export function Hedge<This = unknown, Args extends unknown[] = unknown[]>(
  options?: HedgeDecoratorOptions<This, Args> | SharedHedgeOption,
): AsyncMethodDecorator<This, Args>;
export function Hedge(...args: unknown[]): AsyncMethodDecorator {
  assertCalledWithOptions('@Hedge', args);
  return defineDecorator('@Hedge', 'hedge', (method, defaults) => {
    const {
      hedge: shared,
      scope,
      key,
      maxKeys,
      ...options
    } = (args[0] ?? {}) as HedgeOptions & ScopeOptions & { readonly hedge?: unknown };
    const others = Object.keys(options).length > 0;
    // Validated once, at class definition.
    const resolved = shared === undefined ? new HedgePolicy(withDefaults(defaults, options)).options : undefined;
    const build = resolved && { options: resolved, make: () => new HedgePolicy(resolved) };
    return scopedLayer(hedges, '@Hedge', method.label, shared, { scope, key, maxKeys }, others, build);
  });
}

const hedges: ScopedKind<HedgePolicy> = {
  kind: 'hedge',
  shared: 'hedge',
  sharedIs: 'a policy made by hedgePolicy()',
  noun: 'a hedge policy',
  maxKeys: keyedHedgeDefaults.maxKeys,
  isPolicy: isHedgePolicy,
  isIdle,
};

// A hedge policy with no call running may be forgotten: only its latency window goes with it.
function isIdle(policy: HedgePolicy): boolean {
  return policy.idle;
}

// By shape too: a policy made by the other build (ESM or CJS) of the core package.
function isHedgePolicy(value: unknown): value is HedgePolicy {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'hedge' &&
    typeof (value as HedgePolicy).call === 'function'
  );
}
