// ES-module consumer of @staunch/nestjs as published, compiled like a Nest app (legacy decorators).
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { CircuitBreaker, CircuitOpenError, type CircuitStore } from '@staunch/decorators';
import {
  StaunchDiscovery,
  StaunchExceptionFilter,
  StaunchHealthIndicator,
  StaunchModule,
  httpAnswerOf,
  moduleCircuitStore,
  type CircuitsHealth,
  type DiscoveredMethod,
  type StaunchHttpAnswer,
} from '@staunch/nestjs';

import type { Equal, Expect } from './helpers/expect.js';

declare const store: CircuitStore;

@Injectable()
export class Payments {
  @CircuitBreaker({ threshold: 5, resetTimeout: 30_000, store: moduleCircuitStore, name: 'payments' })
  async charge(id: string): Promise<string> {
    return id;
  }
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly circuits: StaunchHealthIndicator,
    private readonly discovery: StaunchDiscovery,
  ) {}

  @Get()
  check(): CircuitsHealth<'circuits'> {
    return this.circuits.check('circuits');
  }

  @Get('policies')
  policies(): readonly DiscoveredMethod[] {
    return this.discovery.methods();
  }
}

@Module({
  imports: [
    StaunchModule.forRoot({ store, exceptionFilter: true, onPolicies: (methods) => methods.length }),
    StaunchModule.forRootAsync({ inject: ['CONFIG'], useFactory: (config: { store: CircuitStore }) => config }),
  ],
  controllers: [HealthController],
  providers: [Payments],
})
export class AppModule {}

type _answer = Expect<Equal<ReturnType<typeof httpAnswerOf>, StaunchHttpAnswer | undefined>>;
type _report = Expect<Equal<ReturnType<StaunchHealthIndicator['check']>['circuits']['status'], 'up' | 'down'>>;
// Policy defaults: each policy's own option types; what names or places one method's state is no default.
export const withDefaults = StaunchModule.forRoot({
  defaults: {
    retry: { times: 3, interval: 200, on: CircuitOpenError },
    circuitBreaker: { threshold: 5, resetTimeout: 30_000 },
    timeout: {},
    bulkhead: { limit: 4, queue: 10 },
    rateLimit: { per: 1_000, queue: 5 },
    hedge: { delay: 100 },
    asyncBackoff: { pause: 100, maxTries: 4 },
    asyncRetry: { pause: 100 },
    poll: { interval: 500 },
    fallback: { on: CircuitOpenError },
  },
  telemetry: true,
});
// @ts-expect-error -- a default of the wrong type
StaunchModule.forRoot({ defaults: { retry: { times: '3' } } });
// @ts-expect-error -- no such policy
StaunchModule.forRoot({ defaults: { retri: { times: 3 } } });
// @ts-expect-error -- a circuit's name belongs to its method
StaunchModule.forRoot({ defaults: { circuitBreaker: { name: 'payments' } } });
// @ts-expect-error -- a rate limit's permits are the method's own (required) argument
StaunchModule.forRoot({ defaults: { rateLimit: { permits: 10 } } });
// @ts-expect-error -- where a bulkhead lives is the method's choice
StaunchModule.forRoot({ defaults: { bulkhead: { scope: 'instance' } } });
// Telemetry: instrument()'s options, or true.
StaunchModule.forRoot({ telemetry: { metrics: true, keys: false } });
// @ts-expect-error -- not an instrument() option
StaunchModule.forRoot({ telemetry: { metric: true } });
StaunchModule.forRootAsync({ useFactory: () => ({ defaults: { timeout: {} }, telemetry: false }) });

export const filter = new StaunchExceptionFilter();
export const answer = httpAnswerOf(new CircuitOpenError('payments', 1_000));

// @ts-expect-error a store is a CircuitStore or a CircuitStoreProvider, not a connection string
StaunchModule.forRoot({ store: 'redis://127.0.0.1:6379' });
// @ts-expect-error forRootAsync needs its factory
StaunchModule.forRootAsync({ inject: ['CONFIG'] });
// @ts-expect-error the factory makes the module's options
StaunchModule.forRootAsync({ useFactory: () => 42 });
