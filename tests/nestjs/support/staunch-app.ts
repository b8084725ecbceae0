/**
 * A real Nest app for tests/nestjs/staunch-module.test.ts (run in a child process, see
 * register.cjs): StaunchModule.forRootAsync with a store from an injected provider, the global
 * exception filter, terminus health, discovery, and request-scoped and transient providers.
 */
import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module, Param, Post, Scope, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import {
  Bulkhead,
  CallTimeoutError,
  CircuitBreaker,
  Retry,
  StaunchError,
  circuitOf,
  memoryCircuitStore,
  type CircuitStore,
  type CircuitStoreProvider,
} from '@staunch/decorators';
import {
  StaunchDiscovery,
  StaunchHealthIndicator,
  StaunchModule,
  moduleCircuitStore,
  type DiscoveredMethod,
} from '@staunch/nestjs';

class UpstreamError extends Error {}

/** A rate limiter's rejection as the toolkit documents it: a StaunchError with code STAUNCH_RATE_LIMITED. */
class RateLimited extends StaunchError {
  readonly retryAfter = 2_500;
  constructor() {
    super('STAUNCH_RATE_LIMITED', 'Rate limit reached: 10 calls per second.');
  }
}

/** A real store of named circuits, provided by the app and given to StaunchModule through DI. */
export class NamedCircuits implements CircuitStoreProvider {
  readonly asked: string[] = [];
  readonly #circuits = new Map<string, CircuitStore>();
  circuit(name: string): CircuitStore {
    this.asked.push(name);
    let store = this.#circuits.get(name);
    if (store === undefined) this.#circuits.set(name, (store = memoryCircuitStore()));
    return store;
  }
}
const CIRCUITS = 'CIRCUITS';

@Injectable()
export class Upstream {
  @CircuitBreaker(UpstreamError, { threshold: 2, resetTimeout: 60_000 })
  async call(fail: boolean): Promise<string> {
    if (fail) throw new UpstreamError('upstream failed');
    return 'ok';
  }

  @Retry(UpstreamError, { times: 3, interval: 1 })
  @CircuitBreaker(UpstreamError, { threshold: 1, resetTimeout: 60_000, scope: 'instance' })
  async perInstance(): Promise<string> {
    return 'ok';
  }
}

@Injectable()
export class SharedA {
  @CircuitBreaker(UpstreamError, { threshold: 2, resetTimeout: 60_000, store: moduleCircuitStore, name: 'payments' })
  async call(fail: boolean): Promise<string> {
    if (fail) throw new UpstreamError('payments failed');
    return 'a';
  }
}

@Injectable()
export class SharedB {
  @CircuitBreaker(UpstreamError, { threshold: 2, resetTimeout: 60_000, store: moduleCircuitStore, name: 'payments' })
  async call(): Promise<string> {
    return 'b';
  }
}

let gateOpen: (() => void) | undefined;

@Injectable()
export class Slow {
  @Bulkhead({ limit: 1, queue: 0 })
  async run(): Promise<string> {
    await new Promise<void>((resolve) => (gateOpen = resolve));
    return 'done';
  }
}

/** A new instance per request: circuits of the default (class) scope are shared by all of them. */
@Injectable({ scope: Scope.REQUEST })
export class PerRequest {
  @CircuitBreaker(UpstreamError, { threshold: 2, resetTimeout: 60_000 })
  async shared(): Promise<string> {
    throw new UpstreamError('always fails');
  }

  @CircuitBreaker(UpstreamError, { threshold: 2, resetTimeout: 60_000, scope: 'instance' })
  async own(): Promise<string> {
    throw new UpstreamError('always fails');
  }
}

/** A new instance per consumer. */
@Injectable({ scope: Scope.TRANSIENT })
export class PerConsumer {
  @CircuitBreaker(UpstreamError, { threshold: 2, resetTimeout: 60_000 })
  async shared(): Promise<string> {
    throw new UpstreamError('always fails');
  }
}

@Controller()
export class AppController {
  constructor(
    private readonly upstream: Upstream,
    private readonly a: SharedA,
    private readonly b: SharedB,
    private readonly slow: Slow,
    private readonly perRequest: PerRequest,
    private readonly perConsumer: PerConsumer,
    private readonly discovery: StaunchDiscovery,
    private readonly health: HealthCheckService,
    private readonly circuits: StaunchHealthIndicator,
    @Inject(CIRCUITS) private readonly named: NamedCircuits,
  ) {}

  @Get('upstream/:outcome')
  upstreamCall(@Param('outcome') outcome: string): Promise<string> {
    return this.upstream.call(outcome === 'fail');
  }

  @Post('upstream/reset')
  reset(): void {
    circuitOf(Upstream, 'call').reset();
  }

  @Get('shared/a/:outcome')
  sharedA(@Param('outcome') outcome: string): Promise<string> {
    return this.a.call(outcome === 'fail');
  }

  @Get('shared/b')
  sharedB(): Promise<string> {
    return this.b.call();
  }

  @Get('circuits-asked')
  asked(): string[] {
    return this.named.asked;
  }

  @Get('slow')
  runSlow(): Promise<string> {
    return this.slow.run();
  }

  @Get('slow/running')
  running(): boolean {
    return gateOpen !== undefined;
  }

  @Post('slow/release')
  release(): void {
    gateOpen?.();
    gateOpen = undefined;
  }

  @Get('rate-limited')
  rateLimited(): never {
    throw new RateLimited();
  }

  @Get('timeout')
  timeout(): never {
    throw new CallTimeoutError(100);
  }

  @Get('per-request/shared')
  perRequestShared(): Promise<string> {
    return this.perRequest.shared();
  }

  @Get('per-request/own')
  perRequestOwn(): Promise<string> {
    return this.perRequest.own();
  }

  @Get('transient/shared')
  transientShared(): Promise<string> {
    return this.perConsumer.shared();
  }

  @Get('policies')
  policies(): object[] {
    return this.discovery.methods().map((m) => ({
      at: `${m.className}.${String(m.method)}`,
      kind: m.kind,
      scope: m.scope,
      policies: m.policies.map((p) => p.kind),
    }));
  }

  @Get('health')
  @HealthCheck()
  check(): Promise<unknown> {
    return this.health.check([() => this.circuits.check('circuits')]);
  }

  @Get('bootstrap-report')
  bootstrapReport(): number {
    return reported.length;
  }
}

let reported: readonly DiscoveredMethod[] = [];

@Module({
  providers: [{ provide: CIRCUITS, useFactory: () => new NamedCircuits() }],
  exports: [CIRCUITS],
})
class CircuitsModule {}

@Module({
  imports: [
    TerminusModule.forRoot({ logger: false }),
    StaunchModule.forRootAsync({
      imports: [CircuitsModule],
      inject: [CIRCUITS],
      useFactory: (named: NamedCircuits) => ({
        store: named,
        onPolicies: (methods: readonly DiscoveredMethod[]) => (reported = methods),
      }),
    }),
    CircuitsModule,
  ],
  controllers: [AppController],
  providers: [Upstream, SharedA, SharedB, Slow, PerRequest, PerConsumer],
})
class AppModule {}

export function createApp(): Promise<INestApplication> {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- Nest's documented options literal
  return NestFactory.create(AppModule, { logger: false });
}
