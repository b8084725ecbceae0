export { systemClock, getDefaultClock, setDefaultClock, type Clock, type TimerHandle } from './clock.js';
export {
  StaunchError,
  TimeoutError,
  PollTimeoutError,
  AttemptTimeoutError,
  DeadlineExceededError,
  CallTimeoutError,
  CircuitOpenError,
  isStaunchError,
  isTimeoutError,
  isPollTimeoutError,
  isAttemptTimeoutError,
  isDeadlineExceededError,
  isCallTimeoutError,
  isCircuitOpenError,
  AttemptSignalError,
  isAttemptSignalError,
  BulkheadRejectedError,
  isBulkheadRejectedError,
  HedgeAbandonedError,
  isHedgeAbandonedError,
  type BulkheadRejectionReason,
  RateLimitedError,
  isRateLimitedError,
  type RateLimitRejectionReason,
} from './errors.js';
export { type ErrorClass, type ErrorFilter } from './error-filter.js';
export { Events, type Listener, type Unsubscribe } from './events.js';
export { type RandomSource } from './random.js';
export { invalidOption, withValidationLabel } from './validation.js';
// The circuit breaker's public names are listed once, in its own index.
export * from './circuit-breaker/index.js';

// poll, retry, asyncBackoff, asyncRetry and timeout share one attempt loop.
export { attemptSignal, type AttemptContext } from './attempt.js';
export {
  AttemptPolicy,
  type PolicyKind,
  type ClockOption,
  type SignalOption,
  type AttemptPolicyEvents,
  type AttemptEvent,
  type RetryEvent,
  type SuccessEvent,
  type FailureEvent,
  type TimeoutEvent,
  type GiveUpEvent,
  type GiveUpReason,
} from './attempt-loop.js';
export { setAttemptHook, type AttemptHook } from './attempt-hook.js';
export {
  constantBackoff,
  linearBackoff,
  exponentialBackoff,
  fullJitter,
  decorrelatedJitter,
  isBackoff,
  backoffDefaults,
  type Backoff,
  type Wait,
  type ConstantBackoff,
  type LinearBackoff,
  type ExponentialBackoff,
  type FullJitterBackoff,
  type DecorrelatedJitterBackoff,
  type LinearBackoffOptions,
  type ExponentialBackoffOptions,
  type DecorrelatedJitterOptions,
} from './backoff.js';
export { type PolicyStatistics } from './statistics.js';
export {
  retryBudget,
  retryBudgetDefaults,
  RetryBudget,
  type RetryBudgetOptions,
  type ResolvedRetryBudgetOptions,
  type RetryBudgetStatistics,
} from './retry-budget.js';
export {
  retry,
  retryPolicy,
  retryDefaults,
  RetryPolicy,
  type RetryOptions,
  type RetryOptionsWithFilter,
  type ResolvedRetryOptions,
} from './retry.js';
export { poll, pollPolicy, pollDefaults, PollPolicy, type PollOptions, type ResolvedPollOptions } from './poll.js';
export {
  asyncBackoff,
  asyncBackoffPolicy,
  asyncRetry,
  asyncRetryPolicy,
  resolveAsyncBackoff,
  asyncBackoffDefaults,
  AsyncBackoffPolicy,
  type AsyncRetryPolicy,
  type AsyncBackoffOptions,
  type AsyncRetryOptions,
  type ResolvedAsyncBackoffOptions,
} from './async-backoff.js';
export {
  fallback,
  fallbackPolicy,
  FallbackPolicy,
  type FallbackOptions,
  type FallbackFunction,
  type FallbackResult,
  type FallbackFits,
  type FallbackCheck,
  type FallbackMismatch,
  type WithFallback,
  type ResolvedFallbackOptions,
  type FallbackEvent,
  type FallbackPolicyEvents,
  type FallbackStatistics,
} from './fallback.js';
export {
  timeout,
  timeoutPolicy,
  resolveTimeout,
  TimeoutPolicy,
  type TimeoutOptions,
  type ResolvedTimeoutOptions,
} from './timeout.js';
export {
  bulkhead,
  bulkheadPolicy,
  bulkheadDefaults,
  BulkheadPolicy,
  type BulkheadOptions,
  type ResolvedBulkheadOptions,
  type BulkheadStatistics,
  type BulkheadEvents,
  type BulkheadQueuedEvent,
  type BulkheadRejectedEvent,
  type BulkheadLimitEvent,
} from './bulkhead.js';
export {
  rateLimit,
  rateLimitPolicy,
  rateLimitDefaults,
  RateLimitPolicy,
  type RateLimitOptions,
  type ResolvedRateLimitOptions,
  type RateLimitStatistics,
  type RateLimitEvents,
  type RateLimitQueuedEvent,
  type RateLimitRejectedEvent,
} from './rate-limit.js';
export {
  memoryRateLimitStore,
  TokenBucket,
  SlidingWindow,
  type RateLimitAlgorithm,
  type RateLimitStore,
  type RateLimitStoreProvider,
  type RateLimitStoreOptions,
} from './rate-limit-store.js';
export {
  livePolicies,
  livePolicyOf,
  registerPolicy,
  registerDecoratedPolicy,
  announcePolicy,
  watchPolicies,
  type LivePolicy,
  type LivePoliciesOptions,
  type PolicyHealth,
  type PolicyScope,
  type PolicySite,
  type PolicyGroup,
} from './registry.js';
export { policyHealth, type PoliciesHealth } from './health.js';
export {
  adaptive,
  adaptiveDefaults,
  type AdaptiveLimit,
  type AdaptiveLimitOptions,
  type AdaptiveLimitBaseOptions,
  type AdaptiveAlgorithm,
  type AimdLimitOptions,
  type VegasLimitOptions,
  type Gradient2LimitOptions,
  type ResolvedAdaptiveLimit,
} from './concurrency-limit/adaptive.js';
export {
  hedge,
  hedgePolicy,
  hedgeDefaults,
  HedgePolicy,
  type HedgeOptions,
  type ResolvedHedgeOptions,
  type HedgeStatistics,
  type HedgeEvent,
  type HedgeGiveUpEvent,
  type HedgeEvents,
} from './hedge.js';
