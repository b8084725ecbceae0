import {
  AsyncBackoff,
  AsyncRetry,
  CircuitBreaker,
  Fallback,
  Poll,
  Retry,
  Timeout,
  policiesOf,
} from '@staunch/decorators';

// Each class below is defined inside the assertion: bad options must fail at class definition.
describe('decorator option validation', () => {
  it('names the decorator, the method and the option, and says what is allowed', () => {
    expect(() => {
      class Billing {
        @Retry(Error, { times: 2.5 })
        async charge(): Promise<void> {}
      }
      return Billing;
    }).toThrow(
      new RangeError(
        '@Retry on charge(): `times` must be an integer (the total number of calls) or Infinity, got 2.5.',
      ),
    );
  });

  it.each([
    ['@Poll interval', () => Poll(() => true, { interval: -5 }), /^@Poll on m\(\): `interval`/],
    [
      '@Poll until',
      () => Poll(42 as unknown as () => boolean),
      /^@Poll on m\(\): `until` must be a predicate function/,
    ],
    ['@AsyncBackoff pause', () => AsyncBackoff(100, 1_000, -1), /^@AsyncBackoff on m\(\): `pause` must be/],
    ['@AsyncBackoff maxTries', () => AsyncBackoff({ maxTries: 0 }), /^@AsyncBackoff on m\(\): `maxTries` must be/],
    [
      '@AsyncBackoff giveup',
      () => AsyncBackoff({ giveup: 1 as unknown as () => boolean }),
      /`giveup` must be a function/,
    ],
    ['@AsyncRetry maxTries', () => AsyncRetry(0), /^@AsyncRetry on m\(\): `maxTries` must be/],
    [
      '@CircuitBreaker threshold',
      () => CircuitBreaker({ threshold: 0, resetTimeout: 10 }),
      /^@CircuitBreaker on m\(\): `threshold`/,
    ],
    [
      '@CircuitBreaker scope',
      () => CircuitBreaker({ threshold: 1, resetTimeout: 1, scope: 'global' as 'class' }),
      /`scope` must be 'class' or 'instance'/,
    ],
    ['@Retry on', () => Retry('HttpError' as unknown as ErrorConstructor), /^@Retry on m\(\): `on` must be/],
  ])('rejects a bad %s when the class is defined', (_name, makeDecorator, message) => {
    const decorator = makeDecorator() as (value: unknown, context: ClassMethodDecoratorContext) => void;
    expect(() => {
      class Target {
        @decorator
        async m(): Promise<void> {}
      }
      return Target;
    }).toThrow(message);
  });

  it('records nothing when the options are bad', () => {
    const good = Retry();
    let Defined: (abstract new () => unknown) | undefined;
    expect(() => {
      class Partial {
        @good
        async ok(): Promise<void> {}
        @Retry({ interval: -1 })
        async bad(): Promise<void> {}
      }
      Defined = Partial;
    }).toThrow(RangeError);
    expect(Defined).toBeUndefined();
  });

  it('refuses a getter, naming the decorator', () => {
    const decorator = Retry() as unknown as (value: unknown, context: ClassGetterDecoratorContext) => void;
    expect(() => {
      class Target {
        @decorator
        get value(): number {
          return 1;
        }
      }
      return Target;
    }).toThrow('@Retry can only decorate methods, but "value" is a getter.');
  });

  it('tells you to call the factory when written without parentheses', () => {
    const bare = Retry as unknown as (value: unknown, context: ClassMethodDecoratorContext) => void;
    expect(() => {
      class Target {
        @bare
        async m(): Promise<void> {}
      }
      return Target;
    }).toThrow('@Retry must be called: write `@Retry(…)`, not `@Retry`.');
  });

  it('records the policies of a valid class', () => {
    class Fine {
      @Retry({ times: 2 })
      async m(): Promise<void> {}
    }
    expect(policiesOf(Fine, 'm')).toHaveLength(1);
  });
});

// Transpile-only builds (swc, esbuild, Babel) do not report a decorator factory used bare, so each
// decorator is called here as each mode calls it: Stage 3 `(method, context)`, legacy `(target, key, descriptor)`.
describe('a decorator written without parentheses', () => {
  const decorators: Record<string, unknown> = {
    Retry,
    Poll,
    CircuitBreaker,
    AsyncBackoff,
    AsyncRetry,
    Fallback,
    Timeout,
  };
  const method = async function m(): Promise<void> {};
  const descriptor = () => ({ value: method, writable: true, enumerable: false, configurable: true });
  const shapes: Record<string, () => unknown[]> = {
    'a Stage 3 method': () => [
      method,
      { kind: 'method', name: 'm', static: false, private: false, metadata: {}, addInitializer: () => undefined },
    ],
    'a Stage 3 field': () => [
      undefined,
      { kind: 'field', name: 'm', static: false, private: false, metadata: {}, addInitializer: () => undefined },
    ],
    'a legacy method': () => [{}, 'm', descriptor()],
    'a legacy static method': () => [class {}, Symbol('m'), descriptor()],
    'a legacy property': () => [{}, 'm'],
  };
  const cases = Object.keys(decorators).flatMap((name) => Object.keys(shapes).map((shape) => [name, shape] as const));

  it.each(cases)('throws the same TypeError for @%s on %s, and changes nothing', (name, shape) => {
    const args = (shapes[shape] as () => unknown[])();
    const before = args.map((arg) => (typeof arg === 'object' && arg !== null ? { ...arg } : arg));
    expect(() => (decorators[name] as (...args: unknown[]) => unknown)(...args)).toThrow(
      new TypeError(`@${name} must be called: write \`@${name}(…)\`, not \`@${name}\`.`),
    );
    expect(args.map((arg) => (typeof arg === 'object' && arg !== null ? { ...arg } : arg))).toEqual(before);
  });
});
