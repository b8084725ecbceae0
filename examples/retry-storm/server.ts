/**
 * A catalog service (node:http, 127.0.0.1, a free port) for the retry-storm example. It can be
 * switched down (every request answered 503 after its latency) and can have a slow tail (every
 * `slowEvery`-th request takes `slowLatency` ms). It counts every request that reached it: the
 * figure a retry storm multiplies. Latencies are slept on a staunch `Clock`, so a test tells the
 * story on a virtual clock while the bytes travel over a real socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { getDefaultClock } from '@staunch/decorators';
import { untracked, type ActivityTracker } from '../support/activity';
import { closeServer, listenOnLoopback } from '../support/loopback-server';

/** An item, as `GET /items/:id` returns it. */
export interface ItemBody {
  readonly id: string;
  readonly name: string;
}

export interface CatalogServiceOptions {
  /** How long a request takes, ms of the clock (default 20). */
  readonly latency?: number;
  /** Called when the client hung up before its answer (a hedge that lost). */
  readonly onAbandoned?: (path: string, after: number) => void;
  /** For tests on a virtual clock: which requests are parked on the clock. */
  readonly activity?: ActivityTracker;
}

/** The dependency: `GET /items/:id`. */
export class CatalogService {
  /** Requests that reached the server since the last `resetCount()`. */
  requests = 0;
  /** Requests whose client hung up before the answer. */
  abandoned = 0;
  readonly #server: Server;
  readonly #latency: number;
  readonly #onAbandoned: (path: string, after: number) => void;
  readonly #activity: ActivityTracker;
  #down = false;
  #slowEvery = 0;
  #slowLatency = 0;
  #port = 0;

  private constructor(options: CatalogServiceOptions) {
    this.#latency = options.latency ?? 20;
    this.#onAbandoned = options.onAbandoned ?? (() => undefined);
    this.#activity = options.activity ?? untracked;
    this.#server = createServer((req, res) => {
      void this.#handle(req, res);
    });
  }

  /** Starts a server on 127.0.0.1, on a port the OS picks. */
  static async start(options: CatalogServiceOptions = {}): Promise<CatalogService> {
    const service = new CatalogService(options);
    service.#port = await listenOnLoopback(service.#server);
    return service;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Down: every request is answered `503` after the usual latency. */
  setDown(down: boolean): void {
    this.#down = down;
  }

  /** Every `every`-th request (counted from the last `resetCount()`) takes `latency` ms; 0 for none. */
  setSlowTail(every: number, latency: number): void {
    this.#slowEvery = every;
    this.#slowLatency = latency;
  }

  /** Starts counting requests again. */
  resetCount(): void {
    this.requests = 0;
    this.abandoned = 0;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    await closeServer(this.#server);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const n = ++this.requests;
    const path = req.url ?? '/';
    const id = req.headers['x-request-id'];
    const requestId = typeof id === 'string' ? id : '';
    const slow = this.#slowEvery > 0 && n % this.#slowEvery === 0;
    const latency = slow ? this.#slowLatency : this.#latency;
    const gone = new AbortController();
    res.once('close', () => {
      gone.abort();
    });
    const clock = getDefaultClock();
    const start = clock.now();
    this.#activity.park(requestId);
    try {
      await clock.sleep(latency, gone.signal);
    } catch {
      this.abandoned++;
      this.#onAbandoned(path, Math.round(clock.now() - start));
      return;
    }
    this.#activity.resume(requestId);
    const match = /^\/items\/(\w+)$/.exec(path);
    const [status, payload] = this.#down
      ? [503, { error: 'catalog unavailable' }]
      : match === null
        ? [404, { error: `no route for ${path}` }]
        : [200, { id: match[1], name: `item ${match[1]}` }];
    const body = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
