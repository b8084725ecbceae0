import { HedgePolicy, invalidOption, type HedgeOptions } from '@staunch/core';
import { assertCalledWithOptions, defineDecorator } from './define-decorator.js';
import type { AsyncMethodDecorator } from './decorator-types.js';
import { Scope, ScopedLayer, scopeFromOptions, type ScopeOptions } from './scope.js';

/** `@Hedge`'s options: the core hedge options plus where its latency window lives (as `@Bulkhead`'s). */
export type HedgeDecoratorOptions<This = unknown, Args extends unknown[] = unknown[]> = HedgeOptions & {
  /** Only in {@link SharedHedgeOption}, alone. */
  readonly hedge?: never;
} & (
    | {
        /** `'class'` (default): one hedge policy (one latency window) for the method; `'instance'`: one per object. */
        readonly scope?: 'class' | 'instance';
        readonly key?: never;
        readonly maxKeys?: never;
      }
    | {
        /** One hedge policy per key, e.g. per host, each with its own latencies. */
        readonly key: (self: This, args: Args) => string;
        /** How many keyed policies are kept before idle ones (no call running) are forgotten (default 10,000). */
        readonly maxKeys?: number;
        readonly scope?: never;
      }
  );

/** `@Hedge({ hedge })`: a policy made by `hedgePolicy()`, shared as it is (no other option). */
export type SharedHedgeOption = { readonly hedge: HedgePolicy } & {
  readonly [K in keyof HedgeOptions | 'scope' | 'key' | 'maxKeys']?: never;
};

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
  return defineDecorator('@Hedge', (method) => {
    const label = '@Hedge';
    const {
      hedge: shared,
      scope,
      key,
      maxKeys,
      ...options
    } = (args[0] ?? {}) as HedgeOptions & ScopeOptions & { readonly hedge?: unknown };
    if (shared !== undefined) {
      if (!isHedgePolicy(shared)) invalidOption(label, 'hedge', 'a policy made by hedgePolicy()', shared);
      if (scope !== undefined || key !== undefined || maxKeys !== undefined || Object.keys(options).length > 0)
        invalidOption(label, 'hedge', 'given alone (the shared policy keeps its own options)', shared);
      const descriptor = { kind: 'hedge', scope: 'hedge', options: shared.options } as const;
      return new ScopedLayer(descriptor, method.label, Scope.single(shared));
    }
    const resolved = new HedgePolicy(options).options; // validated once, at class definition
    const make = () => new HedgePolicy(resolved);
    const plan = scopeFromOptions(
      label,
      { scope, key, maxKeys },
      make,
      isIdle,
      'a hedge policy',
      keyedHedgeDefaults.maxKeys,
    );
    const descriptor = {
      kind: 'hedge',
      scope: plan.kind,
      options: resolved,
      ...(plan.maxKeys !== undefined ? { maxKeys: plan.maxKeys } : {}),
    } as const;
    return new ScopedLayer(descriptor, method.label, plan.scope, plan.key);
  });
}

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
