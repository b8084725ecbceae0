// policiesOf, policyOf and circuitOf take the same targets: a class, whatever its constructor's
// visibility (singletons, abstract bases), or an instance of it. Checked in both decorator modes.
import {
  CircuitBreaker,
  Retry,
  circuitOf,
  policiesOf,
  policyOf,
  type CircuitBreakerPolicy,
  type MethodPolicies,
  type PolicyDescriptor,
  type RetryPolicy,
} from '@staunch/decorators';

import type { Equal, Expect } from './helpers/expect.js';

export class Singleton {
  private constructor() {}

  static create(): Singleton {
    return new Singleton();
  }

  @Retry()
  @CircuitBreaker({ threshold: 1 })
  async load(): Promise<void> {}
}

export abstract class Base {
  protected constructor() {}

  @Retry()
  @CircuitBreaker({ threshold: 1 })
  async ping(): Promise<void> {}
}

export class Public {
  @Retry()
  @CircuitBreaker({ threshold: 1 })
  async get(): Promise<void> {}
}

const one = Singleton.create();
declare const base: Base;

for (const target of [Singleton, one, Base, base, Public, new Public()]) {
  const all = policiesOf(target);
  type _All = Expect<Equal<typeof all, readonly MethodPolicies[]>>;
}

const forSingleton = policiesOf(Singleton, 'load');
type _ForSingleton = Expect<Equal<typeof forSingleton, readonly PolicyDescriptor[]>>;
const forBase = policiesOf(Base, 'ping', { static: false });
type _ForBase = Expect<Equal<typeof forBase, readonly PolicyDescriptor[]>>;
const forInstance = policiesOf(one, 'load');
type _ForInstance = Expect<Equal<typeof forInstance, readonly PolicyDescriptor[]>>;

const retryPolicy = policyOf(Singleton, 'load', 'retry');
type _Retry = Expect<Equal<typeof retryPolicy, RetryPolicy>>;
const circuit = circuitOf(Base, 'ping');
type _Circuit = Expect<Equal<typeof circuit, CircuitBreakerPolicy>>;
policyOf(base, 'ping', 'retry');
circuitOf(one, 'load');

// @ts-expect-error a class or an instance, not its name
policiesOf('Singleton');
// @ts-expect-error a class or an instance, not its name
circuitOf('Singleton', 'load');
// @ts-expect-error a method is named by a string or a symbol
policiesOf(Singleton, 1);
// @ts-expect-error `static` is a boolean
policiesOf(Singleton, 'load', { static: 'yes' });
