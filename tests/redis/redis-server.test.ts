/**
 * The test harness itself (./support/redis-server.ts): a real redis-server that the tests start,
 * kill, restart, pause and stop, seen through an ioredis client.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis-server';
import { processAlive as alive } from './support/process-alive';

/** The error code of a raw TCP connection to the port, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/**
 * Closes the client (unless it already is) and waits until its socket is closed: QUIT when connected,
 * since ioredis's disconnect() leaves a 2 s timer behind that keeps jest from exiting.
 */
async function disconnect(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  const ended = once(client, 'end');
  if (client.status === 'ready') await client.quit();
  else client.disconnect();
  await ended;
}

/** Resolves with the value, or 'timeout' after `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | 'timeout'> {
  // The losing timer is cancelled: a pending one would keep jest from exiting.
  const timer = new AbortController();
  try {
    return await Promise.race([promise, sleep(ms, 'timeout' as const, { signal: timer.signal })]);
  } finally {
    timer.abort();
  }
}

describeWithRedis('tests/redis/support/redis-server', () => {
  // One server through its whole life, in the order of the tests below.
  let server: RedisServer;
  let client: Redis;
  const errors: string[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
    // Reconnects every 20 ms, so that it finds the restarted server at once.
    client = new Redis(server.port, server.host, { retryStrategy: () => 20, lazyConnect: true });
    client.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    await client.connect();
  });
  afterAll(async () => {
    await disconnect(client);
    await server.stop();
  });

  it('starts a server of its own on 127.0.0.1', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(alive(server.pid)).toBe(true);
  });

  it('persists nothing and listens on 127.0.0.1 only', async () => {
    await expect(client.config('GET', 'save')).resolves.toEqual(['save', '']);
    await expect(client.config('GET', 'appendonly')).resolves.toEqual(['appendonly', 'no']);
    await expect(client.config('GET', 'bind')).resolves.toEqual(['bind', '127.0.0.1']);
  });

  it('round-trips SET and GET', async () => {
    await expect(client.set('greeting', 'hello')).resolves.toBe('OK');
    await expect(client.get('greeting')).resolves.toBe('hello');
  });

  it('kill(): the process is gone, the client reconnects in vain', async () => {
    const pid = server.pid;
    const reconnecting = once(client, 'reconnecting');
    await server.kill();
    expect(alive(pid)).toBe(false);
    await reconnecting;
    while (!errors.includes('ECONNREFUSED')) await sleep(10);
    expect(client.status).not.toBe('ready');
    await expect(tryConnect(server.port)).resolves.toBe('ECONNREFUSED');
  });

  it('restart(): the same port answers again, empty (nothing is persisted)', async () => {
    const before = server.pid;
    await server.restart();
    expect(server.pid).not.toBe(before);
    expect(alive(server.pid)).toBe(true);
    await expect(client.ping()).resolves.toBe('PONG');
    await expect(client.get('greeting')).resolves.toBeNull();
  });

  it('pause(): commands hang; resume(): they are answered', async () => {
    server.pause();
    try {
      const pending = client.ping();
      await expect(within(200, pending)).resolves.toBe('timeout');
      server.resume();
      await expect(within(5_000, pending)).resolves.toBe('PONG');
    } finally {
      server.resume();
    }
    await expect(client.ping()).resolves.toBe('PONG');
  });

  it('stop(): the port refuses connections, and stop() again is a no-op', async () => {
    const pid = server.pid;
    await disconnect(client);
    await server.stop();
    expect(alive(pid)).toBe(false);
    await expect(tryConnect(server.port)).resolves.toBe('ECONNREFUSED');
    await expect(server.stop()).resolves.toBeUndefined();
    await expect(server.restart()).rejects.toThrow(/after stop\(\)/);
  });
});

describeWithRedis('tests/redis/support/redis-server: stop() while paused', () => {
  it('still stops the server (SIGTERM is followed by SIGCONT)', async () => {
    const server = await startRedisServer();
    server.pause();
    await server.stop();
    expect(alive(server.pid)).toBe(false);
  });
});
