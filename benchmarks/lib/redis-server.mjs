// A throwaway redis-server for the Redis scenarios: a free port on 127.0.0.1, a temp directory, no
// persistence, stopped (and its directory removed) by `stop()`, or killed when the process exits.
// The benchmarks' counterpart of tests/redis/support/redis-server.ts, without the fault injection.

import { spawn } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const host = '127.0.0.1';

// What goes when the process exits: every server it started (a Cluster is six), their directories. One
// 'exit' listener for them all.
const atExit = new Set();
process.on('exit', () => {
  for (const task of atExit) task();
});
const readyTimeoutMs = 10_000;
const stopTimeoutMs = 5_000;

/** Whether `redis-server` is an executable on PATH. */
export function redisServerAvailable() {
  return onPath('redis-server');
}

/** Whether `redis-cli` (Debian: redis-tools) is an executable on PATH: it joins the Cluster's nodes. */
export function redisCliAvailable() {
  return onPath('redis-cli');
}

function onPath(command) {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .some((dir) => {
      try {
        accessSync(join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/**
 * Starts a redis-server on a free port of 127.0.0.1 and waits until it answers PING. `args`: more
 * redis-server arguments (a Cluster node's, for instance).
 * @param {{ args?: string[] }} [options]
 * @returns {Promise<{ host: string, port: number, url: string, stop: () => Promise<void> }>}
 */
export async function startRedisServer({ args = [] } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'staunch-bench-redis-'));
  const cleanUp = () => rmSync(dir, { recursive: true, force: true });
  atExit.add(cleanUp);
  // A port the OS picked can be taken by someone else before the server binds it: try again.
  for (let tries = 1; ; tries++) {
    const port = await freePort();
    const server = launch(port, dir, args);
    try {
      await waitReady(port, dir, server);
    } catch (error) {
      if (tries < 3) continue;
      atExit.delete(cleanUp);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    let stopped;
    return {
      host,
      port,
      url: `redis://${host}:${port}`,
      stop: () =>
        (stopped ??= (async () => {
          const timer = setTimeout(() => server.child.kill('SIGKILL'), stopTimeoutMs);
          if (!server.hasExited()) server.child.kill('SIGTERM');
          await server.exited;
          clearTimeout(timer);
          atExit.delete(cleanUp);
          await rm(dir, { recursive: true, force: true });
        })()),
    };
  }
}

function launch(port, dir, extra) {
  const args = ['--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--appendonly', 'no'];
  args.push('--daemonize', 'no', '--protected-mode', 'yes', '--logfile', join(dir, 'redis.log'), ...extra);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  // Whatever happens to the benchmark, the server goes with it.
  const kill = () => child.kill('SIGKILL');
  atExit.add(kill);
  let done = false;
  const exited = new Promise((resolve) => {
    const finish = () => {
      done = true;
      atExit.delete(kill);
      resolve();
    };
    child.once('close', finish);
    child.once('error', (error) => {
      stderr += `\n${error.message}`;
      finish();
    });
  });
  return { child, exited, hasExited: () => done, stderr: () => stderr };
}

async function waitReady(port, dir, server) {
  const deadline = performance.now() + readyTimeoutMs;
  for (;;) {
    if (!server.hasExited() && (await ping(port))) return;
    if (server.hasExited() || performance.now() > deadline) {
      server.child.kill('SIGKILL');
      await server.exited;
      const log = (await readFile(join(dir, 'redis.log'), 'utf8').catch(() => '')).trimEnd();
      const tail = log.split('\n').slice(-20).join('\n');
      throw new Error(`redis-server on port ${port} did not start:\n${tail}\n${server.stderr()}`.trimEnd());
    }
    await sleep(20);
  }
}

// One PING over a raw socket: true on `+PONG`, false on anything else (refused, LOADING, silence).
function ping(port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const finish = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no free port'));
      });
    });
  });
}
