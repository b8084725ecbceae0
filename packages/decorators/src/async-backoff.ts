import {
  AsyncBackoffPolicy,
  invalidOption,
  resolveAsyncBackoff,
  type AsyncBackoffOptions,
  type AsyncRetryOptions,
  type ErrorClass,
} from '@staunch/core';
import { assertCalledWithOptions, defineDecorator } from './define-decorator.js';
import type { AsyncMethodDecorator } from './decorator-types.js';
import { PolicyLayer } from './policy-layer.js';
import { withDefaults } from './policy-defaults.js';

/**
 * aiomisc's `asyncbackoff`: bounds each attempt by `attemptTimeout` and the
 * whole call by `deadline`, pauses `pause` ms between attempts, retries errors
 * matching `on` (and always attempt timeouts), at most `maxTries` attempts,
 * unless `giveup(error)` says stop. Positional form as in aiomisc:
 * `(attemptTimeout, deadline, pause?, ...errorClasses)`, `null` for no limit.
 *
 * @example
 * class Rows {
 *   @AsyncBackoff(100, 1_000, 100, TypeError, RangeError)
 *   async fetch(): Promise<Row[]> { … }
 *
 *   @AsyncBackoff({ attemptTimeout: 500, deadline: 1_000, pause: 100, maxTries: 3, on: [TypeError] })
 *   async save(row: Row): Promise<void> { … }
 * }
 */
export function AsyncBackoff(options: AsyncBackoffOptions): AsyncMethodDecorator;
export function AsyncBackoff(
  attemptTimeout: number | null | undefined,
  deadline: number | null | undefined,
  pause?: number | null,
  ...on: ErrorClass[]
): AsyncMethodDecorator;
export function AsyncBackoff(...args: unknown[]): AsyncMethodDecorator {
  assertCalledWithOptions('@AsyncBackoff', args);
  return defineDecorator('@AsyncBackoff', 'asyncBackoff', (_, defaults) => {
    const resolved = resolveAsyncBackoff('asyncBackoff', withDefaults(defaults, backoffOptions(args)));
    const policy = new AsyncBackoffPolicy('asyncBackoff', resolved);
    return new PolicyLayer({ kind: 'asyncBackoff', options: policy.options }, policy);
  });
}

/**
 * aiomisc's `asyncretry`: `@AsyncBackoff` with no attempt timeout and no
 * deadline. Retries every error by default; `maxTries` omitted or `Infinity`
 * retries forever.
 *
 * @example
 * class Files {
 *   @AsyncRetry(5)
 *   async download(url: string): Promise<Buffer> { … }
 *
 *   @AsyncRetry(3, { on: ConnectionError })
 *   async lock(): Promise<void> { … }
 * }
 */
export function AsyncRetry(maxTries?: number, options?: AsyncRetryOptions): AsyncMethodDecorator;
export function AsyncRetry(...args: unknown[]): AsyncMethodDecorator {
  // Every argument, not just the declared two: a bare legacy `@AsyncRetry` passes three.
  assertCalledWithOptions('@AsyncRetry', args);
  const [maxTries, options] = args as [number | undefined, AsyncRetryOptions | undefined];
  return defineDecorator('@AsyncRetry', 'asyncRetry', (_, defaults) => {
    const resolved = resolveAsyncBackoff('asyncRetry', withDefaults(defaults, options), maxTries);
    const policy = new AsyncBackoffPolicy('asyncRetry', resolved);
    return new PolicyLayer({ kind: 'asyncRetry', options: policy.options }, policy);
  });
}

function backoffOptions(args: readonly unknown[]): AsyncBackoffOptions {
  const [first] = args;
  if (args.length === 1 && typeof first === 'object' && first !== null) return first;
  if (args.length < 2) {
    invalidOption(
      '@AsyncBackoff',
      'arguments',
      'an options object or (attemptTimeout, deadline, pause?, ...errorClasses)',
      first,
    );
  }
  const [attemptTimeout, deadline, pause, ...on] = args;
  const options: { -readonly [K in keyof AsyncBackoffOptions]: AsyncBackoffOptions[K] } = {};
  if (attemptTimeout !== null && attemptTimeout !== undefined) options.attemptTimeout = attemptTimeout as number;
  if (deadline !== null && deadline !== undefined) options.deadline = deadline as number;
  if (pause !== null && pause !== undefined) options.pause = pause as number;
  if (on.length > 0) options.on = on as ErrorClass[];
  return options;
}
