// Compiled with `experimentalDecorators` + `emitDecoratorMetadata` (jest project `legacy`),
// as NestJS, TypeORM and Angular users compile: the same exported decorators must work.
import 'reflect-metadata';
import {
  AsyncRetry,
  CircuitBreaker,
  CallTimeoutError,
  CircuitOpenError,
  Fallback,
  Poll,
  Retry,
  Timeout,
  attemptSignal,
  circuitOf,
  isCircuitOpenError,
  policiesOf,
  policyOf,
} from '@staunch/decorators';
import { useVirtualClock } from '../decorators/helpers';

// A stand-in for @nestjs/common's Injectable(): a class decorator that records design-time metadata.
function Injectable(): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata('injectable', true, target);
  };
}

class TransientError extends Error {}

class Logger {
  readonly lines: string[] = [];
  log(line: string): void {
    this.lines.push(line);
  }
}

@Injectable()
class PaymentsService {
  calls = 0;
  constructor(private readonly logger: Logger) {}

  @Retry(TransientError, { times: 3, interval: 100 })
  @CircuitBreaker(TransientError, { threshold: 5, resetTimeout: 10_000 })
  async charge(amount: number): Promise<string> {
    this.calls++;
    this.logger.log(`charge ${amount}`);
    if (this.calls < 3) throw new TransientError('flaky');
    return `charged ${amount}`;
  }

  @Poll((state: string) => state === 'done', { timeout: 1_000, interval: 100 })
  async status(id: string): Promise<string> {
    this.logger.log(`status ${id}`);
    return this.calls >= 5 ? 'done' : (this.calls++, 'pending');
  }

  @AsyncRetry(2)
  static async warmUp(): Promise<string> {
    return 'warm';
  }

  @CircuitBreaker({ threshold: 1, resetTimeout: 1_000, scope: 'instance' })
  parse(text: string): number {
    if (text === '') throw new SyntaxError('empty');
    return Number(text);
  }
}

describe('legacy (experimentalDecorators) mode', () => {
  const time = useVirtualClock();

  it('keeps the injectable class and its design-time metadata intact', () => {
    expect(Reflect.getMetadata('injectable', PaymentsService)).toBe(true);
    expect(Reflect.getMetadata('design:paramtypes', PaymentsService)).toEqual([Logger]);
    expect(Reflect.getMetadata('design:returntype', PaymentsService.prototype, 'charge')).toBe(Promise);
  });

  it('retries through the stacked breaker, with `this` and arguments intact', async () => {
    const logger = new Logger();
    const service = new PaymentsService(logger);
    const result = service.charge(42);
    await time.clock.advance(200);
    await expect(result).resolves.toBe('charged 42');
    expect(logger.lines).toEqual(['charge 42', 'charge 42', 'charge 42']);
  });

  it('records the policies in written order, readable with policiesOf and reflect-metadata', () => {
    expect(policiesOf(PaymentsService, 'charge').map((p) => p.kind)).toEqual(['retry', 'circuitBreaker']);
    expect(policiesOf(PaymentsService, 'warmUp', { static: true }).map((p) => p.kind)).toEqual(['asyncRetry']);
    const mirrored = Reflect.getMetadata('staunch:policies', PaymentsService.prototype, 'charge') as { kind: string }[];
    expect(mirrored.map((p) => p.kind)).toEqual(['retry', 'circuitBreaker']);
  });

  it('polls until the predicate holds', async () => {
    const service = new PaymentsService(new Logger());
    service.calls = 3;
    const result = service.status('job-1');
    await time.clock.advance(200);
    await expect(result).resolves.toBe('done');
  });

  it('wraps static methods', async () => {
    await expect(PaymentsService.warmUp()).resolves.toBe('warm');
  });

  it('keeps a sync method sync with a per-instance circuit', () => {
    const a = new PaymentsService(new Logger());
    const b = new PaymentsService(new Logger());
    expect(a.parse('7')).toBe(7);
    expect(() => a.parse('')).toThrow(SyntaxError);
    let thrown: unknown;
    try {
      a.parse('8');
    } catch (error) {
      thrown = error;
    }
    expect(isCircuitOpenError(thrown)).toBe(true);
    expect(b.parse('9')).toBe(9);
    expect(circuitOf(a, 'parse')).not.toBe(circuitOf(b, 'parse'));
  });

  it('keeps method names', () => {
    expect(PaymentsService.prototype.charge.name).toBe('charge');
  });
});

describe('legacy mode: a method declared to return a Promise (emitDecoratorMetadata)', () => {
  it('rejects from an open circuit, never throws, though the method is not `async`', async () => {
    let calls = 0;
    class Api {
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      get(): Promise<string> {
        calls++;
        return Promise.resolve('ok');
      }
    }
    circuitOf(Api, 'get').isolate();
    let result: Promise<string> | undefined;
    expect(() => (result = new Api().get())).not.toThrow();
    await expect(result).rejects.toThrow(expect.objectContaining({ code: 'STAUNCH_CIRCUIT_OPEN' }));
    expect(calls).toBe(0);
  });

  it('rejects when a keyed circuit’s `key` function throws', async () => {
    class Api {
      @CircuitBreaker<Api, [string]>({ threshold: 1, resetTimeout: 1_000, key: (_self, [url]) => new URL(url).host })
      get(url: string): Promise<string> {
        return Promise.resolve(url);
      }
    }
    let result: Promise<string> | undefined;
    expect(() => (result = new Api().get('not a url'))).not.toThrow();
    await expect(result).rejects.toThrow(expect.objectContaining({ code: 'ERR_INVALID_URL' }));
  });
});

describe('legacy mode: a foreign decorator between staunch decorators', () => {
  const time = useVirtualClock();

  it('keeps top = outermost when it copies the method’s properties: it runs once per attempt', async () => {
    let foreignCalls = 0;
    // In the style of mimic-function: the wrapper gets every own property of the method it wraps.
    const counting: MethodDecorator = (_target, _key, descriptor) => {
      const method = descriptor.value as unknown as (...args: unknown[]) => unknown;
      const wrapper = function (this: unknown, ...args: unknown[]): unknown {
        foreignCalls++;
        return method.apply(this, args);
      };
      Object.defineProperties(wrapper, Object.getOwnPropertyDescriptors(method));
      descriptor.value = wrapper as never;
    };
    class Api {
      @Retry({ times: 3, interval: 10 })
      @counting
      @CircuitBreaker({ threshold: 5, resetTimeout: 1_000 })
      async get(): Promise<string> {
        throw new TransientError('down');
      }
    }
    const result = new Api().get().catch((error: unknown) => error);
    await time.clock.advance(20);
    expect(await result).toBeInstanceOf(TransientError);
    expect(foreignCalls).toBe(3);
    expect(circuitOf(Api, 'get').statistics.calls).toBe(3);
    expect(policiesOf(Api, 'get').map((p) => p.kind)).toEqual(['retry', 'circuitBreaker']);
  });
});

describe('legacy mode: @Fallback', () => {
  const time = useVirtualClock();

  it('answers the open circuit under @Retry over @CircuitBreaker, with `this` and the arguments', async () => {
    class Catalog {
      readonly source = 'cache';
      calls = 0;
      @Fallback(
        function (this: Catalog, _error: unknown, id: string) {
          return `${this.source}:${id}`;
        },
        { on: CircuitOpenError },
      )
      @Retry(TransientError, { times: 2, interval: 100 })
      @CircuitBreaker(TransientError, { threshold: 2, resetTimeout: 1_000 })
      async product(id: string): Promise<string> {
        this.calls++;
        throw new TransientError(`down ${id}`);
      }
    }
    const catalog = new Catalog();
    const first = catalog.product('p1').catch((error: unknown) => error);
    await time.clock.advance(100);
    expect(await first).toBeInstanceOf(TransientError);
    await expect(catalog.product('p2')).resolves.toBe('cache:p2');
    expect(catalog.calls).toBe(2);
    expect(policiesOf(Catalog, 'product').map((p) => p.kind)).toEqual(['fallback', 'retry', 'circuitBreaker']);
    expect(policyOf(Catalog, 'product', 'fallback').statistics).toEqual({
      calls: 2,
      successes: 0,
      fallbacks: 1,
      failures: 1,
    });
  });

  it('keeps a sync method sync', () => {
    class Parser {
      @Fallback(0)
      parse(text: string): number {
        if (text === '') throw new TypeError('empty');
        return text.length;
      }
    }
    expect(new Parser().parse('abc')).toBe(3);
    expect(new Parser().parse('')).toBe(0);
  });
});

describe('legacy mode: @Timeout', () => {
  const time = useVirtualClock();

  it('bounds each attempt under @Retry, aborting that call’s signal with CallTimeoutError', async () => {
    const signals: AbortSignal[] = [];
    @Injectable()
    class Upstream {
      @Retry(CallTimeoutError, { times: 2, interval: 10 })
      @Timeout(100)
      async get(): Promise<string> {
        signals.push(attemptSignal());
        if (signals.length === 1) return new Promise<string>(() => undefined);
        return 'second';
      }
    }
    const result = new Upstream().get();
    await time.clock.advance(110);
    await expect(result).resolves.toBe('second');
    expect(signals[0]!.reason).toBeInstanceOf(CallTimeoutError);
    expect(signals[1]!.aborted).toBe(false);
    expect(policiesOf(Upstream, 'get').map((p) => p.kind)).toEqual(['retry', 'timeout']);
    expect(time.clock.pending).toBe(0);
  });

  it('rejects a bad `ms` at class definition, naming the method', () => {
    expect(() => {
      class Upstream {
        @Timeout(-1)
        async get(): Promise<void> {}
      }
      return Upstream;
    }).toThrow('@Timeout on get(): `ms` must be a number > 0 (or Infinity), got -1.');
  });
});
