import { BulkheadPolicy, invalidOption, type BulkheadOptions } from '@staunch/core';
import { assertCalledWithOptions, defineDecorator } from './define-decorator.js';
import type { AsyncMethodDecorator } from './decorator-types.js';
import { Scope, ScopedLayer, scopeFromOptions, type ScopeOptions } from './scope.js';

/** `@Bulkhead`'s options: the core bulkhead options plus where its state lives (as `@CircuitBreaker`'s). */
export type BulkheadDecoratorOptions<This = unknown, Args extends unknown[] = unknown[]> = BulkheadOptions & {
  /** Only in {@link SharedBulkheadOption}, alone. */
  readonly bulkhead?: never;
} & (
    | {
        /** `'class'` (default): one bulkhead for the method, for all instances. `'instance'`: one per object. */
        readonly scope?: 'class' | 'instance';
        readonly key?: never;
        readonly maxKeys?: never;
      }
    | {
        /** One bulkhead per key, e.g. per host: `key: (self, [url]) => new URL(url).host`. */
        readonly key: (self: This, args: Args) => string;
        /** How many keyed bulkheads are kept before idle ones (nothing running or waiting) are forgotten (default 10,000). */
        readonly maxKeys?: number;
        readonly scope?: never;
      }
  );

/** `@Bulkhead({ bulkhead })`: a bulkhead made by `bulkheadPolicy()`, shared as it is (no other option). */
export type SharedBulkheadOption = { readonly bulkhead: BulkheadPolicy } & {
  readonly [K in keyof BulkheadOptions | 'scope' | 'key' | 'maxKeys']?: never;
};

/** The defaults of keyed bulkheads, stated once. */
export const keyedBulkheadDefaults = Object.freeze({ maxKeys: 10_000 });

/**
 * Lets at most `limit` calls of the method run at once (default 10); up to
 * `queue` more wait their turn in arrival order (default 0), for at most
 * `maxWait` ms (default Infinity); the rest are rejected with
 * `BulkheadRejectedError` without running. Async methods only.
 *
 * @example
 * class Search {
 *   @Bulkhead({ limit: 4, queue: 20, maxWait: 2_000 })
 *   async query(text: string): Promise<Hit[]> { … }
 * }
 */
export function Bulkhead<This = unknown, Args extends unknown[] = unknown[]>(
  options?: BulkheadDecoratorOptions<This, Args> | SharedBulkheadOption,
): AsyncMethodDecorator<This, Args>;
export function Bulkhead(...args: unknown[]): AsyncMethodDecorator {
  assertCalledWithOptions('@Bulkhead', args);
  return defineDecorator('@Bulkhead', (method) => {
    const label = '@Bulkhead';
    const {
      bulkhead: shared,
      scope,
      key,
      maxKeys,
      ...options
    } = (args[0] ?? {}) as BulkheadOptions & ScopeOptions & { readonly bulkhead?: unknown };
    if (shared !== undefined) {
      if (!isBulkheadPolicy(shared)) invalidOption(label, 'bulkhead', 'a bulkhead made by bulkheadPolicy()', shared);
      if (scope !== undefined || key !== undefined || maxKeys !== undefined || Object.keys(options).length > 0)
        invalidOption(label, 'bulkhead', 'given alone (the shared bulkhead keeps its own options)', shared);
      const descriptor = { kind: 'bulkhead', scope: 'bulkhead', options: shared.options } as const;
      return new ScopedLayer(descriptor, method.label, Scope.single(shared));
    }
    const resolved = new BulkheadPolicy(options).options; // validated once, at class definition
    const make = () => new BulkheadPolicy(resolved);
    const plan = scopeFromOptions(
      label,
      { scope, key, maxKeys },
      make,
      isIdle,
      'a bulkhead',
      keyedBulkheadDefaults.maxKeys,
    );
    const descriptor = {
      kind: 'bulkhead',
      scope: plan.kind,
      options: resolved,
      ...(plan.maxKeys !== undefined ? { maxKeys: plan.maxKeys } : {}),
    } as const;
    return new ScopedLayer(descriptor, method.label, plan.scope, plan.key);
  });
}

// An idle bulkhead (nothing running or waiting) can be forgotten: a new one acts the same.
function isIdle(policy: BulkheadPolicy): boolean {
  return policy.idle;
}

// By shape too: a bulkhead made by the other build (ESM or CJS) of the core package.
function isBulkheadPolicy(value: unknown): value is BulkheadPolicy {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'bulkhead' &&
    typeof (value as BulkheadPolicy).call === 'function'
  );
}
