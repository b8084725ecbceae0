// ES-module consumer of @staunch/decorators in Stage-3 mode (no experimentalDecorators).
import { CircuitOpenError, isStaunchError, type Clock } from '@staunch/decorators';
import * as core from '@staunch/core';

import type { Equal, Expect } from './helpers/expect.js';

// The decorators package re-exports core: one install gives both.
type _SameError = Expect<Equal<CircuitOpenError, core.CircuitOpenError>>;
type _SameClock = Expect<Equal<Clock, core.Clock>>;
type _SameGuard = Expect<Equal<typeof isStaunchError, typeof core.isStaunchError>>;

// This file really is compiled in Stage-3 mode: a Stage-3 method decorator applies, and a
// legacy (target, key, descriptor) one does not.
function stage3<This, Args extends unknown[], R>(
  method: (this: This, ...args: Args) => R,
  _context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => R>,
): (this: This, ...args: Args) => R {
  return method;
}
function legacy(_target: object, _key: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor {
  return descriptor;
}

export class Service {
  @stage3
  async fetch(id: string): Promise<string> {
    return id;
  }

  // @ts-expect-error a legacy decorator is not valid in Stage-3 mode
  @legacy
  async save(): Promise<void> {}
}
