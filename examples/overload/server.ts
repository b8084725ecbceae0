/**
 * A slow quote service (node:http, 127.0.0.1, a free port) for the overload example: every request
 * takes `latency` ms of a staunch `Clock` before it is answered, and `setLatency` makes it slower
 * or faster on command. It counts the requests it is working on, so the timeline shows how many
 * the client's bulkhead lets through at once. Because it sleeps on a `Clock`, a test can tell the
 * whole story on a virtual clock while the bytes travel over a real socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { getDefaultClock, type Clock } from '@staunch/decorators';
import { untracked, type ActivityTracker } from '../support/activity';
import { closeServer, listenOnLoopback } from '../support/loopback-server';

/** A price, as `GET /quotes/:symbol` returns it. */
export interface QuoteBody {
  readonly symbol: string;
  readonly price: number;
}

/** What the server did with one request, for the timeline. */
export interface UpstreamRecord {
  readonly path: string;
  /** `'200 after 100 ms (2 in flight)'`, or `'no answer: the client hung up after 300 ms'`. */
  readonly outcome: string;
}

export interface SlowUpstreamOptions {
  /** How long each request takes, ms of the clock. Default 100. */
  readonly latency?: number;
  /** Where the latency is slept. Default: the default clock (read per request). */
  readonly clock?: Clock;
  /** Called for every request, once it is answered or the client hung up. */
  readonly onRequest?: (record: UpstreamRecord) => void;
  /** For tests on a virtual clock: which requests are parked on the clock. */
  readonly activity?: ActivityTracker;
}

/** The upstream: `GET /quotes/:symbol`, slow by design. */
export class SlowUpstream {
  /** Requests that reached the server. */
  requests = 0;
  /** The most requests it was ever working on at once. */
  peak = 0;
  readonly #server: Server;
  readonly #clock: Clock | undefined;
  readonly #onRequest: (record: UpstreamRecord) => void;
  readonly #activity: ActivityTracker;
  #latency: number;
  #inFlight = 0;
  #port = 0;

  private constructor(options: SlowUpstreamOptions) {
    this.#latency = options.latency ?? 100;
    this.#clock = options.clock;
    this.#onRequest = options.onRequest ?? (() => undefined);
    this.#activity = options.activity ?? untracked;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
  }

  /** Starts a server on 127.0.0.1, on a port the OS picks. */
  static async start(options: SlowUpstreamOptions = {}): Promise<SlowUpstream> {
    const upstream = new SlowUpstream(options);
    upstream.#port = await listenOnLoopback(upstream.#server);
    return upstream;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** How long each request takes from now on, ms (requests already in progress keep theirs). */
  get latency(): number {
    return this.#latency;
  }

  /** Makes the upstream slower (or faster) for the requests that arrive from now on. */
  setLatency(ms: number): void {
    this.#latency = ms;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    await closeServer(this.#server);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests++;
    const path = req.url ?? '/';
    const id = req.headers['x-request-id'];
    const requestId = typeof id === 'string' ? id : '';
    const inFlight = ++this.#inFlight;
    this.peak = Math.max(this.peak, inFlight);
    const latency = this.#latency;
    // The client may give up first (its timeout aborts the request): then stop working and answer nothing.
    const gone = new AbortController();
    res.once('close', () => {
      gone.abort();
    });
    this.#activity.park(requestId);
    try {
      await (this.#clock ?? getDefaultClock()).sleep(latency, gone.signal);
    } catch {
      this.#onRequest({ path, outcome: `no answer: the client hung up before the ${latency} ms were up` });
      return;
    } finally {
      this.#inFlight--;
    }
    this.#activity.resume(requestId);
    const symbol = /^\/quotes\/([A-Z]+)$/.exec(path)?.[1];
    const [status, payload] =
      symbol === undefined ? [404, { error: `no route for ${path}` }] : [200, { symbol, price: priceOf(symbol) }];
    this.#onRequest({ path, outcome: `${status} after ${latency} ms (${inFlight} in flight)` });
    const body = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}

/** A made-up, steady price per symbol: the story is about latency, not the market. */
function priceOf(symbol: string): number {
  let cents = 0;
  for (const char of symbol) cents = (cents * 31 + char.charCodeAt(0)) % 20_000;
  return 50 + cents / 100;
}
