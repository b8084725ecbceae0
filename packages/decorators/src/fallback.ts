import { FallbackPolicy, invalidOption, type FallbackFunction, type FallbackOptions } from '@staunch/core';
import { assertCalledWithOptions, defineDecorator } from './define-decorator.js';
import type { FallbackDecorator } from './decorator-types.js';
import { PolicyLayer } from './policy-layer.js';
import { withDefaults } from './policy-defaults.js';

/**
 * Answers the method's errors matching `on` (default: every error) with a
 * fallback: `valueOrFn` itself, or what `valueOrFn(error, ...args)` returns,
 * called with the method's `this`. A sync method stays sync; for a method that
 * returns a promise, the fallback may be a value or a promise of one. The
 * fallback's own error propagates, with the original error as its `cause`.
 *
 * @example
 * class Catalog {
 *   @Fallback((error, id: string) => cache.product(id), { on: CircuitOpenError })
 *   async product(id: string): Promise<Product> { … }
 * }
 */
export function Fallback<This, Args extends unknown[], Result>(
  fn: FallbackFunction<This, Args, Result>,
  options?: FallbackOptions,
): FallbackDecorator<FallbackFunction<This, Args, Result>>;
export function Fallback<Value>(value: Value, options?: FallbackOptions): FallbackDecorator<Value>;
export function Fallback(...args: unknown[]): FallbackDecorator<unknown> {
  assertCalledWithOptions('@Fallback', args);
  return defineDecorator('@Fallback', 'fallback', (_, defaults) => {
    // `@Fallback(undefined)` is a fallback value; `@Fallback()` forgot one.
    if (args.length === 0) invalidOption('@Fallback', 'valueOrFn', 'given (a value or a function)', undefined);
    const policy = new FallbackPolicy(args[0], withDefaults(defaults, args[1] as FallbackOptions | undefined));
    return new PolicyLayer({ kind: 'fallback', options: policy.options }, policy, false);
  });
}
