import { RetryPolicy, type ErrorFilter, type RetryOptions } from '@staunch/core';
import { assertCalledWithOptions, defineDecorator } from './define-decorator.js';
import type { AsyncMethodDecorator } from './decorator-types.js';
import { filterAndOptions } from './filter-arguments.js';
import { PolicyLayer } from './policy-layer.js';
import { withDefaults } from './policy-defaults.js';

/** `@Retry`'s options: the core `retry` options plus the error filter `on`. */
export interface RetryDecoratorOptions extends RetryOptions {
  /** Which errors are retried (default: every error). */
  readonly on?: ErrorFilter;
}

/**
 * Calls the method again when it fails with an error matching `on`, up to
 * `times` calls in all (default 3), `interval` ms apart (default 1,000); then
 * re-throws the last error unchanged.
 *
 * @example
 * class Billing {
 *   @Retry(HttpError, { times: 3, interval: 200 })
 *   async charge(id: string): Promise<Receipt> { … }
 * }
 */
export function Retry(on: ErrorFilter, options?: RetryOptions): AsyncMethodDecorator;
export function Retry(options?: RetryDecoratorOptions): AsyncMethodDecorator;
export function Retry(...args: unknown[]): AsyncMethodDecorator {
  assertCalledWithOptions('@Retry', args);
  return defineDecorator('@Retry', 'retry', (_, defaults) => {
    const { on, options } = filterAndOptions('@Retry', args[0], args[1]);
    const policy = new RetryPolicy(withDefaults(defaults, { ...options, on }));
    return new PolicyLayer({ kind: 'retry', options: policy.options }, policy);
  });
}
