import { TimeoutPolicy, resolveTimeout, type TimeoutOptions } from '@staunch/core';
import { assertCalledWithOptions, defineDecorator } from './define-decorator.js';
import type { AsyncMethodDecorator } from './decorator-types.js';
import { PolicyLayer } from './policy-layer.js';
import { withDefaults } from './policy-defaults.js';

/**
 * Bounds each call of the method by `ms`: past it, the call rejects with a
 * `CallTimeoutError` and the call's signal (`attemptSignal()`) aborts with it;
 * what the method does afterwards is ignored. Each call has its own signal, so
 * one call's timeout never touches another. Under `@Retry`, it bounds each attempt.
 *
 * @example
 * class Users {
 *   @Timeout(2_000)
 *   async fetch(id: string): Promise<User> {
 *     const signal = attemptSignal();
 *     return (await fetch(`/users/${id}`, { signal })).json();
 *   }
 * }
 */
export function Timeout(ms: number, options?: TimeoutOptions): AsyncMethodDecorator;
export function Timeout(...args: unknown[]): AsyncMethodDecorator {
  assertCalledWithOptions('@Timeout', args);
  const [ms, options] = args as [number, TimeoutOptions | undefined];
  return defineDecorator('@Timeout', 'timeout', (_, defaults) => {
    const policy = new TimeoutPolicy(resolveTimeout(ms, withDefaults(defaults, options)));
    return new PolicyLayer({ kind: 'timeout', options: policy.options }, policy);
  });
}
