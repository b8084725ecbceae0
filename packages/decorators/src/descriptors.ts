import type {
  AsyncBackoffPolicy,
  BulkheadPolicy,
  CircuitBreakerPolicy,
  FallbackPolicy,
  HedgePolicy,
  PollPolicy,
  RateLimitPolicy,
  RetryPolicy,
  TimeoutPolicy,
} from '@staunch/core';

/** Which circuit a decorated method uses; see the README's "Circuit scope". */
export type CircuitScope = 'class' | 'instance' | 'key' | 'breaker';

/** Which bulkhead a decorated method uses: one per method, instance or key, or a shared `bulkhead`. */
export type BulkheadScope = 'class' | 'instance' | 'key' | 'bulkhead';

/** Which rate limit a decorated method uses: one per method, instance or key, or a shared `limiter`. */
export type RateLimitScope = 'class' | 'instance' | 'key' | 'limiter';
/** Which hedge policy (and latency window) a decorated method uses: one per method, instance or key, or a shared `hedge`. */
export type HedgeScope = 'class' | 'instance' | 'key' | 'hedge';

/**
 * What a decorator recorded for a method: a plain, frozen value that tools can
 * read with `policiesOf` without calling anything.
 */
export type PolicyDescriptor =
  | { readonly kind: 'retry'; readonly options: RetryPolicy['options'] }
  | { readonly kind: 'poll'; readonly options: PollPolicy['options'] }
  | { readonly kind: 'asyncBackoff'; readonly options: AsyncBackoffPolicy['options'] }
  | { readonly kind: 'asyncRetry'; readonly options: AsyncBackoffPolicy['options'] }
  | { readonly kind: 'fallback'; readonly options: FallbackPolicy['options'] }
  | { readonly kind: 'timeout'; readonly options: TimeoutPolicy['options'] }
  | {
      readonly kind: 'circuitBreaker';
      readonly scope: CircuitScope;
      readonly options: CircuitBreakerPolicy['options'];
      /** Keyed circuits only: how many are kept before idle ones are forgotten. */
      readonly maxKeys?: number;
    }
  | {
      readonly kind: 'bulkhead';
      readonly scope: BulkheadScope;
      readonly options: BulkheadPolicy['options'];
      /** Keyed bulkheads only: how many are kept before idle ones are forgotten. */
      readonly maxKeys?: number;
    }
  | {
      readonly kind: 'rateLimit';
      readonly scope: RateLimitScope;
      readonly options: RateLimitPolicy['options'];
      /** Keyed limiters only: how many are kept before idle ones are forgotten. */
      readonly maxKeys?: number;
    }
  | {
      readonly kind: 'hedge';
      readonly scope: HedgeScope;
      readonly options: HedgePolicy['options'];
      /** Keyed policies only: how many are kept before idle ones are forgotten. */
      readonly maxKeys?: number;
    };
