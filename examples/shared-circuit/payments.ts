/**
 * The dependency every checkout worker calls: a fake payments service, a real HTTP server
 * (node:http, 127.0.0.1, a free port) in the demo's own process, with an outage switch. It
 * answers `POST /charges` with a receipt, or with 503 while `down`, and keeps a log of every
 * charge it saw: who asked (the `x-worker` header), for which order, and what it answered.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from '../support/loopback-server';

/** One request the payments service answered. */
export interface ChargeRecord {
  readonly worker: string;
  readonly orderId: string;
  readonly status: number;
}

export class PaymentsService {
  /** While true, every charge is answered 503. */
  down = false;
  /** Every charge answered, in order. */
  readonly charges: ChargeRecord[] = [];
  readonly #server: Server;
  #port = 0;
  readonly #onCharge: (charge: ChargeRecord) => void;

  private constructor(onCharge: (charge: ChargeRecord) => void) {
    this.#onCharge = onCharge;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  /** Listens on 127.0.0.1, on a port the OS picks; `onCharge` is told of every charge answered. */
  static async start(onCharge: (charge: ChargeRecord) => void = () => undefined): Promise<PaymentsService> {
    const service = new PaymentsService(onCharge);
    service.#port = await listenOnLoopback(service.#server);
    return service;
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Stops listening and closes every connection (the workers keep theirs alive). */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    await closeServer(this.#server);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    if (req.method !== 'POST' || req.url !== '/charges') {
      send(res, 404, { error: `no route for ${req.method ?? '?'} ${req.url ?? '?'}` });
      return;
    }
    const { orderId } = JSON.parse(body) as { orderId: string };
    const worker = req.headers['x-worker'];
    const status = this.down ? 503 : 200;
    const charge = { worker: typeof worker === 'string' ? worker : '?', orderId, status };
    this.charges.push(charge);
    this.#onCharge(charge);
    send(res, status, this.down ? { error: 'payments is down' } : { receipt: `rcpt-${orderId}` });
  }
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
