import { Client } from 'pg';
import { PollTimeoutError, policyOf } from '@staunch/decorators';
import {
  ConnectionLostError,
  openPGlite,
  openPostgres,
  sqlState,
  type Database,
  type Transaction,
} from '../../examples/repository/database';
import { FaultyDatabase } from '../../examples/repository/faults';
import { LedgerRepository, isTransientDbError, migrate } from '../../examples/repository/ledger-repository';
import { repositoryScenario } from '../../examples/repository/scenario';
import { Timeline } from '../../examples/support/timeline';
import { expectInOrder } from './helpers/lines';
import { findPostgresBin, startPostgres, type PostgresServer } from './helpers/postgres';
import { useVirtualTime, type VirtualTime } from './helpers/virtual-time';

// The story npm start tells, on whichever database: the same lines, whatever the jittered pauses.
const story: readonly (string | RegExp)[] = [
  '## A transfer: one SERIALIZABLE transaction, committed at the first attempt',
  'transfer(t1) → t1: 1000 from alice to bob',
  /^transfer: attempt 1 failed \(SQLSTATE 40001: could not serialize access .*\), next in \d+ ms$/,
  'transfer(t2) → t2: 2000 from alice to bob',
  /^transfer: attempt 1 failed \(SQLSTATE 40P01: deadlock detected .*\), next in \d+ ms$/,
  /^transfer: attempt 2 failed \(SQLSTATE 57P01: terminating connection .*\), next in \d+ ms$/,
  'transfer(t3) → t3: 500 from bob to alice',
  /^transfer\(t4\) → failed: SQLSTATE 23514: new row for relation "accounts" violates check constraint/,
  'transfer(t2) → t2 was already applied: nothing to do',
  'balances: alice 7500, bob 7500 (total 15000)',
  'waitForOrder: not yet (order 1 placed), next poll in 200 ms',
  'waitForOrder: not yet (order 1 placed), next poll in 200 ms',
  'worker: order 1 → packed',
  'waitForOrder: not yet (order 1 packed), next poll in 200 ms',
  'worker: order 1 → shipped',
  'waitForOrder(1) → order 1 shipped',
];

/** Transfer attempts that failed and were retried, by SQLSTATE. */
function watchRetries(): { readonly states: (string | undefined)[]; stop(): void } {
  const states: (string | undefined)[] = [];
  const stop = policyOf(LedgerRepository, 'transfer', 'asyncRetry').on('retry', (event) => {
    states.push(event.failed ? sqlState(event.error) : 'not an error');
  });
  return { states, stop };
}

async function seed(db: Database): Promise<LedgerRepository> {
  await migrate(db);
  await db.query('TRUNCATE transfers, accounts, orders RESTART IDENTITY');
  const repo = new LedgerRepository(db);
  await repo.openAccount('alice', 10_000);
  await repo.openAccount('bob', 5_000);
  await repo.openAccount('carol', 5_000);
  return repo;
}

describe('examples/repository on PGlite (virtual clock)', () => {
  let time: VirtualTime;
  let db: Database;
  beforeAll(async () => {
    time = useVirtualTime();
    db = await openPGlite(time.activity);
  }, 120_000);
  afterAll(async () => {
    await db.close();
    time.restore();
  });

  it('tells the story: retried transient failures, a constraint thrown at once, an idempotent replay, a poll', async () => {
    const timeline = new Timeline();
    await time.run(() => repositoryScenario(timeline, { db, activity: time.activity }));
    expectInOrder(timeline.lines, story);
    // The poll's timing is exact on the virtual clock: reads at 0, 200, 400 and 600 ms.
    const at = (text: string) => timeline.entries.find((e) => e.text === text)!.at;
    expect(at('waitForOrder(1) → order 1 shipped') - at('waitForOrder(1)')).toBe(600);
    expect(time.clock.pending).toBe(0);
  });

  it('retries only transient SQLSTATEs', () => {
    for (const state of ['40001', '40P01', '57P01', '08006']) expect(isTransientDbError({ code: state })).toBe(true);
    for (const state of ['23505', '23514', '42P01', '22P02']) expect(isTransientDbError({ code: state })).toBe(false);
    expect(isTransientDbError(new ConnectionLostError())).toBe(true);
    expect(isTransientDbError(new Error('Connection terminated unexpectedly'))).toBe(false); // no SQLSTATE: not ours to guess
    expect(isTransientDbError({ code: 'ECONNRESET' })).toBe(false);
  });

  describe('LedgerRepository', () => {
    let faulty: FaultyDatabase;
    let repo: LedgerRepository;
    let retries: ReturnType<typeof watchRetries>;
    beforeEach(async () => {
      faulty = new FaultyDatabase(db);
      repo = await time.run(() => seed(faulty));
      retries = watchRetries();
    });
    afterEach(() => {
      retries.stop();
    });

    it('throws a duplicate key (23505) at once: one attempt, nothing applied', async () => {
      faulty.failNext('23505');
      const error = await time
        .run(() => repo.transfer({ id: 'x', from: 'alice', to: 'bob', amount: 100 }))
        .catch((e: unknown) => e);
      expect(sqlState(error)).toBe('23505');
      expect(retries.states).toEqual([]);
      await expect(time.run(() => repo.accounts())).resolves.toEqual([
        { id: 'alice', balance: 10_000 },
        { id: 'bob', balance: 5_000 },
        { id: 'carol', balance: 5_000 },
      ]);
    });

    it('gives up after 5 attempts with the last error, having applied nothing', async () => {
      faulty.failNext('40001', 5);
      const error = await time
        .run(() => repo.transfer({ id: 'x', from: 'alice', to: 'bob', amount: 100 }))
        .catch((e: unknown) => e);
      expect(sqlState(error)).toBe('40001');
      expect(retries.states).toEqual(['40001', '40001', '40001', '40001']);
      await expect(time.run(() => db.query('SELECT count(*)::int AS n FROM transfers'))).resolves.toEqual([{ n: 0 }]);
    });

    it('applies a transfer id once, however often it is sent', async () => {
      const request = { id: 'once', from: 'alice', to: 'carol', amount: 250 };
      const first = await time.run(() => repo.transfer(request));
      const second = await time.run(() => repo.transfer(request));
      expect([first.applied, second.applied]).toEqual([true, false]);
      expect((await time.run(() => repo.accounts())).map((a) => a.balance)).toEqual([9_750, 5_000, 5_250]);
    });

    it('rejects with PollTimeoutError once an order stays unshipped past 10 s', async () => {
      const order = await time.run(() => repo.placeOrder());
      const error = await time.run(() => repo.waitForOrder(order)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PollTimeoutError);
      expect((error as PollTimeoutError<{ state: string }>).lastValue.state).toBe('placed');
      expect((error as PollTimeoutError).attempts).toBe(51); // at 0, 200, …, 10 000 ms
    });
  });
});

// A real PostgreSQL server, started by the test when its binaries are installed (.ci/run
// installs them, and sets STAUNCH_REQUIRE_POSTGRES so that CI never skips this silently).
const bin = findPostgresBin();
if (bin === undefined && process.env.STAUNCH_REQUIRE_POSTGRES === '1') {
  throw new Error('STAUNCH_REQUIRE_POSTGRES=1 but initdb/pg_ctl were not found (install postgresql, or set PG_BIN)');
}
const describeWithPostgres = bin === undefined ? describe.skip : describe;

describeWithPostgres('examples/repository on a real PostgreSQL server (virtual clock)', () => {
  let server: PostgresServer;
  let time: VirtualTime;
  let db: Database;
  let admin: Client;
  beforeAll(async () => {
    server = await startPostgres(bin as string);
    time = useVirtualTime();
    db = openPostgres(server.url, time.activity);
    admin = new Client({ connectionString: server.url });
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    await admin.end();
    await db.close();
    time.restore();
    await server.stop();
  }, 60_000);

  it('tells the same story as on PGlite', async () => {
    const timeline = new Timeline();
    await time.run(() => repositoryScenario(timeline, { db, activity: time.activity }));
    expectInOrder(timeline.lines, story);
    expect(timeline.entries[0]?.text).toMatch(/^database: PostgreSQL at 127\.0\.0\.1:\d+/);
  });

  describe('real faults', () => {
    let retries: ReturnType<typeof watchRetries>;
    beforeEach(async () => {
      await time.run(() => seed(db));
      retries = watchRetries();
    });
    afterEach(() => {
      retries.stop();
    });

    const balances = () =>
      time.run(() => db.query<{ id: string; balance: number }>('SELECT id, balance FROM accounts ORDER BY id'));
    const transfers = () => time.run(() => db.query<{ id: string }>('SELECT id FROM transfers ORDER BY id'));

    it('survives pg_terminate_backend in the middle of the transaction: retried once, applied once', async () => {
      const repo = new LedgerRepository(
        intercept(db, async ({ sql, tx, txIndex }) => {
          // First attempt, right after the debit: kill the server process serving this transaction.
          if (txIndex === 1 && sql.startsWith('UPDATE accounts')) {
            await admin.query('SELECT pg_terminate_backend($1)', [tx.backendPid]);
          }
        }),
      );
      const result = await time.run(() => repo.transfer({ id: 'kill', from: 'alice', to: 'bob', amount: 1_000 }));
      expect(result.applied).toBe(true);
      expect(retries.states).toHaveLength(1);
      expect(['57P01', '08006']).toContain(retries.states[0]);
      await expect(balances()).resolves.toEqual([
        { id: 'alice', balance: 9_000 },
        { id: 'bob', balance: 6_000 },
        { id: 'carol', balance: 5_000 },
      ]);
      await expect(transfers()).resolves.toEqual([{ id: 'kill' }]);
    });

    it('retries a real serialization failure between two concurrent SERIALIZABLE transactions', async () => {
      const bothStarted = barrier(2);
      const repo = new LedgerRepository(
        intercept(db, async ({ sql, txIndex }) => {
          // Both first attempts take their snapshot before either writes: one of them must fail.
          if (txIndex <= 2 && sql.startsWith('SELECT 1 FROM transfers')) await bothStarted();
        }),
      );
      const [a, b] = await time.run(() =>
        Promise.all([
          repo.transfer({ id: 'a', from: 'alice', to: 'bob', amount: 1_000 }),
          repo.transfer({ id: 'b', from: 'alice', to: 'carol', amount: 2_000 }),
        ]),
      );
      expect([a.applied, b.applied]).toEqual([true, true]);
      expect(retries.states).toEqual(['40001']);
      await expect(balances()).resolves.toEqual([
        { id: 'alice', balance: 7_000 },
        { id: 'bob', balance: 6_000 },
        { id: 'carol', balance: 7_000 },
      ]);
      await expect(transfers()).resolves.toEqual([{ id: 'a' }, { id: 'b' }]);
    });

    it('retries the victim of a real deadlock (40P01)', async () => {
      const bothLocked = barrier(2);
      const repo = new LedgerRepository(
        intercept(db, async ({ sql, txIndex, statement }) => {
          // Each first attempt locks its first account, then waits for the other: a lock cycle.
          if (txIndex <= 2 && statement === 2 && sql.startsWith('UPDATE accounts')) await bothLocked();
        }),
      );
      await time.run(() =>
        Promise.all([
          repo.transfer({ id: 'ab', from: 'alice', to: 'bob', amount: 1_000 }),
          repo.transfer({ id: 'ba', from: 'bob', to: 'alice', amount: 3_000 }),
        ]),
      );
      expect(retries.states).toEqual(['40P01']);
      await expect(balances()).resolves.toEqual([
        { id: 'alice', balance: 12_000 },
        { id: 'bob', balance: 3_000 },
        { id: 'carol', balance: 5_000 },
      ]);
      await expect(transfers()).resolves.toEqual([{ id: 'ab' }, { id: 'ba' }]);
    });
  });
});

interface Step {
  readonly sql: string;
  readonly tx: Transaction;
  /** 1 for the first transaction the wrapper saw (attempts of the same call count separately). */
  readonly txIndex: number;
  /** 1 for the transaction's first statement. */
  readonly statement: number;
}

/** `db`, with `after` awaited after every statement run inside a transaction. */
function intercept(db: Database, after: (step: Step) => Promise<void>): Database {
  let transactions = 0;
  return {
    kind: db.kind,
    description: db.description,
    query: (sql, params) => db.query(sql, params),
    close: () => db.close(),
    transaction: (work, isolation) => {
      const txIndex = ++transactions;
      let statement = 0;
      return db.transaction(
        (tx) =>
          work({
            backendPid: tx.backendPid,
            query: async (sql, params) => {
              const rows = await tx.query(sql, params);
              await after({ sql, tx, txIndex, statement: ++statement });
              return rows as never;
            },
          }),
        isolation,
      );
    },
  };
}

/** Resolves for every caller once `parties` callers are waiting. */
function barrier(parties: number): () => Promise<void> {
  let waiting = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    if (++waiting === parties) release();
    return all;
  };
}
