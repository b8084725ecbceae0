// What the decorators must and must not accept, checked in both decorator modes against the
// published .d.ts. Each `@ts-expect-error` marks code that must NOT compile.
import {
  AsyncBackoff,
  AsyncRetry,
  CircuitBreaker,
  Poll,
  Retry,
  attemptSignal,
  circuitBreaker,
  circuitOf,
  policiesOf,
  type CircuitBreakerPolicy,
  type PolicyDescriptor,
} from '@staunch/decorators';

import type { Equal, Expect } from './helpers/expect.js';

class HttpError extends Error {}
interface Job {
  readonly state: 'running' | 'done';
}

export class Service {
  @Retry(HttpError, { times: 3, interval: 200 })
  @CircuitBreaker(HttpError, { threshold: 3, resetTimeout: 60_000 })
  async charge(id: string): Promise<string> {
    return id;
  }

  @Retry({ on: [HttpError, TypeError], times: 2 })
  async fetch(): Promise<number> {
    return 1;
  }

  @Poll((job: Job) => job.state === 'done', { timeout: 15_000, interval: 1_000 })
  async job(_id: string): Promise<Job> {
    return { state: 'done' };
  }

  @AsyncBackoff(100, 1_000, 100, TypeError, RangeError)
  async rows(): Promise<string[]> {
    const signal: AbortSignal = attemptSignal();
    return signal.aborted ? [] : ['row'];
  }

  @AsyncBackoff(null, 1_000)
  async noAttemptLimit(): Promise<void> {}

  @AsyncBackoff({
    attemptTimeout: 500,
    deadline: 1_000,
    pause: 100,
    maxTries: 3,
    on: [TypeError],
    giveup: (e) => e instanceof RangeError,
  })
  async save(_row: string): Promise<void> {}

  @AsyncRetry(5)
  async download(_url: string): Promise<Uint8Array> {
    return new Uint8Array();
  }

  // A sync method keeps its sync type under @CircuitBreaker.
  @CircuitBreaker({ threshold: 2, resetTimeout: 1_000, scope: 'instance' })
  parse(text: string): number {
    return Number(text);
  }

  @CircuitBreaker<Service, [string]>({ threshold: 2, resetTimeout: 1_000, key: (_self, [host]) => host })
  async ping(host: string): Promise<string> {
    return host;
  }

  @CircuitBreaker({ breaker: circuitBreaker({ threshold: 1, resetTimeout: 10 }) })
  async shared(): Promise<void> {}

  // Every option has a default: no options object is needed, with or without an error filter.
  @CircuitBreaker()
  async defaults(): Promise<void> {}

  @CircuitBreaker(HttpError)
  async filtered(): Promise<void> {}

  @CircuitBreaker([HttpError, TypeError])
  syncFiltered(): number {
    return 1;
  }

  @CircuitBreaker((error) => error instanceof HttpError)
  @CircuitBreaker()
  syncDefaults(): string {
    return '';
  }

  // @ts-expect-error @Retry needs a method that returns a Promise: a sync method cannot sleep
  @Retry()
  syncRetry(): number {
    return 1;
  }

  // @ts-expect-error @AsyncRetry needs a method that returns a Promise
  @AsyncRetry(3)
  syncAsyncRetry(): string {
    return '';
  }

  // @ts-expect-error @AsyncBackoff needs a method that returns a Promise
  @AsyncBackoff({ attemptTimeout: 10 })
  syncBackoff(): void {}

  // @ts-expect-error @Poll's predicate takes a Job, but this method resolves to a number
  @Poll((job: Job) => job.state === 'done')
  async wrongValue(): Promise<number> {
    return 1;
  }

  // @ts-expect-error @Poll needs a method that returns a Promise
  @Poll((n: number) => n > 0)
  syncPoll(): number {
    return 1;
  }

  // @ts-expect-error the key function reads a string argument, but the method takes a number
  @CircuitBreaker<Service, [string]>({ threshold: 2, resetTimeout: 1_000, key: (_self, [host]) => host })
  async wrongKey(port: number): Promise<number> {
    return port;
  }
}

// @ts-expect-error `times` is a number
Retry({ times: '3' });
// @ts-expect-error the positional attempt timeout is a number (or null)
AsyncBackoff('100', 1_000);
// @ts-expect-error `scope` is 'class' or 'instance'
CircuitBreaker({ threshold: 1, resetTimeout: 1, scope: 'global' });
// @ts-expect-error `resetTimeout` is milliseconds
CircuitBreaker(HttpError, { threshold: 1, resetTimeout: '1m' });
// @ts-expect-error `halfOpenFailureRate` is a number (a share of the trials, 0.5 for half)
CircuitBreaker({ halfOpenCalls: 4, halfOpenFailureRate: '50%' });
CircuitBreaker({ halfOpenCalls: 4, halfOpenFailureRate: 0.5 });
declare const sharedCircuit: CircuitBreakerPolicy;
// @ts-expect-error a shared `breaker` keeps its own options: nothing else may be given
CircuitBreaker({ breaker: sharedCircuit, threshold: 5 });
// @ts-expect-error nor the trials' failure rate
CircuitBreaker({ breaker: sharedCircuit, halfOpenFailureRate: 0.5 });
// @ts-expect-error a shared `breaker` has no scope of its own
CircuitBreaker({ breaker: sharedCircuit, scope: 'instance' });
// @ts-expect-error `key` and `scope` exclude each other
CircuitBreaker({ threshold: 1, resetTimeout: 1, scope: 'instance', key: () => 'k' });
// @ts-expect-error a shared `breaker` is given alone, not after an error filter
CircuitBreaker(HttpError, { breaker: sharedCircuit });
// @ts-expect-error the error filter is a class, an array of classes or a predicate
CircuitBreaker('HttpError');
CircuitBreaker({ breaker: sharedCircuit });
CircuitBreaker();
CircuitBreaker(HttpError);
CircuitBreaker(HttpError, { threshold: 1 });
CircuitBreaker({ threshold: 1, resetTimeout: 1, key: () => 'k' });

declare const service: Service;
type _SyncStaysSync = Expect<Equal<ReturnType<typeof service.parse>, number>>;
type _DefaultsKeepSync = Expect<Equal<ReturnType<typeof service.syncDefaults>, string>>;
type _AsyncStaysAsync = Expect<Equal<ReturnType<typeof service.charge>, Promise<string>>>;
type _Circuit = Expect<Equal<ReturnType<typeof circuitOf>, CircuitBreakerPolicy>>;

const [first] = policiesOf(Service, 'charge');
if (first?.kind === 'circuitBreaker') {
  const scope: 'class' | 'instance' | 'key' | 'breaker' = first.scope;
  void scope;
}
