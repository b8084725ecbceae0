/**
 * The service each checkout worker runs: `charge()` calls the payments service over HTTP, behind
 * a circuit breaker whose state the whole fleet shares through Redis (`@staunch/redis`). Every
 * process that defines this class joins the circuit named `payments`: when enough of them see
 * payments fail, all of them fail fast, and exactly one of them tries it again.
 *
 * Loaded in worker processes only (./worker.ts): it connects to REDIS_URL when it loads, since
 * the decorator needs the store when the class is defined.
 */
import { request } from 'node:http';
import Redis from 'ioredis';
import { CircuitBreaker } from '@staunch/decorators';
import { redisStore } from '@staunch/redis';

/** Payments did not answer, or answered 5xx: worth failing fast for. A 4xx is not. */
export class PaymentsUnavailable extends Error {
  override readonly name = 'PaymentsUnavailable';

  constructor(readonly summary: string) {
    super(`payments unavailable: ${summary}`);
  }
}

const redisUrl = process.env.REDIS_URL;
if (redisUrl === undefined || redisUrl === '') throw new Error('checkout.ts needs REDIS_URL');

/** This process's connection to the fleet's Redis. */
export const redis = new Redis(redisUrl);

export class Checkout {
  constructor(
    readonly paymentsUrl: string,
    /** Sent along as `x-worker`, so that the payments log shows who called. */
    readonly worker: string,
  ) {}

  // Two failures within a second open this process's circuit; the fleet's opens once those failures
  // come from two processes (quorum 2, the store's default). `redisStore(redis)` is one store per
  // client, however many decorators name it.
  @CircuitBreaker({
    on: PaymentsUnavailable,
    threshold: 2,
    resetTimeout: 1_000,
    store: redisStore(redis),
    name: 'payments',
  })
  async charge(orderId: string): Promise<string> {
    const { status, body } = await post(`${this.paymentsUrl}/charges`, JSON.stringify({ orderId }), this.worker);
    if (status >= 500) throw new PaymentsUnavailable(`HTTP ${status}`);
    if (status !== 200) throw new Error(`payments refused ${orderId}: HTTP ${status}`);
    return (JSON.parse(body) as { receipt: string }).receipt;
  }
}

function post(url: string, body: string, worker: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-worker': worker,
    };
    const req = request(url, { method: 'POST', headers, timeout: 2_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', (error) => reject(new PaymentsUnavailable(error.message)));
    });
    req.on('timeout', () => req.destroy(new PaymentsUnavailable('no answer within 2 s')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      reject(error instanceof PaymentsUnavailable ? error : new PaymentsUnavailable(error.code ?? error.message));
    });
    req.end(body);
  });
}
