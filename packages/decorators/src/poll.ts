import { PollPolicy, invalidOption, type PollOptions } from '@staunch/core';
import { assertCalledWithOptions, defineDecorator } from './define-decorator.js';
import type { PollDecorator } from './decorator-types.js';
import { PolicyLayer } from './policy-layer.js';
import { withDefaults } from './policy-defaults.js';

/**
 * Calls the method, with the same arguments, until `until(value)` holds for
 * what it resolves to: at once, then every `interval` ms (default 1,000); once
 * more than `timeout` ms (default 15,000) have passed it rejects with
 * `PollTimeoutError`. Errors from the method or the predicate propagate at once.
 *
 * @example
 * class Jobs {
 *   @Poll((job: Job) => job.state === 'done', { timeout: 15_000, interval: 1_000 })
 *   async job(id: string): Promise<Job> { … }
 * }
 */
export function Poll<Value>(until: (value: Value) => unknown, options?: PollOptions): PollDecorator<Value>;
export function Poll<Value>(...args: unknown[]): PollDecorator<Value> {
  // Every argument, not just the declared two: a bare legacy `@Poll` passes three.
  assertCalledWithOptions('@Poll', args);
  const [until, options] = args as [(value: Value) => unknown, PollOptions | undefined];
  return defineDecorator('@Poll', 'poll', (_, defaults) => {
    if (typeof until !== 'function') invalidOption('@Poll', 'until', 'a predicate function', until);
    const policy = new PollPolicy(until, withDefaults(defaults, options));
    return new PolicyLayer({ kind: 'poll', options: policy.options }, policy);
  });
}
