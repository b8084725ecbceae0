/**
 * The database the repository example talks to: PostgreSQL, either embedded (PGlite: Postgres
 * compiled to WebAssembly, in this process, no server needed) or a real server through `pg`
 * when `DATABASE_URL` is set. Both speak the same SQL and report errors with the same SQLSTATE
 * codes, which is what the retry filter looks at.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type Transaction as PGliteTransaction } from '@electric-sql/pglite';
import { Pool, type PoolClient } from 'pg';
import { untracked, type ActivityTracker } from '../support/activity';

/** Runs SQL. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** An open transaction. `backendPid` is the server process serving it (real PostgreSQL only). */
export interface Transaction extends Queryable {
  readonly backendPid: number | undefined;
}

/** A PostgreSQL database, embedded or remote. */
export interface Database extends Queryable {
  /** `'PGlite'` or `'PostgreSQL'`. */
  readonly kind: string;
  /** Where it is, for logs. */
  readonly description: string;
  /**
   * Runs `work` in one transaction (SERIALIZABLE unless told otherwise): commits when it
   * resolves, rolls back when it throws, and re-throws its error.
   */
  transaction<T>(work: (tx: Transaction) => Promise<T>, isolation?: Isolation): Promise<T>;
  /** Closes the database (PGlite) or the connection pool (pg). */
  close(): Promise<void>;
}

/** A transaction isolation level. */
export type Isolation = 'serializable' | 'repeatable read' | 'read committed';

/**
 * The connection was lost (the backend was terminated, the server went away). SQLSTATE class 08:
 * node-postgres reports a dropped connection without a code; this gives it one.
 */
export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
  readonly code = '08006'; // connection_failure

  constructor(options?: ErrorOptions) {
    super('the connection to the database was lost', options);
  }
}

/** The SQLSTATE of a database error (`'40001'`…), or undefined for anything else. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Opens the database `DATABASE_URL` names, or an embedded PGlite when it is unset. */
export async function openDatabase(
  env: NodeJS.ProcessEnv = process.env,
  activity: ActivityTracker = untracked,
): Promise<Database> {
  const url = env.DATABASE_URL;
  return url !== undefined && url !== '' ? openPostgres(url, activity) : openPGlite(activity);
}

let queries = 0;

/** Runs one query, reporting it to `activity` (for tests on a virtual clock). */
async function tracked<T>(activity: ActivityTracker, run: () => Promise<T>): Promise<T> {
  const id = `sql-${++queries}`;
  activity.start(id);
  try {
    return await run();
  } finally {
    activity.finish(id);
  }
}

/**
 * An in-memory PGlite. Its first start runs initdb in WebAssembly (several seconds); the
 * freshly initialised data directory is then cached in node_modules/.cache, and later starts
 * load it (about one second).
 */
export async function openPGlite(activity: ActivityTracker = untracked): Promise<Database> {
  const cache = pgliteCacheFile();
  let db: PGlite;
  if (cache !== undefined && existsSync(cache)) {
    db = await PGlite.create({ loadDataDir: new Blob([readFileSync(cache)]) });
  } else {
    db = await PGlite.create();
    if (cache !== undefined) await saveDataDir(db, cache);
  }
  return new PGliteDatabase(db, activity);
}

class PGliteDatabase implements Database {
  readonly kind = 'PGlite';
  readonly description = 'PGlite (PostgreSQL in WebAssembly, in this process)';

  constructor(
    private readonly db: PGlite,
    private readonly activity: ActivityTracker,
  ) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const result = await tracked(this.activity, () => this.db.query<Row>(sql, [...params]));
    return result.rows;
  }

  transaction<T>(work: (tx: Transaction) => Promise<T>, isolation: Isolation = 'serializable'): Promise<T> {
    return this.db.transaction(async (tx: PGliteTransaction) => {
      const wrapped: Transaction = {
        backendPid: undefined,
        query: async <Row>(sql: string, params: readonly unknown[] = []) =>
          (await tracked(this.activity, () => tx.query<Row>(sql, [...params]))).rows,
      };
      await wrapped.query(`SET TRANSACTION ISOLATION LEVEL ${isolation}`);
      return work(wrapped);
    });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** A connection pool to a real PostgreSQL server. */
export function openPostgres(url: string, activity: ActivityTracker = untracked): Database {
  return new PostgresDatabase(url, activity);
}

class PostgresDatabase implements Database {
  readonly kind = 'PostgreSQL';
  readonly description: string;
  readonly #pool: Pool;

  constructor(
    url: string,
    private readonly activity: ActivityTracker,
  ) {
    const { hostname, port } = new URL(url);
    this.description = `PostgreSQL at ${hostname}:${port || '5432'} (DATABASE_URL)`;
    this.#pool = new Pool({ connectionString: url, max: 4 });
    // An idle connection that dies (server restart, pg_terminate_backend) is dropped by the pool.
    this.#pool.on('error', () => undefined);
  }

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      const result = await tracked(this.activity, () => this.#pool.query(sql, [...params]));
      return result.rows as Row[];
    } catch (error) {
      throw normalise(error, undefined);
    }
  }

  async transaction<T>(work: (tx: Transaction) => Promise<T>, isolation: Isolation = 'serializable'): Promise<T> {
    const client = await tracked(this.activity, () => this.#pool.connect()).catch((error: unknown) => {
      throw normalise(error, undefined);
    });
    // A checked-out client reports a dropped connection as an 'error' event: without a listener
    // that event would crash the process; with one, the next query fails and we know why.
    let lost: Error | undefined;
    const onError = (error: Error) => {
      lost ??= error;
    };
    client.on('error', onError);
    const run = async <Row>(sql: string, params: readonly unknown[] = []) =>
      (await tracked(this.activity, () => client.query(sql, [...params]))).rows as Row[];
    try {
      await run(`BEGIN ISOLATION LEVEL ${isolation}`);
      // node-postgres keeps the server process id (from BackendKeyData) untyped on the client.
      const backendPid = (client as unknown as { processID?: number }).processID;
      const result = await work({ backendPid, query: run });
      await run('COMMIT');
      return result;
    } catch (error) {
      if (lost === undefined) await rollback(client);
      throw normalise(error, lost);
    } finally {
      client.off('error', onError);
      client.release(lost ?? false); // a broken connection is destroyed, not reused
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

async function rollback(client: PoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK');
  } catch {
    // The connection is gone too: the server rolled the transaction back itself.
  }
}

function normalise(error: unknown, lost: Error | undefined): unknown {
  if (sqlState(error) !== undefined) return error;
  const message = error instanceof Error ? error.message : '';
  if (lost !== undefined || /Connection terminated|not queryable|ECONNRESET|ECONNREFUSED/.test(message)) {
    return new ConnectionLostError({ cause: lost ?? error });
  }
  return error;
}

function pgliteCacheFile(): string | undefined {
  try {
    const root = join(__dirname, '..', '..', 'node_modules');
    const { version } = JSON.parse(readFileSync(join(root, '@electric-sql/pglite/package.json'), 'utf8')) as {
      version: string;
    };
    return join(root, '.cache', 'staunch-examples', `pglite-${version}-datadir.tar.gz`);
  } catch {
    return undefined;
  }
}

async function saveDataDir(db: PGlite, file: string): Promise<void> {
  try {
    const dump = await db.dumpDataDir('gzip');
    mkdirSync(join(file, '..'), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, Buffer.from(await dump.arrayBuffer()));
    renameSync(temporary, file); // atomic: parallel test workers never read half a file
  } catch {
    // A cache is only a cache: without it, the next start runs initdb again.
  }
}
