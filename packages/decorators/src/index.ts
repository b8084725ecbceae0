import './polyfill.js';

export * from '@staunch/core';
export { Retry, type RetryDecoratorOptions } from './retry.js';
export { Poll } from './poll.js';
export { AsyncBackoff, AsyncRetry } from './async-backoff.js';
export { Fallback } from './fallback.js';
export { Timeout } from './timeout.js';
export { Bulkhead, type BulkheadDecoratorOptions, type SharedBulkheadOption } from './bulkhead.js';
export { RateLimit, type RateLimitDecoratorOptions, type SharedRateLimitOption } from './rate-limit.js';
export { Hedge, type HedgeDecoratorOptions, type SharedHedgeOption } from './hedge.js';
export { CircuitBreaker, type CircuitBreakerDecoratorOptions, type SharedCircuitOption } from './circuit-breaker.js';
export { circuitOf, policyOf, type LivePolicies } from './live-policies.js';
export { policiesOf, type MethodPolicies } from './metadata.js';
export {
  setPolicyDefaults,
  expectPolicyDefaults,
  checkPolicyDefaults,
  type PolicyDefaults,
} from './policy-defaults.js';
export type { PolicyDescriptor, CircuitScope, BulkheadScope, RateLimitScope, HedgeScope } from './descriptors.js';
export type {
  AsyncMethodDecorator,
  PollDecorator,
  MethodDecorator,
  FallbackDecorator,
  AsyncMethod,
  Method,
} from './decorator-types.js';
