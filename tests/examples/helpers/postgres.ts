/**
 * A throwaway PostgreSQL server for the repository tests: `initdb` in a temp directory, `pg_ctl`
 * on a free port that listens on 127.0.0.1 only (no Unix socket), a random password, and
 * `stop()` that shuts it down and deletes the directory. initdb refuses to run as root, so as
 * root the binaries run as the `postgres` user (which Debian's postgresql package creates).
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A running throwaway server. */
export interface PostgresServer {
  /** `postgres://staunch:<password>@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** Stops the server (fast shutdown) and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * The folder holding `initdb` and `pg_ctl`: $PG_BIN, else the newest /usr/lib/postgresql/N/bin
 * (Debian keeps them off PATH), else the folder of `initdb` on PATH. Undefined when not installed.
 */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates: string[] = [];
  if (env.PG_BIN !== undefined && env.PG_BIN !== '') candidates.push(env.PG_BIN);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  candidates.push(...(env.PATH ?? '').split(':').filter((dir) => dir !== ''));
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

/** Starts a server with the binaries in `bin`. */
export async function startPostgres(bin: string): Promise<PostgresServer> {
  const asRoot = process.getuid?.() === 0;
  // As root, the postgres user must reach the directory: /tmp is world-traversable, $TMPDIR may not be.
  const dir = mkdtempSync(join(asRoot ? '/tmp' : tmpdir(), 'staunch-pg-'));
  const exec = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args);
  try {
    const password = randomBytes(18).toString('hex');
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
      chownSync(dir, uid, gid);
      chownSync(pwfile, uid, gid);
    }
    const data = join(dir, 'data');
    await exec('initdb', [
      `--pgdata=${data}`,
      '--username=staunch',
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    // A port picked by the OS can be taken by someone else before the server binds it: try again.
    for (let tries = 1; ; tries++) {
      const port = await freePort();
      const settings = [
        `-p ${port}`,
        '-c listen_addresses=127.0.0.1',
        "-c unix_socket_directories=''",
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c deadlock_timeout=50ms', // the deadlock test waits this long for the detector
      ].join(' ');
      try {
        await exec('pg_ctl', [
          'start',
          '--wait',
          '--timeout=60',
          `--pgdata=${data}`,
          `--log=${join(dir, 'log')}`,
          `-o ${settings}`,
        ]);
      } catch (error) {
        if (tries < 3) continue;
        throw error;
      }
      const url = `postgres://staunch:${password}@127.0.0.1:${port}/postgres`;
      return {
        url,
        stop: async () => {
          try {
            await exec('pg_ctl', ['stop', '--wait', '--mode=fast', `--pgdata=${data}`]);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      };
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}
