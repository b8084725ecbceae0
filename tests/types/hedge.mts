// @Hedge: async methods only, a typed `key`, the shared-policy option alone; hedge(fn) keeps fn's type;
// the `budget` option takes only a budget made by retryBudget().
import { Hedge, Retry, hedge, hedgePolicy, policyOf, retryBudget, type HedgeStatistics } from '@staunch/decorators';

const shared = hedgePolicy({ delay: 50 });
const budget = retryBudget({ ratio: 0.1 });

export class Client {
  @Hedge({ delay: 100, maxHedged: 2, budget })
  async get(path: string): Promise<string> {
    return path;
  }

  @Hedge({ percentile: 95, key: (_self: Client, [host]: [string]) => host, maxKeys: 100 })
  async fetch(host: string): Promise<number> {
    return host.length;
  }

  @Hedge({ hedge: shared })
  async report(): Promise<void> {}

  @Retry({ times: 3, budget })
  async save(): Promise<void> {}

  // @ts-expect-error hedging runs attempts in parallel: methods that return promises only
  @Hedge({ delay: 100 })
  parse(text: string): number {
    return text.length;
  }

  // @ts-expect-error a shared policy keeps its own options: nothing else beside it
  @Hedge({ hedge: shared, delay: 2 })
  async both(): Promise<void> {}

  // @ts-expect-error `budget` is a budget made by retryBudget(), not its options
  @Retry({ budget: { ratio: 0.2 } })
  async wrong(): Promise<void> {}
}

export const user: Promise<string> = hedge(({ signal }) => Promise.resolve(String(signal.aborted)), { delay: 10 });
export const stats: HedgeStatistics = policyOf(Client, 'get', 'hedge').statistics;
