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
export const filter = new StaunchExceptionFilter();
export const answer = httpAnswerOf(new CircuitOpenError('payments', 1_000));

// @ts-expect-error a store is a CircuitStore or a CircuitStoreProvider, not a connection string
StaunchModule.forRoot({ store: 'redis://127.0.0.1:6379' });
// @ts-expect-error forRootAsync needs its factory
StaunchModule.forRootAsync({ inject: ['CONFIG'] });
// @ts-expect-error the factory makes the module's options
StaunchModule.forRootAsync({ useFactory: () => 42 });
