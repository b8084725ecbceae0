// @RateLimit: async methods only, `permits` required, a typed `key`, the shared-limiter option alone;
// rateLimit(fn) keeps fn's types.
import {
  RateLimit,
  RateLimitedError,
  memoryRateLimitStore,
  policyOf,
  rateLimit,
  rateLimitPolicy,
  type RateLimitStore,
} from '@staunch/decorators';

const shared = rateLimitPolicy({ permits: 10, per: 1000 });

export class Client {
  readonly base = 'https://example.com';

  @RateLimit({ permits: 2, per: 1000, algorithm: 'sliding-window', queue: 10, maxWait: 1_000 })
  async get(path: string): Promise<string> {
    return `${this.base}${path}`;
  }

  @RateLimit({ permits: 5, key: (self: Client, [tenant]: [string]) => `${self.base}|${tenant}`, maxKeys: 100 })
  async fetch(tenant: string): Promise<number> {
    return tenant.length;
  }

  @RateLimit({ limiter: shared })
  async report(): Promise<void> {}

  // @ts-expect-error a rate limit only limits methods that return promises (a sync method is no exception)
  @RateLimit({ permits: 1 })
  parse(text: string): number {
    return text.length;
  }

  // @ts-expect-error `permits` is required: a rate limit without a rate means nothing
  @RateLimit({ per: 1000 })
  async unlimited(): Promise<void> {}

  // @ts-expect-error a shared limiter keeps its own options: nothing else beside it
  @RateLimit({ limiter: shared, permits: 2 })
  async both(): Promise<void> {}

  // @ts-expect-error `scope` and `key` exclude each other
  @RateLimit({ permits: 1, scope: 'instance', key: () => 'k' })
  async scoped(): Promise<void> {}

  // @ts-expect-error the algorithms are 'token-bucket' and 'sliding-window'
  @RateLimit({ permits: 1, algorithm: 'fixed-window' })
  async fixed(): Promise<void> {}
}

const limited = rateLimit(async (id: string) => id.length, { permits: 5 });
export const length: Promise<number> = limited('42');
// @ts-expect-error the limited function takes fn's parameters
void limited(42);

export const rejected: number = policyOf(Client, 'get', 'rateLimit').statistics.rejected;
const error = new RateLimitedError(1, 1000, 'full', 250);
export const reason: 'limit' | 'full' | 'maxWait' = error.reason;
export const retryAfter: number = error.retryAfter;
export const store: RateLimitStore = memoryRateLimitStore({ permits: 1, per: 1000 });
export const wait: number | PromiseLike<number> = store.acquire(0);
