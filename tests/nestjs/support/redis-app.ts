/**
 * A real Nest app for tests/nestjs/redis-store.test.ts: StaunchModule.forRootAsync makes a
 * `@staunch/redis` store from an ioredis client injected from the app's own module (REDIS_URL),
 * and a circuit decorated with `store: moduleCircuitStore` uses it. Two of these processes, one
 * Redis server: one circuit.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Param,
  type BeforeApplicationShutdown,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { CircuitBreaker } from '@staunch/decorators';
import { StaunchModule, moduleCircuitStore } from '@staunch/nestjs';
import { redisStore } from '@staunch/redis';

class PaymentsDown extends Error {}

const REDIS = 'REDIS';

@Injectable()
export class Payments {
  @CircuitBreaker(PaymentsDown, { threshold: 2, resetTimeout: 60_000, store: moduleCircuitStore, name: 'payments' })
  async charge(fail: boolean): Promise<string> {
    if (fail) throw new PaymentsDown('the payment provider failed');
    return 'charged';
  }
}

@Controller()
export class PaymentsController {
  constructor(private readonly payments: Payments) {}

  @Get('charge/:outcome')
  charge(@Param('outcome') outcome: string): Promise<string> {
    return this.payments.charge(outcome === 'fail');
  }
}

/** The app's Redis client; closed (store first) when the app shuts down. */
@Injectable()
class RedisLifecycle implements BeforeApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async beforeApplicationShutdown(): Promise<void> {
    await redisStore(this.redis, { quorum: 1 }).close();
    await this.redis.quit();
  }
}

@Module({
  providers: [{ provide: REDIS, useFactory: () => new Redis(process.env.REDIS_URL as string) }, RedisLifecycle],
  exports: [REDIS],
})
class RedisModule {}

@Module({
  imports: [
    RedisModule,
    StaunchModule.forRootAsync({
      imports: [RedisModule],
      inject: [REDIS],
      // quorum 1: one process's failures open the circuit for the whole fleet.
      useFactory: (redis: Redis) => ({ store: redisStore(redis, { quorum: 1 }) }),
    }),
  ],
  controllers: [PaymentsController],
  providers: [Payments],
})
class AppModule {}

export function createApp(): Promise<INestApplication> {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- Nest's documented options literal
  return NestFactory.create(AppModule, { logger: false });
}
