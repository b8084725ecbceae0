// @Bulkhead: async methods only, a typed `key`, the shared-bulkhead option alone; bulkhead(fn) keeps fn's types.
import { Bulkhead, BulkheadRejectedError, bulkhead, bulkheadPolicy, policyOf } from '@staunch/decorators';

const shared = bulkheadPolicy({ limit: 4 });

export class Client {
  readonly base = 'https://example.com';

  @Bulkhead({ limit: 2, queue: 10, maxWait: 1_000 })
  async get(path: string): Promise<string> {
    return `${this.base}${path}`;
  }

  @Bulkhead({ key: (self: Client, [host]: [string]) => `${self.base}|${host}`, maxKeys: 100 })
  async fetch(host: string): Promise<number> {
    return host.length;
  }

  @Bulkhead({ bulkhead: shared })
  async report(): Promise<void> {}

  // @ts-expect-error a bulkhead only limits methods that return promises
  @Bulkhead()
  parse(text: string): number {
    return text.length;
  }

  // @ts-expect-error a shared bulkhead keeps its own options: nothing else beside it
  @Bulkhead({ bulkhead: shared, limit: 2 })
  async both(): Promise<void> {}

  // @ts-expect-error `scope` and `key` exclude each other
  @Bulkhead({ scope: 'instance', key: () => 'k' })
  async scoped(): Promise<void> {}
}

const limited = bulkhead(async (id: string) => id.length, { limit: 5 });
export const length: Promise<number> = limited('42');
// @ts-expect-error the limited function takes fn's parameters
void limited(42);

export const queued: number = policyOf(Client, 'get', 'bulkhead').statistics.queued;
export const reason: 'full' | 'maxWait' = new BulkheadRejectedError(1, 0, 'full', Infinity).reason;
