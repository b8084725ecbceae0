/**
 * A quote client that protects itself, and its upstream, from overload, with the decorators in the
 * README's recommended order (top = outermost):
 *
 * - `@Fallback` answers a timeout or a rejection with the last price this client saw (marked
 *   `cached`), so callers get an answer; any other error (a 404, a refused connection) surfaces.
 * - `@Bulkhead` lets 2 requests run at once, queues 2 more for at most 250 ms each, and turns the
 *   rest away at once with `BulkheadRejectedError`: the slow upstream never sees more than 2.
 * - `@Timeout` bounds each request to 300 ms and aborts it (`attemptSignal()` is handed to
 *   `http.request`), so a slow answer frees its bulkhead slot instead of holding it.
 */
import {
  Bulkhead,
  BulkheadRejectedError,
  CallTimeoutError,
  Fallback,
  Timeout,
  attemptSignal,
} from '@staunch/decorators';
import { untracked, type ActivityTracker } from '../support/activity';
import { requestJson } from '../support/json-request';
import type { QuoteBody } from './server';

/** A price, live from the upstream or the last one seen. */
export interface Quote extends QuoteBody {
  /** `live`: from the upstream now; `cached`: the fallback's last known price; `none`: never seen. */
  readonly source: 'live' | 'cached' | 'none';
  /** One line for logs. */
  readonly summary: string;
}

/** The upstream answered with an error status. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';

  constructor(
    readonly status: number,
    readonly path: string,
  ) {
    super(`HTTP ${status} from ${path}`);
  }
}

let requests = 0;

/** The client. Each instance has its own bulkhead (`scope: 'instance'`) and its own last known prices. */
export class QuoteClient {
  readonly #lastKnown = new Map<string, QuoteBody>();

  constructor(
    readonly baseUrl: string,
    private readonly activity: ActivityTracker = untracked,
  ) {}

  @Fallback(
    function (this: QuoteClient, _error: unknown, symbol: string): Quote {
      return this.lastKnown(symbol);
    },
    { on: [CallTimeoutError, BulkheadRejectedError] },
  )
  @Bulkhead({ limit: 2, queue: 2, maxWait: 250, scope: 'instance' })
  @Timeout(300)
  async quote(symbol: string): Promise<Quote> {
    const signal = attemptSignal(); // before the first await: aborted when the call times out
    const body = await this.get<QuoteBody>(`/quotes/${symbol}`, signal);
    this.#lastKnown.set(symbol, body);
    return quoteOf(body, 'live');
  }

  /** The fallback: the last price this client saw for `symbol`, or none. */
  lastKnown(symbol: string): Quote {
    const known = this.#lastKnown.get(symbol);
    return known === undefined ? quoteOf({ symbol, price: Number.NaN }, 'none') : quoteOf(known, 'cached');
  }

  /** One GET on a fresh connection; JSON out. */
  protected get<T>(path: string, signal: AbortSignal): Promise<T> {
    return requestJson<T>(`${this.baseUrl}${path}`, {
      id: `quote-${++requests}`,
      activity: this.activity,
      signal,
      statusError: (status) => new UpstreamError(status, path),
    });
  }
}

function quoteOf(body: QuoteBody, source: Quote['source']): Quote {
  const price = source === 'none' ? 'no price' : body.price.toFixed(2);
  return { symbol: body.symbol, price: body.price, source, summary: `${body.symbol} ${price} (${source})` };
}
