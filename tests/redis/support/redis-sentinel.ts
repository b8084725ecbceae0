/**
 * A throwaway Sentinel setup owned by the test: a master and a replica (./redis-server.ts) and one
 * sentinel (`redis-server <conf> --sentinel`, a free port on 127.0.0.1, a temp directory: Sentinel
 * rewrites its config file) watching them under the name `staunch`, quorum 1, a master counted down
 * after 1 s. The sentinel is killed with the test process, whatever the test did.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, pingRedis, redisHost } from '../../../examples/support/redis-process';
import { startRedisServer, type RedisServer } from './redis-server';

/** The name the sentinel knows the master by. */
export const sentinelMasterName = 'staunch';

export interface RedisSentinelSetup {
  readonly master: RedisServer;
  readonly replica: RedisServer;
  /** The sentinel's address, for `new Redis({ sentinels: [sentinel], name: sentinelMasterName })`. */
  readonly sentinel: { readonly host: string; readonly port: number };
  /** Stops the sentinel, then both servers. */
  stop(): Promise<void>;
}

export async function startRedisSentinel(): Promise<RedisSentinelSetup> {
  const master = await startRedisServer();
  const replica = await startRedisServer({ args: ['--replicaof', master.host, String(master.port)] });
  const dir = await mkdtemp(join(tmpdir(), 'staunch-sentinel-'));
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  await writeFile(
    conf,
    [
      `port ${port}`,
      `bind ${redisHost}`,
      `dir ${dir}`,
      `logfile ${join(dir, 'sentinel.log')}`,
      `sentinel monitor ${sentinelMasterName} ${master.host} ${master.port} 1`,
      `sentinel down-after-milliseconds ${sentinelMasterName} 1000`,
      `sentinel failover-timeout ${sentinelMasterName} 5000`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const cleanUp = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanUp);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await exited;
    process.off('exit', cleanUp);
    await rm(dir, { recursive: true, force: true });
    await Promise.all([master.stop(), replica.stop()]);
  };
  const deadline = performance.now() + 10_000;
  while (!(await pingRedis(port))) {
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`the sentinel on port ${port} did not answer PING within 10 s`);
    }
    await sleep(20);
  }
  return { master, replica, sentinel: { host: redisHost, port }, stop };
}
