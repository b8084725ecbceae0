/**
 * A throwaway redis-server owned by the test: a free port on 127.0.0.1, a temp directory, no
 * persistence, and handles to break it on purpose (kill, restart on the same port, pause).
 * Every server this module starts is killed when the process exits, whatever the tests did.
 *
 * .ci/run installs redis-server and sets STAUNCH_REQUIRE_REDIS=1, so that CI never skips the
 * Redis tests silently; elsewhere they are skipped (with a warning) when redis-server is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Not the globals: a test may install fake timers, and the harness runs on real time.
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  findOnPath,
  findRedisServer,
  freePort,
  pingRedis as ping,
  redisHost as host,
  redisServerArgs,
} from '../../../examples/support/redis-process';
/** How long a (re)started server has to answer PING. */
const readyTimeoutMs = 10_000;
/** How long a SIGTERM'd server has to exit before it gets SIGKILL. */
const stopTimeoutMs = 10_000;

/** A running throwaway server. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The current process id (a restart changes it). */
  readonly pid: number;
  /** SIGTERM, waits for the exit, then removes the temp directory. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (no shutdown at all), waits for the exit; keeps the directory for `restart()`. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and directory, and waits until it answers PING. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing is answered. */
  pause(): void;
  /** SIGCONT, after `pause()`. */
  resume(): void;
}

/** Extra redis-server arguments, e.g. `['--maxmemory', '1mb']`. */
export interface RedisServerOptions {
  readonly args?: readonly string[];
}

let available: boolean | undefined;

/** Whether `redis-server` is an executable on PATH. */
export function redisServerAvailable(): boolean {
  available ??= findRedisServer() !== undefined;
  return available;
}

let warned = false;

/**
 * `describe` when redis-server is installed (and redis-cli, with `{ cli: true }`); otherwise
 * `describe.skip` (with one warning), or an error when STAUNCH_REQUIRE_REDIS=1 (CI), so that a
 * missing server is never a silent skip.
 */
export function describeWithRedis(name: string, fn: () => void, needs: { readonly cli?: boolean } = {}): void {
  if (redisServerAvailable() && (needs.cli !== true || findOnPath('redis-cli') !== undefined)) {
    describe(name, fn);
    return;
  }
  if (process.env.STAUNCH_REQUIRE_REDIS === '1') {
    throw new Error(
      'STAUNCH_REQUIRE_REDIS=1 but redis-server or redis-cli is not on PATH: install them ' +
        '(Debian/Ubuntu: apt-get install redis-server redis-tools; macOS: brew install redis), or unset STAUNCH_REQUIRE_REDIS',
    );
  }
  if (!warned) {
    warned = true;
    console.warn(
      'redis-server or redis-cli is not on PATH: skipping Redis tests (install redis-server and redis-tools to run them; ' +
        'STAUNCH_REQUIRE_REDIS=1 makes this an error)',
    );
  }
  describe.skip(name, fn);
}

// Servers still running are killed, and directories not yet removed are removed, when the process
// exits. The exit listener is only registered while there are some: a jest worker loads this
// module once per test file.
const running = new Set<ChildProcess>();
const directories = new Set<string>();
const cleanUp = (): void => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
};

function own<T>(set: Set<T>, item: T): void {
  if (running.size + directories.size === 0) process.on('exit', cleanUp);
  set.add(item);
}

function disown<T>(set: Set<T>, item: T): void {
  if (set.delete(item) && running.size + directories.size === 0) process.off('exit', cleanUp);
}

async function removeDirectory(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  disown(directories, dir);
}

/** One redis-server process: its exit, awaited, and what it wrote to stderr. */
interface Instance {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<void>;
  readonly hasExited: () => boolean;
  readonly stderr: () => string;
}

function launch(port: number, dir: string, extra: readonly string[]): Instance {
  const args = [...redisServerArgs(port, dir), ...extra];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  let done = false;
  // 'close': the process has exited and its stderr is drained (no handle left behind).
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => {
      done = true;
      disown(running, child);
      resolve();
    });
    child.once('error', (error) => {
      stderr += `\n${error.message}`;
      done = true;
      disown(running, child);
      resolve();
    });
  });
  if (child.pid !== undefined) own(running, child);
  return { child, pid: child.pid ?? -1, exited, hasExited: () => done, stderr: () => stderr };
}

async function logTail(dir: string, instance: Instance, lines = 20): Promise<string> {
  const log = await readFile(join(dir, 'redis.log'), 'utf8').catch(() => '');
  const tail = log.trimEnd().split('\n').slice(-lines).join('\n');
  const stderr = instance.stderr().trim();
  return [tail === '' ? '(redis.log is empty)' : tail, stderr === '' ? '' : `stderr: ${stderr}`]
    .filter((part) => part !== '')
    .join('\n');
}

/** Waits until the server answers PING; throws, with the log's tail, if it exits or takes 10 s. */
async function waitReady(port: number, dir: string, instance: Instance): Promise<void> {
  const deadline = performance.now() + readyTimeoutMs;
  for (;;) {
    if (instance.hasExited()) {
      throw new Error(`redis-server on port ${port} exited before answering PING:\n${await logTail(dir, instance)}`);
    }
    if (await ping(port)) return;
    if (performance.now() > deadline) {
      instance.child.kill('SIGKILL');
      await instance.exited;
      throw new Error(
        `redis-server on port ${port} did not answer PING within ${readyTimeoutMs} ms:\n${await logTail(dir, instance)}`,
      );
    }
    await sleep(20);
  }
}

/** Starts a redis-server on a free port of 127.0.0.1 and waits until it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const extra = options.args ?? [];
  const dir = await mkdtemp(join(tmpdir(), 'staunch-redis-'));
  own(directories, dir);
  let instance: Instance;
  let port: number;
  // A port picked by the OS can be taken by someone else before the server binds it: try again.
  for (let tries = 1; ; tries++) {
    port = await freePort();
    instance = launch(port, dir, extra);
    try {
      await waitReady(port, dir, instance);
      break;
    } catch (error) {
      if (tries < 3) continue;
      await removeDirectory(dir);
      throw error;
    }
  }

  let stopped: Promise<void> | undefined;
  const kill = async (signal: NodeJS.Signals) => {
    const current = instance;
    if (!current.hasExited()) {
      current.child.kill(signal);
      // A paused server only acts on SIGTERM once it runs again (SIGKILL needs no help).
      if (signal !== 'SIGKILL') current.child.kill('SIGCONT');
    }
    await current.exited;
  };

  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    get pid() {
      return instance.pid;
    },
    stop() {
      stopped ??= (async () => {
        const current = instance;
        const timer = setTimeout(() => current.child.kill('SIGKILL'), stopTimeoutMs);
        try {
          await kill('SIGTERM');
        } finally {
          clearTimeout(timer);
          await removeDirectory(dir);
        }
      })();
      return stopped;
    },
    kill: () => kill('SIGKILL'),
    async restart() {
      if (stopped !== undefined) throw new Error('restart() after stop(): the server is gone, start a new one');
      await kill('SIGKILL');
      instance = launch(port, dir, extra);
      await waitReady(port, dir, instance);
    },
    pause() {
      instance.child.kill('SIGSTOP');
    },
    resume() {
      instance.child.kill('SIGCONT');
    },
  };
}
