import { BulkheadPolicy, type BulkheadOptions } from '@staunch/core';
import { assertCalledWithOptions, defineDecorator } from './define-decorator.js';
import type { AsyncMethodDecorator } from './decorator-types.js';
import { withDefaults } from './policy-defaults.js';
import { scopedLayer, type ScopeChoice, type ScopedKind, type ScopeOptions, type SharedPolicyOption } from './scope.js';

/** `@Bulkhead`'s options: the core bulkhead options plus where its state lives (as `@CircuitBreaker`'s). */
export type BulkheadDecoratorOptions<This = unknown, Args extends unknown[] = unknown[]> = BulkheadOptions & {
  /** Only in {@link SharedBulkheadOption}, alone. */
  readonly bulkhead?: never;
} & ScopeChoice<This, Args>;

/** `@Bulkhead({ bulkhead })`: a bulkhead made by `bulkheadPolicy()`, shared as it is (no other option). */
export type SharedBulkheadOption = SharedPolicyOption<'bulkhead', BulkheadPolicy, BulkheadOptions>;

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
  return defineDecorator('@Bulkhead', 'bulkhead', (method, defaults) => {
    const {
      bulkhead: shared,
      scope,
      key,
      maxKeys,
      ...options
    } = (args[0] ?? {}) as BulkheadOptions & ScopeOptions & { readonly bulkhead?: unknown };
    const others = Object.keys(options).length > 0;
    // Validated once, at class definition.
    const resolved = shared === undefined ? new BulkheadPolicy(withDefaults(defaults, options)).options : undefined;
    const build = resolved && { options: resolved, make: () => new BulkheadPolicy(resolved) };
    return scopedLayer(bulkheads, '@Bulkhead', method.label, shared, { scope, key, maxKeys }, others, build);
  });
}

const bulkheads: ScopedKind<BulkheadPolicy> = {
  kind: 'bulkhead',
  shared: 'bulkhead',
  sharedIs: 'a bulkhead made by bulkheadPolicy()',
  noun: 'a bulkhead',
  maxKeys: keyedBulkheadDefaults.maxKeys,
  isPolicy: isBulkheadPolicy,
  isIdle: (policy) => policy.idle,
};

// By shape too: a bulkhead made by the other build (ESM or CJS) of the core package.
function isBulkheadPolicy(value: unknown): value is BulkheadPolicy {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'bulkhead' &&
    typeof (value as BulkheadPolicy).call === 'function'
  );
}
