// Legacy decorators replace a method with staunch's wrapper; what frameworks stored on the method
// function (reflect-metadata entries, own properties) must be on the wrapper, in any order.
import 'reflect-metadata';
import { CircuitBreaker, Retry, Timeout, policiesOf } from '@staunch/decorators';

// Stores like Nest's @SetMetadata / @Get: on the function the decorator is given.
const Tag =
  (key: string, value: unknown): MethodDecorator =>
  (_target, _key, descriptor) => {
    Reflect.defineMetadata(key, value, descriptor.value as object);
    return descriptor;
  };
// Stores an own property on the function, as some frameworks do.
const Mark: MethodDecorator = (_target, _key, descriptor) => {
  (descriptor.value as unknown as Record<string, unknown>).marked = true;
  return descriptor;
};
// A foreign wrapper that copies nothing.
const Wrap: MethodDecorator = (_target, _key, descriptor) => {
  const inner = descriptor.value as unknown as (...args: unknown[]) => unknown;
  (descriptor as PropertyDescriptor).value = function (this: unknown, ...args: unknown[]) {
    return inner.apply(this, args);
  };
  return descriptor;
};

const kinds = (fn: unknown): unknown =>
  (Reflect.getMetadata('staunch:policies', fn as object) as { kind: string }[] | undefined)?.map((p) => p.kind);

class Service {
  @Retry({ times: 2, interval: 1 })
  @Tag('route', '/below')
  @Mark
  async below(): Promise<string> {
    return 'ok';
  }

  @Tag('route', '/above')
  @Mark
  @Retry({ times: 2, interval: 1 })
  async above(): Promise<string> {
    return 'ok';
  }

  @Retry({ times: 2, interval: 1 })
  @Tag('route', '/between')
  @CircuitBreaker({ threshold: 5, resetTimeout: 1_000 })
  @Tag('guard', 'g')
  async between(): Promise<string> {
    return 'ok';
  }

  @Timeout(1_000)
  @Wrap
  @Retry({ times: 2, interval: 1 })
  async wrapped(): Promise<string> {
    return 'ok';
  }
}

describe('legacy wrappers carry the method’s metadata', () => {
  it('carries reflect-metadata entries stored on the method by a decorator written below', () => {
    expect(Reflect.getMetadata('route', Service.prototype.below)).toBe('/below');
  });

  it('keeps what a decorator written above stores on the wrapper', () => {
    expect(Reflect.getMetadata('route', Service.prototype.above)).toBe('/above');
    expect((Service.prototype.above as unknown as { marked?: boolean }).marked).toBe(true);
  });

  it('carries own properties of the method a decorator written below set', () => {
    expect((Service.prototype.below as unknown as { marked?: boolean }).marked).toBe(true);
  });

  it('passes metadata along a stack of staunch decorators, whatever sits between them', () => {
    expect(Reflect.getMetadata('route', Service.prototype.between)).toBe('/between');
    expect(Reflect.getMetadata('guard', Service.prototype.between)).toBe('g');
  });

  it('keeps the wrapper’s own name and length', () => {
    expect(Service.prototype.below.name).toBe('below');
    expect(Service.prototype.below.length).toBe(0);
  });

  it('stores every policy on the handler under staunch:policies, outermost first (Nest’s Reflector reads it there)', () => {
    expect(kinds(Service.prototype.below)).toEqual(['retry']);
    expect(kinds(Service.prototype.between)).toEqual(['retry', 'circuitBreaker']);
  });

  it('lists the whole stack on the outer wrapper when a foreign wrapper sits between staunch decorators', async () => {
    expect(kinds(Service.prototype.wrapped)).toEqual(['timeout', 'retry']);
    expect(policiesOf(Service, 'wrapped').map((p) => p.kind)).toEqual(['timeout', 'retry']);
    await expect(new Service().wrapped()).resolves.toBe('ok');
  });

  it('still mirrors the policies on (prototype, method name)', () => {
    expect(
      (Reflect.getMetadata('staunch:policies', Service.prototype, 'between') as { kind: string }[]).map((p) => p.kind),
    ).toEqual(['retry', 'circuitBreaker']);
  });
});
