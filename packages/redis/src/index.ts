export {
  redisStore,
  type RedisCircuitStore,
  type RedisStoreEvents,
  type RedisUnavailableEvent,
  type RedisRestoredEvent,
  type SharedCircuitChangeEvent,
} from './redis-store.js';
export {
  redisStoreDefaults,
  type RedisClient,
  type RedisStoreOptions,
  type ResolvedRedisStoreOptions,
} from './options.js';
export { redisCircuitKeys, type RedisCircuitKeys } from './keys.js';
export {
  redisRateLimitStore,
  redisRateLimitKey,
  redisRateLimitStoreDefaults,
  type RedisRateLimitStoreOptions,
  type ResolvedRedisRateLimitStoreOptions,
} from './rate-limit-store.js';
