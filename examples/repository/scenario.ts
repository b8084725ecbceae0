/**
 * The repository's story, as `npm start` tells it: transfers retried through serialization
 * failures, a deadlock and a dropped connection (injected, so the demo needs no second client),
 * a constraint violation that is not retried, an idempotent replay, and `@Poll` waiting for an
 * order that a worker moves along. On PGlite by default; on a real server with DATABASE_URL.
 */
import { getDefaultClock, policyOf } from '@staunch/decorators';
import type { ActivityTracker } from '../support/activity';
import type { Timeline } from '../support/timeline';
import { openDatabase, type Database } from './database';
import { FaultyDatabase } from './faults';
import { LedgerRepository, migrate, type OrderState } from './ledger-repository';

export interface RepositoryScenarioOptions {
  /** The database to use (left open). Default: `openDatabase()` — PGlite, or DATABASE_URL — closed at the end. */
  readonly db?: Database;
  /** For tests on a virtual clock. */
  readonly activity?: ActivityTracker;
}

/** Runs the story; throws if the data does not add up at the end. */
export async function repositoryScenario(timeline: Timeline, options: RepositoryScenarioOptions = {}): Promise<void> {
  if (options.db === undefined) timeline.add('note', 'opening the database…');
  const db = new FaultyDatabase(options.db ?? (await openDatabase(process.env, options.activity)));
  try {
    timeline.add('note', `database: ${db.description}`);
    await migrate(db);
    await db.query('TRUNCATE transfers, accounts, orders RESTART IDENTITY');
    const repo = new LedgerRepository(db);
    await repo.openAccount('alice', 10_000);
    await repo.openAccount('bob', 5_000);
    timeline.watchPolicy(policyOf(LedgerRepository, 'transfer', 'asyncRetry'), 'transfer');
    timeline.watchPolicy(policyOf(LedgerRepository, 'waitForOrder', 'poll'), 'waitForOrder');
    const show = (result: { summary: string }) => result.summary;

    timeline.add('step', 'A transfer: one SERIALIZABLE transaction, committed at the first attempt');
    await timeline.call(
      'transfer(t1)',
      () => repo.transfer({ id: 't1', from: 'alice', to: 'bob', amount: 1_000 }),
      show,
    );

    timeline.add('step', 'Serialization failure (SQLSTATE 40001): @AsyncRetry runs the whole transaction again');
    db.failNext('40001');
    await timeline.call(
      'transfer(t2)',
      () => repo.transfer({ id: 't2', from: 'alice', to: 'bob', amount: 2_000 }),
      show,
    );

    timeline.add('step', 'A deadlock (40P01), then a dropped connection (57P01): both transient, both retried');
    db.failNext('40P01');
    db.failNext('57P01');
    await timeline.call('transfer(t3)', () => repo.transfer({ id: 't3', from: 'bob', to: 'alice', amount: 500 }), show);

    timeline.add('step', 'Not transient: overdrawing breaks a CHECK constraint (23514), thrown at once');
    await timeline.call(
      'transfer(t4)',
      () => repo.transfer({ id: 't4', from: 'bob', to: 'alice', amount: 1_000_000 }),
      show,
    );

    timeline.add('step', 'The same transfer id again: applied once, never twice');
    await timeline.call(
      'transfer(t2)',
      () => repo.transfer({ id: 't2', from: 'alice', to: 'bob', amount: 2_000 }),
      show,
    );

    const accounts = await repo.accounts();
    const total = accounts.reduce((sum, a) => sum + a.balance, 0);
    timeline.add('note', `balances: ${accounts.map((a) => `${a.id} ${a.balance}`).join(', ')} (total ${total})`);
    if (total !== 15_000 || accounts.find((a) => a.id === 'alice')?.balance !== 7_500) {
      throw new Error('repository: the balances do not add up');
    }

    timeline.add('step', '@Poll reads order 1 every 200 ms while a worker packs and ships it');
    const order = await repo.placeOrder();
    const worker = fulfil(repo, order, timeline);
    const shipped = await timeline.call(`waitForOrder(${order})`, () => repo.waitForOrder(order), show);
    await worker;
    if (!shipped.ok) throw new Error('repository: the order never shipped');
  } finally {
    timeline.close();
    if (options.db === undefined) await db.close();
  }
}

/** The fulfilment worker: packs the order after 250 ms, ships it 250 ms later. */
async function fulfil(repo: LedgerRepository, order: number, timeline: Timeline): Promise<void> {
  for (const state of ['packed', 'shipped'] satisfies OrderState[]) {
    await getDefaultClock().sleep(250);
    await repo.setOrderState(order, state);
    timeline.add('server', `worker: order ${order} → ${state}`);
  }
}
