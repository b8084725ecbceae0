import { AsyncRetry, CircuitBreaker, Poll, Retry, circuitOf, policiesOf, policyOf } from '@staunch/decorators';
import { capture, useVirtualClock } from './helpers';

describe('policy metadata', () => {
  const time = useVirtualClock();

  it('is supplied by the compiler (fails loudly if Symbol.metadata or context.metadata went missing)', () => {
    class Probe {
      @Retry()
      async run(): Promise<void> {}
    }
    expect(typeof Symbol.metadata).toBe('symbol');
    expect(Object.hasOwn(Probe, Symbol.metadata)).toBe(true);
    expect(policiesOf(Probe)).toHaveLength(1);
  });

  it('is a frozen descriptor per policy: kind + resolved options', () => {
    class Files {
      @AsyncRetry(5)
      async download(): Promise<void> {}
    }
    const [descriptor] = policiesOf(Files, 'download');
    expect(descriptor).toEqual({ kind: 'asyncRetry', options: expect.objectContaining({ maxTries: 5 }) });
    expect(Object.isFrozen(descriptor)).toBe(true);
    expect(Object.isFrozen(policiesOf(Files, 'download'))).toBe(true);
  });

  it('lists every decorated method of a class, instance and static, with its flags', () => {
    const sym = Symbol('sym');
    class Service {
      @Retry()
      async a(): Promise<void> {}
      @Retry()
      static async a(): Promise<void> {}
      @CircuitBreaker({ threshold: 1, resetTimeout: 1 })
      [sym](): void {}
      @Retry()
      async #hidden(): Promise<void> {}
      plain(): void {}
      callHidden() {
        return this.#hidden();
      }
    }
    const entries = policiesOf(Service).map((e) => [e.method, e.static, e.private, e.policies.map((p) => p.kind)]);
    expect(entries).toEqual(
      expect.arrayContaining([
        ['a', false, false, ['retry']],
        ['a', true, false, ['retry']],
        [sym, false, false, ['circuitBreaker']],
        ['#hidden', false, true, ['retry']],
      ]),
    );
    expect(entries).toHaveLength(4);
    expect(policiesOf(Service, 'a', { static: true })).toEqual([expect.objectContaining({ kind: 'retry' })]);
    expect(policiesOf(Service, 'plain')).toEqual([]);
  });

  it('is inherited by subclasses, and a child decorator never changes its parent’s list (copy on write)', () => {
    class Parent {
      @Retry()
      async load(): Promise<void> {}
    }
    class Child extends Parent {
      @Poll((v: unknown) => v !== undefined)
      async other(): Promise<unknown> {
        return 1;
      }
    }
    expect(policiesOf(Child, 'load')).toEqual([expect.objectContaining({ kind: 'retry' })]);
    expect(
      policiesOf(Child)
        .map((e) => e.method)
        .sort(),
    ).toEqual(['load', 'other']);
    expect(policiesOf(Parent).map((e) => e.method)).toEqual(['load']);
  });

  it('drops a parent’s policies for a method overridden without decorators (the override replaces the wrapper)', async () => {
    let parentCalls = 0;
    class Parent {
      @Retry({ times: 3, interval: 0 })
      async load(): Promise<void> {
        parentCalls++;
        throw new Error('parent');
      }
    }
    class Child extends Parent {
      override async load(): Promise<void> {
        throw new Error('child, no retry');
      }
    }
    expect(policiesOf(Child, 'load')).toEqual([]);
    expect(policiesOf(Parent, 'load')).toHaveLength(1);
    const outcome = await capture(new Child().load());
    expect(outcome).toEqual({ ok: false, error: new Error('child, no retry') });
    expect(parentCalls).toBe(0);
  });

  it('nests both policies when a decorated override calls super (child outside, parent inside)', async () => {
    const calls: string[] = [];
    class Parent {
      @Retry({ times: 2, interval: 0 })
      async load(): Promise<void> {
        calls.push('parent');
        throw new Error('down');
      }
    }
    class Child extends Parent {
      @Retry({ times: 2, interval: 0 })
      override async load(): Promise<void> {
        calls.push('child');
        return super.load();
      }
    }
    const result = capture(new Child().load());
    await time.clock.advance(0);
    await result;
    // 2 child attempts × 2 parent attempts each: retries multiply, as documented.
    expect(calls).toEqual(['child', 'parent', 'parent', 'child', 'parent', 'parent']);
    expect(policiesOf(Child, 'load')).toHaveLength(1);
  });

  it('keeps static methods named by two symbols with the same description apart (policies and circuits)', async () => {
    const first = Symbol('op');
    const second = Symbol('op');
    class Ops {
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      static [first](): never {
        throw new Error('first is down');
      }

      @Retry({ times: 2 })
      @CircuitBreaker({ threshold: 3, resetTimeout: 1_000 })
      static async [second](): Promise<string> {
        return 'second';
      }
    }
    expect(policiesOf(Ops, first, { static: true }).map((p) => p.kind)).toEqual(['circuitBreaker']);
    expect(policiesOf(Ops, second, { static: true }).map((p) => p.kind)).toEqual(['retry', 'circuitBreaker']);
    expect(policiesOf(Ops).map((e) => e.method)).toEqual([first, second]);
    expect(() => Ops[first]()).toThrow('first is down');
    expect(circuitOf(Ops, first).state).toBe('open');
    expect(circuitOf(Ops, second).state).toBe('closed');
    expect(await Ops[second]()).toBe('second');
  });

  it("keeps an instance method named 'static load' apart from a static method `load`", () => {
    class Odd {
      @Retry({ times: 2 })
      async 'static load'(): Promise<void> {}

      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      static load(): void {}
    }
    expect(policiesOf(Odd, 'static load').map((p) => p.kind)).toEqual(['retry']);
    expect(policiesOf(Odd, 'load', { static: true }).map((p) => p.kind)).toEqual(['circuitBreaker']);
    expect(policiesOf(Odd).map((e) => [e.method, e.static])).toEqual([
      ['static load', false],
      ['load', true],
    ]);
    expect(policyOf(Odd, 'static load', 'retry').options.times).toBe(2);
    expect(circuitOf(Odd, 'load').options.threshold).toBe(1);
  });

  it('reads a class with a private or protected constructor, or an instance, as policyOf and circuitOf do', () => {
    class Singleton {
      private constructor() {}
      static create(): Singleton {
        return new Singleton();
      }
      @Retry({ times: 2 })
      async load(): Promise<void> {}
    }
    abstract class Base {
      protected constructor() {}
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      ping(): void {}
    }
    class Derived extends Base {
      // Public: Base's is protected.
      public constructor() {
        super();
      }
    }
    const one = Singleton.create();
    expect(policiesOf(Singleton, 'load')).toEqual([expect.objectContaining({ kind: 'retry' })]);
    expect(policiesOf(one, 'load')).toBe(policiesOf(Singleton, 'load'));
    expect(policiesOf(one)).toEqual(policiesOf(Singleton));
    expect(policiesOf(Base).map((e) => e.method)).toEqual(['ping']);
    expect(policiesOf(new Derived(), 'ping')).toEqual([expect.objectContaining({ kind: 'circuitBreaker' })]);
  });
});
