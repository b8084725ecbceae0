/**
 * A NestJS-shaped service compiled with `experimentalDecorators` and `emitDecoratorMetadata`
 * (tsconfig.legacy.json), as Nest applications are. The staunch decorators are the same ones
 * the Stage-3 examples use: they tell the two decorator protocols apart by their arguments.
 */
import { AsyncRetry, CircuitBreaker, Poll, Retry } from '@staunch/decorators';
import { Injectable } from './nest';

/** The payment provider timed out or was unavailable: worth another try. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';

  /** One line for logs. */
  get summary(): string {
    return this.message;
  }
}

/** A settlement, as the provider reports it. */
export interface Settlement {
  readonly id: string;
  readonly status: 'pending' | 'settled' | 'failed';
  /** One line for logs. */
  readonly summary: string;
}

/** A receipt for a charge. */
export interface Receipt {
  readonly id: string;
  readonly amount: number;
}

/**
 * The payment provider's client: an in-memory stand-in that fails on command and settles a
 * payment after a few status checks.
 */
@Injectable()
export class PaymentsGateway {
  #failures = 0;
  #checks = new Map<string, number>();
  #next = 0;

  /** The next `count` calls fail with GatewayError. */
  failNext(count: number): void {
    this.#failures += count;
  }

  async charge(amount: number): Promise<Receipt> {
    this.#fail('charge');
    return { id: `ch_${++this.#next}`, amount };
  }

  async refund(receipt: string): Promise<string> {
    this.#fail('refund');
    return `re_${receipt}`;
  }

  /** `pending` for the first two checks of a settlement, then `settled`. */
  async settlement(id: string): Promise<Settlement> {
    const checks = (this.#checks.get(id) ?? 0) + 1;
    this.#checks.set(id, checks);
    const status = checks <= 2 ? 'pending' : 'settled';
    return { id, status, summary: `${id} ${status}` };
  }

  #fail(what: string): void {
    if (this.#failures > 0) {
      this.#failures--;
      throw new GatewayError(`gateway timeout during ${what}`);
    }
  }
}

/** Where the service logs (Nest's Logger, in a real application). */
@Injectable()
export class AppLogger {
  readonly lines: string[] = [];

  log(line: string): void {
    this.lines.push(line);
  }
}

@Injectable()
export class PaymentsService {
  constructor(
    private readonly gateway: PaymentsGateway,
    private readonly logger: AppLogger,
  ) {}

  @Retry(GatewayError, { times: 3, interval: 100 })
  @CircuitBreaker(GatewayError, { threshold: 5, resetTimeout: 10_000 })
  async charge(orderId: string, amount: number): Promise<Receipt> {
    this.logger.log(`charging ${amount} for ${orderId}`);
    return this.gateway.charge(amount);
  }

  @AsyncRetry(3, { on: GatewayError, pause: 50 })
  async refund(receipt: string): Promise<string> {
    return this.gateway.refund(receipt);
  }

  @Poll((settlement: Settlement) => settlement.status !== 'pending', { timeout: 5_000, interval: 250 })
  async settlement(id: string): Promise<Settlement> {
    return this.gateway.settlement(id);
  }
}
