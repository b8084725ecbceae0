/**
 * Catalog clients for the retry-storm example:
 *
 * - a naive client: `@Retry({ times: 3 })` on 503s. When the catalog goes down, every call becomes
 *   three requests: the retries triple the load on a service that is already failing.
 * - a budgeted client: the same `@Retry`, plus a `retryBudget` shared by every caller. Retries
 *   stay under 20 % of the calls plus a small floor per second; past that, a call fails at once
 *   with its error instead of adding load (give-up reason `'budget'`).
 * - a hedged client: `@Hedge({ delay: 100 })`. A request that has not answered after 100 ms gets
 *   a second one alongside; the first answer wins and the other request is aborted
 *   (`attemptSignal()` is handed to `http.request`), cutting the slow tail.
 */
import { Hedge, Retry, attemptSignal, type RetryBudget } from '@staunch/decorators';
import { untracked, type ActivityTracker } from '../support/activity';
import { requestJson } from '../support/json-request';
import type { ItemBody } from './server';

/** The catalog answered with an error status. */
export class CatalogError extends Error {
  override readonly name: string = 'CatalogError';

  constructor(
    readonly status: number,
    readonly path: string,
  ) {
    super(`HTTP ${status} from ${path}`);
  }
}

/** A 503: the catalog is down; worth retrying, within reason. */
export class CatalogUnavailableError extends CatalogError {
  override readonly name = 'CatalogUnavailableError';
}

let requests = 0;

/** What the story calls on every client. */
export interface CatalogClient {
  item(id: string): Promise<ItemBody>;
}

/** A client class: a base URL, and the activity a test on a virtual clock tracks. */
export type CatalogClientClass = new (baseUrl: string, activity?: ActivityTracker) => CatalogClient;

/** One GET on a fresh connection, JSON out; what every client below calls. */
class CatalogHttp {
  constructor(
    readonly baseUrl: string,
    private readonly activity: ActivityTracker = untracked,
  ) {}

  protected get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return requestJson<T>(`${this.baseUrl}${path}`, {
      id: `catalog-${++requests}`,
      activity: this.activity,
      signal,
      statusError: (status) => new (status === 503 ? CatalogUnavailableError : CatalogError)(status, path),
    });
  }
}

/**
 * The two clients of the storm, made for one `budget` (shared by every caller of the budgeted
 * client, as a process would share one per dependency): the same `@Retry`, without and with it.
 */
export function stormClients(budget: RetryBudget): {
  readonly NaiveCatalog: CatalogClientClass;
  readonly BudgetedCatalog: CatalogClientClass;
} {
  class NaiveCatalog extends CatalogHttp {
    @Retry({ times: 3, interval: 100, on: CatalogUnavailableError })
    async item(id: string): Promise<ItemBody> {
      return this.get(`/items/${id}`, attemptSignal());
    }
  }

  class BudgetedCatalog extends CatalogHttp {
    @Retry({ times: 3, interval: 100, on: CatalogUnavailableError, budget })
    async item(id: string): Promise<ItemBody> {
      return this.get(`/items/${id}`, attemptSignal());
    }
  }

  return { NaiveCatalog, BudgetedCatalog };
}

/** No policy: a slow request is a slow call. */
export class PlainCatalog extends CatalogHttp {
  async item(id: string): Promise<ItemBody> {
    return this.get(`/items/${id}`);
  }
}

/** A second request after 100 ms without an answer; the loser is aborted. One hedge policy per client. */
export class HedgedCatalog extends CatalogHttp {
  @Hedge({ delay: 100, maxHedged: 1, scope: 'instance' })
  async item(id: string): Promise<ItemBody> {
    const signal = attemptSignal(); // before the first await: aborted when the other request wins
    return this.get(`/items/${id}`, signal);
  }
}
