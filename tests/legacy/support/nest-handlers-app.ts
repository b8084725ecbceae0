/**
 * A real NestJS app (run in a child process by nest-handlers.test.ts) whose one controller has a
 * route for every placement of Nest's method decorators around a stack of two staunch decorators:
 * each of `@Get`/`@Post`, `@UseGuards`, `@UseInterceptors`, `@SetMetadata` and `@HttpCode` written
 * above, between or below the staunch pair (3^5 placements), for both orders of the pair.
 * The decorators are applied with `Reflect.decorate`, the call TypeScript's legacy emit makes.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  SetMetadata,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import { map, type Observable } from 'rxjs';
import { CircuitBreaker, Retry, type PolicyDescriptor } from '@staunch/decorators';
import { routeCases, STATUS, type Placement, type RouteCase } from './nest-handler-cases';

class TransientError extends Error {}

/** Lets a request through only when the handler's `@SetMetadata('role', …)` is readable. */
@Injectable()
export class RoleGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    return this.reflector.get<string | undefined>('role', context.getHandler()) === 'member';
  }
}

/** Adds what an interceptor reads from the handler: staunch's policies, through Nest's Reflector. */
@Injectable()
export class PoliciesInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const policies = this.reflector.get<readonly PolicyDescriptor[] | undefined>(
      'staunch:policies',
      context.getHandler(),
    );
    return next
      .handle()
      .pipe(map((body: object) => ({ ...body, intercepted: true, policies: policies?.map((p) => p.kind) ?? null })));
  }
}

class Routes {
  readonly attempts = new Map<string, number>();
}

function decoratorsFor(route: RouteCase): MethodDecorator[] {
  const nest: MethodDecorator[] = [
    route.verb === 'GET' ? Get(route.path) : Post(route.path),
    UseGuards(RoleGuard),
    UseInterceptors(PoliciesInterceptor),
    SetMetadata('role', 'member'),
    HttpCode(STATUS),
  ];
  const staunch: Record<RouteCase['staunch'][number], MethodDecorator> = {
    retry: Retry(TransientError, { times: 3, interval: 1 }),
    circuitBreaker: CircuitBreaker(TransientError, { threshold: 100, resetTimeout: 1_000 }),
  };
  const at = (placement: Placement): MethodDecorator[] => nest.filter((_, k) => route.placements[k] === placement);
  // Written order, top to bottom.
  return [...at(0), staunch[route.staunch[0]], ...at(1), staunch[route.staunch[1]], ...at(2)];
}

for (const route of routeCases()) {
  const key = route.path;
  // Fails once, then succeeds: the response says the retry ran.
  async function handler(this: Routes): Promise<object> {
    const attempts = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempts);
    if (attempts === 1) throw new TransientError('first attempt fails');
    return { route: key, attempts };
  }
  const descriptor = { value: handler, writable: true, enumerable: false, configurable: true };
  const decorated = Reflect.decorate(decoratorsFor(route), Routes.prototype, key, descriptor);
  Object.defineProperty(Routes.prototype, key, decorated);
}
Controller()(Routes);

@Module({ controllers: [Routes] })
class RoutesModule {}

export function createApp(): Promise<INestApplication> {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- Nest's documented options literal
  return NestFactory.create(RoutesModule, { logger: false });
}
