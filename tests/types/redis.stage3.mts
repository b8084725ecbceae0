// ES-module consumer: @staunch/redis as published, with @staunch/core and @staunch/decorators.
import { Redis } from 'ioredis';
import { circuitBreaker, type CircuitStoreProvider } from '@staunch/core';
import { CircuitBreaker } from '@staunch/decorators';
import {
  redisCircuitKeys,
  redisStore,
  type RedisCircuitKeys,
  type RedisCircuitStore,
  type SharedCircuitChangeEvent,
} from '@staunch/redis';

import type { Equal, Expect } from './helpers/expect.js';
import { expectAssignable } from './helpers/expect.js';

declare const client: Redis;

const store = redisStore(client, { quorum: 2, window: 30_000, prefix: 'app:', commandTimeout: 100 });
type _store = Expect<Equal<typeof store, RedisCircuitStore>>;
expectAssignable<CircuitStoreProvider>(store);
type _keys = Expect<Equal<ReturnType<typeof redisCircuitKeys>, RedisCircuitKeys>>;

// A breaker and a decorator take it as their store, with a name.
circuitBreaker({ threshold: 5, resetTimeout: 30_000, name: 'payments', store });
class Checkout {
  @CircuitBreaker({ threshold: 5, resetTimeout: 30_000, store, name: 'payments' })
  async charge(id: string): Promise<string> {
    return id;
  }
}
void Checkout;

// Events are typed by name.
store.on('change', (event) => {
  type _event = Expect<Equal<typeof event, SharedCircuitChangeEvent>>;
  type _state = Expect<Equal<typeof event.state, 'closed' | 'open' | 'half-open'>>;
});
store.on('restored', ({ downtime }) => {
  type _downtime = Expect<Equal<typeof downtime, number>>;
});

// What must not compile.
// @ts-expect-error an ioredis client is required
redisStore({});
// @ts-expect-error quorum is a number
redisStore(client, { quorum: '2' });
// @ts-expect-error a misspelt option
redisStore(client, { quorom: 2 });
// @ts-expect-error no such event
store.on('down', () => undefined);
class Mixed {
  // @ts-expect-error a shared breaker is given alone, not with a store
  @CircuitBreaker({ breaker: circuitBreaker(), store })
  async call(): Promise<void> {}
}
void Mixed;
