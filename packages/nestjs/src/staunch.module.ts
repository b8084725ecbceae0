import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER, DiscoveryModule } from '@nestjs/core';
import { checkPolicyDefaults, expectPolicyDefaults, setPolicyDefaults } from '@staunch/decorators';
import type { Instrumentation } from '@staunch/otel';
import { StaunchExceptionFilter } from './exception-filter.js';
import { StaunchHealthIndicator } from './health-indicator.js';
import { bindModuleCircuitStore } from './module-circuit-store.js';
import { STAUNCH_MODULE_OPTIONS, type StaunchModuleAsyncOptions, type StaunchModuleOptions } from './module-options.js';
import { StaunchDiscovery } from './policy-discovery.js';
import { startTelemetry } from './telemetry.js';

// The app's services are usually defined before its root module declares StaunchModule, and their
// decorators run then: loading this package tells them to wait for the module's policy defaults
// (validating their own options at once, building their policies when the app is built).
expectPolicyDefaults();

/**
 * staunch in a Nest application: global (import it once, in the root module), it provides
 * {@link StaunchDiscovery} and {@link StaunchHealthIndicator}, installs
 * {@link StaunchExceptionFilter} globally, gives circuits decorated with
 * `store: moduleCircuitStore` the `store` configured here, sets the policy `defaults` of
 * every decorated method, and starts `@staunch/otel`'s `instrument()` with `telemetry`.
 *
 * @example
 * import { Module } from '@nestjs/common';
 * import Redis from 'ioredis';
 * import { redisStore } from '@staunch/redis';
 * import { StaunchModule } from '@staunch/nestjs';
 *
 * const REDIS = 'REDIS';
 *
 * @Module({
 *   imports: [
 *     StaunchModule.forRootAsync({
 *       inject: [REDIS],
 *       useFactory: (redis: Redis) => ({ store: redisStore(redis) }),
 *     }),
 *   ],
 *   providers: [{ provide: REDIS, useFactory: () => new Redis() }],
 * })
 * export class AppModule {}
 */
export class StaunchModule implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  readonly #options: StaunchModuleOptions;
  readonly #discovery: StaunchDiscovery;
  #telemetry: Instrumentation | undefined;

  constructor(options: StaunchModuleOptions, discovery: StaunchDiscovery) {
    this.#options = options;
    this.#discovery = discovery;
  }

  /** The module with `options` as they are (its `defaults` validated now). */
  static forRoot(options: StaunchModuleOptions = {}): DynamicModule {
    if (options.defaults !== undefined) checkPolicyDefaults(options.defaults, 'StaunchModule.forRoot');
    return StaunchModule.#module(
      [{ provide: STAUNCH_MODULE_OPTIONS, useFactory: () => configure(options, 'StaunchModule.forRoot') }],
      [],
      options,
    );
  }

  /** The module with options a factory makes from injected providers (a Redis client, a config service). */
  static forRootAsync(options: StaunchModuleAsyncOptions): DynamicModule {
    const useFactory = options.useFactory as (
      ...args: unknown[]
    ) => StaunchModuleOptions | Promise<StaunchModuleOptions>;
    const provider: Provider = {
      provide: STAUNCH_MODULE_OPTIONS,
      inject: options.inject ?? [],
      useFactory: async (...args: unknown[]) => configure(await useFactory(...args), 'StaunchModule.forRootAsync'),
    };
    return StaunchModule.#module([provider], options.imports ?? [], options);
  }

  // Whether to install the exception filter is decided when the module is declared (Nest needs its
  // providers then), so forRootAsync takes `exceptionFilter` beside its factory, not from it.
  static #module(
    providers: Provider[],
    imports: NonNullable<DynamicModule['imports']>,
    options: Pick<StaunchModuleOptions, 'exceptionFilter'>,
  ): DynamicModule {
    const filter = options.exceptionFilter !== false;
    return {
      module: StaunchModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [
        ...providers,
        StaunchDiscovery,
        StaunchHealthIndicator,
        ...(filter ? [{ provide: APP_FILTER, useClass: StaunchExceptionFilter }] : []),
      ],
      exports: [StaunchDiscovery, StaunchHealthIndicator, STAUNCH_MODULE_OPTIONS],
    };
  }

  /** Starts `telemetry`, if asked for. */
  async onModuleInit(): Promise<void> {
    const telemetry = this.#options.telemetry;
    if (telemetry === undefined || telemetry === false) return;
    this.#telemetry = await startTelemetry(telemetry === true ? undefined : telemetry);
  }

  /** Reports the decorated methods to `onPolicies`, once the app has bootstrapped. */
  onApplicationBootstrap(): void {
    this.#options.onPolicies?.(this.#discovery.methods());
  }

  /** Stops `telemetry` when the app closes. */
  onModuleDestroy(): void {
    this.#telemetry?.stop();
    this.#telemetry = undefined;
  }
}
Module({})(StaunchModule);
Inject(STAUNCH_MODULE_OPTIONS)(StaunchModule, undefined, 0);
Inject(StaunchDiscovery)(StaunchModule, undefined, 1);

// Nest resolves the options while it bootstraps the app, before the app serves a call: circuits
// bind to their store on first use (module-circuit-store.ts), and setting the policy defaults builds
// every decorated method's policies (an invalid combination throws here, failing the bootstrap).
// An app without `defaults` sets none: a later app in this process cannot set others.
function configure(options: StaunchModuleOptions, by: string): StaunchModuleOptions {
  setPolicyDefaults(options.defaults ?? {}, { by });
  bindModuleCircuitStore(options.store);
  return options;
}
