/**
 * A throwaway redis-server for the shared-circuit example: 127.0.0.1 on a free port, a temp
 * directory, no persistence (`--save '' --appendonly no`), stopped and deleted by `stop()`.
 * Whatever happens meanwhile, a server still running when this process exits (or is stopped by
 * SIGINT / SIGTERM) is killed and its directory removed; on Linux, with setpriv, even when this
 * process is killed with SIGKILL (the directory then stays in the temp folder).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findOnPath, freePort, pingRedis as ping, redisHost as host, redisServerArgs } from '../support/redis-process';

export { findRedisServer } from '../support/redis-process';

/** A running server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Its working directory (it writes only its log there). */
  readonly dir: string;
  /** SIGTERM (SIGKILL after 5 s), waits for the exit, removes the directory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts `binary` on a free port of 127.0.0.1 and resolves once it answers PING. */
export async function startRedisServer(binary: string): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'staunch-example-redis-'));
  const owned: Owned = { child: undefined, dir };
  own(owned);
  try {
    // Another process may take the free port before redis-server binds it: then try another.
    for (let tries = 1; ; tries++) {
      const port = await freePort();
      const child = launch(binary, port, dir);
      owned.child = child;
      const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
      try {
        await waitForPong(port, child, dir);
      } catch (error) {
        child.kill('SIGKILL');
        await exited;
        if (tries < 3) continue;
        throw error;
      }
      let stopped: Promise<void> | undefined;
      return {
        url: `redis://${host}:${port}`,
        port,
        pid: child.pid ?? -1,
        dir,
        stop: () =>
          (stopped ??= (async () => {
            const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
            clearTimeout(timer);
            await rm(dir, { recursive: true, force: true });
            disown(owned);
          })()),
      };
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    disown(owned);
    throw error;
  }
}

function launch(binary: string, port: number, dir: string): ChildProcess {
  const args = redisServerArgs(port, dir);
  // If this process is killed outright (SIGKILL: no exit handler runs), Linux can still end the server:
  // util-linux's setpriv sets the parent-death signal, then execs redis-server (same pid).
  const setpriv = process.platform === 'linux' ? findOnPath('setpriv') : undefined;
  const child =
    setpriv === undefined
      ? spawn(binary, args, { stdio: 'ignore' })
      : spawn(setpriv, ['--pdeathsig', 'KILL', '--', binary, ...args], { stdio: 'ignore' });
  // A binary that cannot start (permissions, a broken install) shows in waitForPong as an exit.
  child.on('error', () => undefined);
  return child;
}

/** Polls with PING every 20 ms; throws with the log's tail if the server exits or takes 10 s. */
async function waitForPong(port: number, child: ChildProcess, dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const gone = child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
    if (gone || Date.now() > deadline) {
      const log = await readFile(join(dir, 'redis.log'), 'utf8').catch(() => '(no log)');
      const tail = log.trimEnd().split('\n').slice(-10).join('\n');
      throw new Error(`redis-server on port ${port} ${gone ? 'exited' : 'did not answer PING in 10 s'}:\n${tail}`);
    }
    if (await ping(port)) return;
    await sleep(20);
  }
}

// The safety net: servers not stopped yet are killed, and their directories removed, when this
// process exits or is told to stop. Listeners are only registered while there is something to clean.
interface Owned {
  child: ChildProcess | undefined;
  readonly dir: string;
}
const owned = new Set<Owned>();
const cleanUp = (): void => {
  for (const { child, dir } of owned) {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  owned.clear();
};
const onSignal = (signal: NodeJS.Signals): void => {
  cleanUp();
  release();
  // Ends as the signal would have without a listener (unless someone else listens for it too).
  process.kill(process.pid, signal);
};

function own(item: Owned): void {
  if (owned.size === 0) {
    process.on('exit', cleanUp);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  owned.add(item);
}

function disown(item: Owned): void {
  if (owned.delete(item) && owned.size === 0) release();
}

function release(): void {
  process.off('exit', cleanUp);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
