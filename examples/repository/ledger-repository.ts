/**
 * A repository over PostgreSQL (PGlite or a real server) that uses staunch where databases need it:
 *
 * - `transfer` runs one SERIALIZABLE transaction under `@AsyncRetry`, retried only for failures
 *   after which running the same transaction again is correct: serialization failure (40001),
 *   deadlock (40P01), and a lost connection (57P01 admin_shutdown, class 08). The filter is a
 *   predicate on the SQLSTATE, not "retry everything": a CHECK violation (23514) or a duplicate
 *   key (23505) will fail the same way every time, so it is thrown at once.
 * - A transfer carries its own id, written in the same transaction: if a retry follows a COMMIT
 *   whose answer was lost with the connection, the retry finds the id and applies nothing twice.
 * - `waitForOrder` is `@Poll`: it reads an order until a worker has moved it to a final state.
 */
import { AsyncRetry, Poll, exponentialBackoff, fullJitter } from '@staunch/decorators';
import { sqlState, type Database, type Queryable } from './database';

/** SQLSTATEs after which the same transaction, run again, may well succeed. */
export const transientSqlStates: ReadonlyMap<string, string> = new Map([
  ['40001', 'serialization_failure'],
  ['40P01', 'deadlock_detected'],
  ['57P01', 'admin_shutdown'], // what pg_terminate_backend() and a fast server shutdown send
  ['08000', 'connection_exception'],
  ['08003', 'connection_does_not_exist'],
  ['08006', 'connection_failure'],
]);

/** The retry filter: a transient SQLSTATE, and nothing else. */
export function isTransientDbError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && transientSqlStates.has(state);
}

/** An account and its balance, in cents. */
export interface Account {
  readonly id: string;
  readonly balance: number;
}

/** A transfer between two accounts. `id` makes it idempotent: a transfer is applied at most once. */
export interface TransferRequest {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly amount: number;
}

/** What `transfer` did: `applied: false` when a transfer with this id was already committed. */
export interface TransferResult {
  readonly id: string;
  readonly applied: boolean;
  /** One line for logs. */
  readonly summary: string;
}

/** An order, moved along by a fulfilment worker. */
export interface Order {
  readonly id: number;
  readonly state: OrderState;
  /** One line for logs. */
  readonly summary: string;
}

/** The states an order goes through; `shipped` and `cancelled` are final. */
export type OrderState = 'placed' | 'packed' | 'shipped' | 'cancelled';

/** Creates the tables (idempotent). */
export async function migrate(db: Queryable): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS accounts (
    id text PRIMARY KEY,
    balance integer NOT NULL CHECK (balance >= 0)
  )`);
  await db.query(`CREATE TABLE IF NOT EXISTS transfers (
    id text PRIMARY KEY,
    from_id text NOT NULL REFERENCES accounts,
    to_id text NOT NULL REFERENCES accounts,
    amount integer NOT NULL CHECK (amount > 0)
  )`);
  await db.query(`CREATE TABLE IF NOT EXISTS orders (
    id serial PRIMARY KEY,
    state text NOT NULL DEFAULT 'placed'
  )`);
}

/** Accounts, transfers and orders. */
export class LedgerRepository {
  constructor(private readonly db: Database) {}

  /** Opens an account with an opening balance. */
  async openAccount(id: string, balance: number): Promise<void> {
    await this.db.query('INSERT INTO accounts (id, balance) VALUES ($1, $2)', [id, balance]);
  }

  /** Every account, by id. */
  async accounts(): Promise<Account[]> {
    return this.db.query<Account>('SELECT id, balance FROM accounts ORDER BY id');
  }

  /** Moves `amount` from one account to another, at most once per transfer id. */
  @AsyncRetry(5, { on: isTransientDbError, pause: fullJitter(exponentialBackoff({ initial: 20, max: 500 })) })
  async transfer(request: TransferRequest): Promise<TransferResult> {
    const { id, from, to, amount } = request;
    return this.db.transaction(async (tx) => {
      const done = await tx.query('SELECT 1 FROM transfers WHERE id = $1', [id]);
      if (done.length > 0) return { id, applied: false, summary: `${id} was already applied: nothing to do` };
      for (const [account, change] of [
        [from, -amount],
        [to, amount],
      ] as const) {
        const updated = await tx.query('UPDATE accounts SET balance = balance + $2 WHERE id = $1 RETURNING id', [
          account,
          change,
        ]);
        if (updated.length === 0) throw new RangeError(`no account ${account}`);
      }
      await tx.query('INSERT INTO transfers (id, from_id, to_id, amount) VALUES ($1, $2, $3, $4)', [
        id,
        from,
        to,
        amount,
      ]);
      return { id, applied: true, summary: `${id}: ${amount} from ${from} to ${to}` };
    });
  }

  /** Places an order (state `placed`) and returns its id. */
  async placeOrder(): Promise<number> {
    const [row] = await this.db.query<{ id: number }>('INSERT INTO orders DEFAULT VALUES RETURNING id');
    return (row as { id: number }).id;
  }

  /** Moves an order to `state` (what the fulfilment worker does). */
  async setOrderState(id: number, state: OrderState): Promise<void> {
    await this.db.query('UPDATE orders SET state = $2 WHERE id = $1', [id, state]);
  }

  /** Reads the order every 200 ms until it is shipped or cancelled (PollTimeoutError after 10 s). */
  @Poll((order: Order) => order.state === 'shipped' || order.state === 'cancelled', { timeout: 10_000, interval: 200 })
  async waitForOrder(id: number): Promise<Order> {
    const [row] = await this.db.query<{ id: number; state: OrderState }>('SELECT id, state FROM orders WHERE id = $1', [
      id,
    ]);
    if (row === undefined) throw new RangeError(`no order ${id}`);
    return { ...row, summary: `order ${row.id} ${row.state}` };
  }
}
