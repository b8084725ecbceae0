import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { CircuitStore, CircuitStoreProvider, PolicyDefaults } from '@staunch/decorators';
import type { InstrumentOptions } from '@staunch/otel';
import type { DiscoveredMethod } from './policy-discovery.js';

/** What `StaunchModule.forRoot()` takes (and `forRootAsync()`'s factory returns). */
export interface StaunchModuleOptions {
  /**
   * Where the circuits of `@CircuitBreaker({ store: moduleCircuitStore, name })` keep their state,
   * such as `redisStore(redis)` from `@staunch/redis`. Default: each circuit in this process's memory.
   */
  readonly store?: CircuitStore | CircuitStoreProvider;
  /**
   * Installs {@link StaunchExceptionFilter} as a global filter (open circuit and full bulkhead → 503,
   * rate limited → 429, with `Retry-After`). Default `true`; `false` to register it yourself.
   */
  readonly exceptionFilter?: boolean;
  /**
   * Defaults for the options every decorated method leaves out, per policy, e.g.
   * `{ retry: { times: 3, interval: 200 }, circuitBreaker: { threshold: 5, resetTimeout: 30_000 } }`:
   * what a decorator writes wins, option by option. Validated when given; set (process-wide, once)
   * when the app is built, and every decorated method's policy is built then, so an invalid
   * combination stops the app from starting. See the README's "Policy defaults".
   */
  readonly defaults?: PolicyDefaults;
  /**
   * Reports every policy to OpenTelemetry with `instrument()` from `@staunch/otel` (install it:
   * it is an optional peer): `true` for its defaults (the global meter provider), or its options.
   * Started when the module initialises, stopped when the app closes. Default: off.
   */
  readonly telemetry?: boolean | InstrumentOptions;
  /** Called once when the application has bootstrapped, with every decorated method found: a log line, a metric. */
  readonly onPolicies?: (methods: readonly DiscoveredMethod[]) => void;
}

/** `StaunchModule.forRootAsync()`'s options: a factory with injected dependencies (a Redis client, config). */
export interface StaunchModuleAsyncOptions extends Pick<StaunchModuleOptions, 'exceptionFilter'> {
  /** Modules whose providers the factory injects. */
  readonly imports?: NonNullable<ModuleMetadata['imports']>;
  /** Tokens of the factory's arguments, in order. */
  readonly inject?: NonNullable<FactoryProvider['inject']>;
  /** Makes the options (`exceptionFilter` there is ignored: it is decided beside the factory). */
  readonly useFactory: (...args: never[]) => StaunchModuleOptions | Promise<StaunchModuleOptions>;
}

/** The injection token of the resolved {@link StaunchModuleOptions}. */
export const STAUNCH_MODULE_OPTIONS = Symbol.for('staunch.nestjs.moduleOptions');
