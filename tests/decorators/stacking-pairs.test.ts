import {
  AsyncBackoff,
  AsyncRetry,
  Bulkhead,
  CircuitBreaker,
  Fallback,
  Hedge,
  Poll,
  RateLimit,
  Retry,
  Timeout,
  policiesOf,
} from '@staunch/decorators';
import { capture, useVirtualClock } from './helpers';

// Every ordered pair of the ten staunch decorators on one async method, applied as the compiler does in each mode
// (Stage 3: bottom-up with one metadata object; legacy: on the prototype's descriptor): the stack records
// its written order (top = outermost), never throws synchronously, settles, and leaves no timer behind.

type Decorator = (...args: unknown[]) => unknown;
const decorators: readonly (readonly [kind: string, make: () => Decorator])[] = [
  ['retry', () => Retry({ times: 2, interval: 10 }) as Decorator],
  ['asyncRetry', () => AsyncRetry(2) as Decorator],
  ['asyncBackoff', () => AsyncBackoff({ attemptTimeout: 1_000, maxTries: 2, on: Error }) as Decorator],
  ['poll', () => Poll((value: unknown) => value !== undefined, { interval: 10, timeout: 100 }) as Decorator],
  ['circuitBreaker', () => CircuitBreaker({ threshold: 5, resetTimeout: 1_000 }) as Decorator],
  ['timeout', () => Timeout(1_000) as Decorator],
  ['fallback', () => Fallback('fallback') as Decorator],
  ['bulkhead', () => Bulkhead({ limit: 2, queue: 2 }) as Decorator],
  ['rateLimit', () => RateLimit({ permits: 10, per: 1_000 }) as Decorator],
  ['hedge', () => Hedge({ delay: 50 }) as Decorator],
];
const pairs = decorators.flatMap((outer) =>
  decorators.filter((inner) => inner !== outer).map((inner) => [outer[0], inner[0], outer[1], inner[1]] as const),
);

function stage3(outer: Decorator, inner: Decorator, method: (this: unknown) => Promise<string>) {
  const metadata: Record<PropertyKey, unknown> = {};
  const context = {
    kind: 'method',
    name: 'm',
    static: false,
    private: false,
    metadata,
    addInitializer: () => undefined,
    access: { has: () => true, get: (object: Record<string, unknown>) => object.m },
  };
  class Stacked {}
  const wrapped = outer(inner(method, context), context) as (this: unknown) => Promise<string>;
  Object.defineProperty(Stacked.prototype, 'm', { value: wrapped, writable: true, configurable: true });
  Object.defineProperty(Stacked, Symbol.metadata, { value: metadata });
  return Stacked as unknown as new () => { m(): Promise<string> };
}

function legacy(outer: Decorator, inner: Decorator, method: (this: unknown) => Promise<string>) {
  class Stacked {}
  const descriptor: PropertyDescriptor = { value: method, writable: true, configurable: true, enumerable: false };
  // The compiler applies the decorator written nearest the method first.
  const afterInner = (inner(Stacked.prototype, 'm', descriptor) as PropertyDescriptor | undefined) ?? descriptor;
  const afterOuter = (outer(Stacked.prototype, 'm', afterInner) as PropertyDescriptor | undefined) ?? afterInner;
  Object.defineProperty(Stacked.prototype, 'm', afterOuter);
  return Stacked as unknown as new () => { m(): Promise<string> };
}

describe.each([
  ['Stage 3', stage3],
  ['legacy', legacy],
])('every pair of decorators, %s', (_mode, apply) => {
  const time = useVirtualClock();

  it.each(pairs)(
    '@%s over @%s: written order recorded, a promise every time, settled, no timer left',
    async (...args) => {
      const [outerKind, innerKind, outer, inner] = args;
      let calls = 0;
      const Stacked = apply(outer(), inner(), async function () {
        calls++;
        return 'ok';
      });
      expect(policiesOf(Stacked, 'm').map((policy) => policy.kind)).toEqual([outerKind, innerKind]);
      let result: Promise<string> | undefined;
      expect(() => (result = new Stacked().m())).not.toThrow();
      expect(result).toBeInstanceOf(Promise);
      await expect(capture(result as Promise<string>)).resolves.toEqual({ ok: true, value: 'ok' });
      expect(calls).toBe(1);
      await time.clock.flush();
      expect(time.clock.pending).toBe(0);
    },
  );
  // The innermost policy that handles an error decides: a retry retries it (and a hedge, whose `on` matches
  // every error by default, starts its next attempt at once), a fallback answers it; poll, a breaker, a
  // timeout, a bulkhead and a rate limit pass it on to the policy above.
  const retries = new Set(['retry', 'asyncRetry', 'asyncBackoff', 'hedge']);
  const expected = (outer: string, inner: string): { ok: true; value: string } | { ok: false; error: Error } => {
    for (const kind of [inner, outer]) {
      if (retries.has(kind)) return { ok: true, value: 'ok' };
      if (kind === 'fallback') return { ok: true, value: 'fallback' };
    }
    return { ok: false, error: failure };
  };
  const failure = new Error('first call fails');

  it.each(pairs)(
    '@%s over @%s: a first failure is retried, answered or passed on, as their order says',
    async (...args) => {
      const [outerKind, innerKind, outer, inner] = args;
      let calls = 0;
      const Stacked = apply(outer(), inner(), async function () {
        if (++calls === 1) throw failure;
        return 'ok';
      });
      let result: Promise<string> | undefined;
      expect(() => (result = new Stacked().m())).not.toThrow();
      const settled = capture(result as Promise<string>);
      await time.clock.runAll();
      await expect(settled).resolves.toEqual(expected(outerKind, innerKind));
      await time.clock.flush();
      expect(time.clock.pending).toBe(0);
    },
  );
});
