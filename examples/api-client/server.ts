/**
 * A real HTTP server (node:http, 127.0.0.1, a free port) for the API client example, with fault
 * injection on command: 5xx answers, connection resets, latency and full outages (the server
 * stops listening, so connections are refused). Its latency sleeps on a staunch `Clock`, so a
 * test can run the whole story on a virtual clock while the bytes travel over a real socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { getDefaultClock, type Clock } from '@staunch/decorators';
import { untracked, type ActivityTracker } from '../support/activity';
import { closeServer, listenOnLoopback } from '../support/loopback-server';

/** One injected fault, applied to the next request that reaches the server. */
export type Fault =
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'reset' }
  | { readonly kind: 'latency'; readonly ms: number };

/** What the server did with one request, for the timeline. */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  /** `'200'`, `'503 (injected)'`, `'connection reset (injected)'`, `'200 after 1000 ms (injected)'`… */
  readonly outcome: string;
}

/** An export job: runs for `exportDuration` ms of the server's clock, then is `done`. */
export interface ExportJob {
  readonly id: string;
  readonly state: 'running' | 'done';
  readonly progress: number;
  readonly rows?: number;
  /** One line for logs. */
  readonly summary: string;
}

export interface FaultyServerOptions {
  /** Where injected latency and export jobs take their time from. Default: the default clock. */
  readonly clock?: Clock;
  /** How long an export job runs, ms. Default 1,000. */
  readonly exportDuration?: number;
  /** Called for every request the server answered (or refused to). */
  readonly onRequest?: (record: RequestRecord) => void;
  /** For tests on a virtual clock: which requests are parked on the clock. */
  readonly activity?: ActivityTracker;
}

/** The example's HTTP API: `GET /users/:id`, `POST /exports`, `GET /exports/:id`. */
export class FaultyServer {
  /** Requests that reached the server, faults included. */
  requests = 0;
  readonly #server: Server;
  readonly #faults: Fault[] = [];
  readonly #jobs = new Map<string, { readonly startedAt: number; readonly key: string }>();
  readonly #clock: Clock | undefined;
  readonly #exportDuration: number;
  readonly #onRequest: (record: RequestRecord) => void;
  readonly #activity: ActivityTracker;
  #port = 0;
  #down = false;

  private constructor(options: FaultyServerOptions) {
    this.#clock = options.clock;
    this.#exportDuration = options.exportDuration ?? 1_000;
    this.#onRequest = options.onRequest ?? (() => undefined);
    this.#activity = options.activity ?? untracked;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
  }

  /** Starts a server on 127.0.0.1, on a port the OS picks. */
  static async start(options: FaultyServerOptions = {}): Promise<FaultyServer> {
    const server = new FaultyServer(options);
    server.#port = await listenOnLoopback(server.#server);
    return server;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The next `count` requests are answered with `status` (503 by default). */
  failNext(count: number, status = 503): void {
    for (let i = 0; i < count; i++) this.#faults.push({ kind: 'status', status });
  }

  /** The next `count` requests have their connection reset (the client sees ECONNRESET). */
  resetNext(count: number): void {
    for (let i = 0; i < count; i++) this.#faults.push({ kind: 'reset' });
  }

  /** The next `count` requests are answered after `ms` milliseconds of the server's clock. */
  delayNext(count: number, ms: number): void {
    for (let i = 0; i < count; i++) this.#faults.push({ kind: 'latency', ms });
  }

  /** Full outage: the server stops listening and drops open connections; clients get ECONNREFUSED. */
  async outage(): Promise<void> {
    if (this.#down) return;
    this.#down = true;
    await closeServer(this.#server);
  }

  /** Ends an outage: listens again on the same port. */
  async restore(): Promise<void> {
    if (!this.#down) return;
    await listenOnLoopback(this.#server, this.#port);
    this.#down = false;
  }

  /** Forgets pending faults. */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Stops the server and closes every connection. */
  async close(): Promise<void> {
    this.clearFaults();
    await this.outage();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests++;
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const id = req.headers['x-request-id'];
    const requestId = typeof id === 'string' ? id : '';
    const fault = this.#faults.shift();
    const record = (outcome: string) => {
      this.#onRequest({ method, path, outcome });
    };
    if (fault?.kind === 'reset') {
      record('connection reset (injected)');
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      record(`${fault.status} (injected)`);
      this.#send(res, fault.status, { error: 'injected fault' });
      return;
    }
    let note = '';
    if (fault?.kind === 'latency') {
      // The client may give up first (attempt timeout): then stop waiting and answer nothing.
      const gone = new AbortController();
      res.once('close', () => {
        gone.abort();
      });
      this.#activity.park(requestId);
      try {
        await this.#time().sleep(fault.ms, gone.signal);
      } catch {
        record(`no answer: the client hung up during the ${fault.ms} ms delay (injected)`);
        return;
      }
      this.#activity.resume(requestId);
      note = ` after ${fault.ms} ms (injected)`;
    }
    const body = method === 'POST' ? await readBody(req) : '';
    const [status, payload] = this.#route(method, path, req.headers['idempotency-key'], body);
    record(`${status}${note}`);
    this.#send(res, status, payload);
  }

  #route(method: string, path: string, key: string | string[] | undefined, _body: string): [number, unknown] {
    const user = /^\/users\/([\w-]+)$/.exec(path);
    if (method === 'GET' && user !== null) {
      const id = user[1] as string;
      return [200, { id, name: `User ${id}` }];
    }
    if (method === 'POST' && path === '/exports') {
      if (typeof key !== 'string') return [400, { error: 'Idempotency-Key header required' }];
      // The same key returns the job it already started: retrying the POST is safe.
      for (const [id, job] of this.#jobs) if (job.key === key) return [202, this.#job(id)];
      const id = `exp-${this.#jobs.size + 1}`;
      this.#jobs.set(id, { startedAt: this.#time().now(), key });
      return [202, this.#job(id)];
    }
    const job = /^\/exports\/([\w-]+)$/.exec(path);
    if (method === 'GET' && job !== null && this.#jobs.has(job[1] as string)) {
      return [200, this.#job(job[1] as string)];
    }
    return [404, { error: `no route for ${method} ${path}` }];
  }

  #job(id: string): ExportJob {
    const job = this.#jobs.get(id) as { readonly startedAt: number };
    const elapsed = this.#time().now() - job.startedAt;
    const progress = Math.min(100, Math.floor((elapsed / this.#exportDuration) * 100));
    return progress >= 100
      ? { id, state: 'done', progress, rows: 1_200, summary: `${id} done, 1200 rows` }
      : { id, state: 'running', progress, summary: `${id} running, ${progress}%` };
  }

  #send(res: ServerResponse, status: number, payload: unknown): void {
    const body = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  #time(): Clock {
    return this.#clock ?? getDefaultClock();
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return body;
}
