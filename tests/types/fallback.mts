// @Fallback and fallback(): the fallback's result must fit the method's return type, in both
// decorator modes. Each `@ts-expect-error` marks code that must NOT compile.
import {
  CircuitBreaker,
  CircuitOpenError,
  Fallback,
  Retry,
  fallback,
  fallbackPolicy,
  policiesOf,
  policyOf,
  type FallbackPolicy,
  type FallbackStatistics,
} from '@staunch/decorators';

import type { Equal, Expect } from './helpers/expect.js';

interface User {
  readonly name: string;
}
const cached: User = { name: 'cached' };

export class Users {
  readonly fallbackName = 'anonymous';

  @Fallback(cached)
  async constant(): Promise<User> {
    return { name: 'live' };
  }

  @Fallback(Promise.resolve(cached))
  async constantPromise(): Promise<User> {
    return { name: 'live' };
  }

  @Fallback(() => cached)
  async fromFunction(): Promise<User> {
    return { name: 'live' };
  }

  @Fallback(async () => cached, { on: CircuitOpenError })
  async fromAsyncFunction(): Promise<User> {
    return { name: 'live' };
  }

  // The fallback sees the error, the method's arguments and its `this`.
  @Fallback(function (this: Users, error: unknown, id: string) {
    return { name: `${this.fallbackName} ${id} ${String(error)}` };
  })
  async byId(id: string): Promise<User> {
    return { name: id };
  }

  // A sync method stays sync: its fallback is a plain value.
  @Fallback(0)
  count(): number {
    return 1;
  }

  @Fallback((_error: unknown, text: string) => text.length)
  parse(text: string): number {
    return Number(text);
  }

  @Fallback(cached, { on: [CircuitOpenError, TypeError] })
  @Retry({ times: 2 })
  @CircuitBreaker()
  async stacked(): Promise<User> {
    return { name: 'live' };
  }

  // @ts-expect-error the fallback is a string, the method resolves to a User
  @Fallback('nobody')
  async wrongConstant(): Promise<User> {
    return { name: 'live' };
  }

  // @ts-expect-error the fallback function returns a number, the method resolves to a User
  @Fallback(() => 42)
  async wrongFunction(): Promise<User> {
    return { name: 'live' };
  }

  // @ts-expect-error a sync method stays sync: its fallback cannot be a promise
  @Fallback(async () => 0)
  syncWithAsyncFallback(): number {
    return 1;
  }

  // @ts-expect-error a sync method stays sync: a constant promise does not fit a number either
  @Fallback(Promise.resolve(0))
  syncWithPromise(): number {
    return 1;
  }

  // @ts-expect-error the fallback reads a number argument, but the method takes a string
  @Fallback((_error: unknown, n: number) => n)
  wrongArgs(text: string): number {
    return Number(text);
  }
}

// @ts-expect-error `on` is an error filter
Fallback(0, { on: 'TypeError' });

declare const users: Users;
type _SyncStaysSync = Expect<Equal<ReturnType<typeof users.count>, number>>;
type _AsyncStaysAsync = Expect<Equal<ReturnType<typeof users.constant>, Promise<User>>>;

// The functional API: the fallback is checked against what `fn` returns.
declare function loadUser(): Promise<User>;
const user: Promise<User> = fallback(loadUser, cached);
const userFromFunction: Promise<User> = fallback(loadUser, (error) => ({ name: String(error) }));
const count: number = fallback(() => 1, 0);
// @ts-expect-error the fallback is a string, `fn` resolves to a User
fallback(loadUser, 'nobody');
// @ts-expect-error a sync call stays sync: its fallback cannot be a promise
fallback(() => 1, Promise.resolve(0));
const syncFn = (): number => 1;
const asyncFallback = async (): Promise<number> => 0;
// @ts-expect-error nor a function returning one
fallback(syncFn, asyncFallback);
void [user, userFromFunction, count];

const policy = fallbackPolicy(cached, { on: CircuitOpenError });
type _Execute = Expect<Equal<ReturnType<typeof policy.execute<Promise<User>>>, Promise<User>>>;
type _Policy = Expect<Equal<ReturnType<typeof policyOf<'fallback'>>, FallbackPolicy>>;
type _Statistics = Expect<Equal<FallbackPolicy['statistics'], FallbackStatistics>>;
policy.on('fallback', (event) => void event.error);

const [first] = policiesOf(Users, 'constant');
if (first?.kind === 'fallback') {
  const on: unknown = first.options.on;
  void [on, first.options.fallback];
}
