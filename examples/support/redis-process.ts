/**
 * The building blocks of a throwaway redis-server, shared by the shared-circuit example's launcher
 * and the tests' harness (tests/redis/support/redis-server.ts): where the binary is, a free port,
 * the command line (127.0.0.1 only, no persistence, a log in its directory), and one raw PING.
 */
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** Where throwaway servers listen: loopback only. */
export const redisHost = '127.0.0.1';

/** The path of executable `name` on `path` (default: PATH), or undefined when there is none. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The path of `redis-server` on `path` (default: PATH), or undefined when there is none. */
export function findRedisServer(path = process.env.PATH ?? ''): string | undefined {
  return findOnPath('redis-server', path);
}

/** redis-server's arguments: `port` on 127.0.0.1, working in `dir`, saving nothing, logging to `dir/redis.log`. */
export function redisServerArgs(port: number, dir: string): string[] {
  return [
    ...['--port', String(port), '--bind', redisHost, '--dir', dir],
    ...['--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes'],
    ...['--logfile', join(dir, 'redis.log')],
  ];
}

/** A port of 127.0.0.1 free right now (another process may still take it before the server binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, redisHost, () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no free port'));
      });
    });
  });
}

/** One PING over a raw socket: true on `+PONG`, false on anything else (refused, LOADING, silence). */
export function pingRedis(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: redisHost, port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}
