// CommonJS consumer of @staunch/decorators in legacy mode (experimentalDecorators, as NestJS,
// Angular and TypeORM apps compile).
import { CircuitOpenError, isStaunchError, type Clock } from '@staunch/decorators';
import * as core from '@staunch/core';

import type { Equal, Expect } from './helpers/expect.js';

type _SameError = Expect<Equal<CircuitOpenError, core.CircuitOpenError>>;
type _SameClock = Expect<Equal<Clock, core.Clock>>;
type _SameGuard = Expect<Equal<typeof isStaunchError, typeof core.isStaunchError>>;

// This file really is compiled in legacy mode: a legacy method decorator applies, and a
// Stage-3 (value, context) one does not.
function legacy(_target: object, _key: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor {
  return descriptor;
}
function stage3(method: (...args: never[]) => unknown, _context: ClassMethodDecoratorContext): typeof method {
  return method;
}

export class Service {
  @legacy
  async fetch(id: string): Promise<string> {
    return id;
  }

  // @ts-expect-error a Stage-3 decorator is not valid in legacy mode
  @stage3
  async save(): Promise<void> {}
}
