/**
 * Fault injection for the repository example on any PostgreSQL, PGlite included: the next
 * transactions fail with a chosen SQLSTATE, raised by the database itself (`RAISE EXCEPTION
 * … USING ERRCODE`) after the transaction's work and before its commit — so the work is really
 * rolled back, and the driver reports a real database error. (The tests also provoke the real
 * thing on a real server: a serialization failure between two transactions, a deadlock, and
 * `pg_terminate_backend`.)
 */
import type { Database, Isolation, Transaction } from './database';

/** The failures this wrapper can inject, by SQLSTATE, with the message PostgreSQL uses for them. */
export const injectable = {
  '40001': 'could not serialize access due to concurrent update',
  '40P01': 'deadlock detected',
  '57P01': 'terminating connection due to administrator command',
  '23505': 'duplicate key value violates unique constraint',
} as const;

/** A SQLSTATE {@link FaultyDatabase} can inject. */
export type InjectableState = keyof typeof injectable;

/** A {@link Database} whose next transactions fail on command. */
export class FaultyDatabase implements Database {
  readonly #faults: InjectableState[] = [];

  constructor(private readonly db: Database) {}

  get kind(): string {
    return this.db.kind;
  }

  get description(): string {
    return this.db.description;
  }

  /** The next `count` transactions fail with `state` just before they would commit. */
  failNext(state: InjectableState, count = 1): void {
    for (let i = 0; i < count; i++) this.#faults.push(state);
  }

  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.db.query<Row>(sql, params);
  }

  transaction<T>(work: (tx: Transaction) => Promise<T>, isolation?: Isolation): Promise<T> {
    const fault = this.#faults.shift();
    return this.db.transaction(async (tx) => {
      const result = await work(tx);
      if (fault !== undefined) {
        // Both values come from the table above, never from input: safe to inline in the DO block.
        await tx.query(
          `DO $$ BEGIN RAISE EXCEPTION '${injectable[fault]} (injected)' USING ERRCODE = '${fault}'; END $$`,
        );
      }
      return result;
    }, isolation);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
