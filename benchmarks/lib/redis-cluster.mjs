// A throwaway Redis Cluster for the Cluster scenarios: 3 masters and 3 replicas, each a redis-server of
// ./redis-server.mjs (a free port on 127.0.0.1, a temp directory, killed with the process), joined by
// `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`. The benchmarks' counterpart of
// tests/redis/support/redis-cluster.ts, without the fault injection.

import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startRedisServer } from './redis-server.mjs';

const run = promisify(execFile);

/**
 * Starts the six nodes, makes them a cluster and waits until every node says `cluster_state:ok`.
 * @returns {Promise<{ startupNodes: { host: string, port: number }[], stop: () => Promise<void> }>}
 */
export async function startRedisCluster() {
  const { default: Redis } = await import('ioredis');
  const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000'];
  const started = await Promise.allSettled(Array.from({ length: 6 }, () => startRedisServer({ args })));
  const servers = started.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  const stop = () => Promise.all(servers.map((server) => server.stop())).then(() => undefined);
  const admins = [];
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    await run('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((server) => `${server.host}:${server.port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    admins.push(...servers.map((server) => new Redis(server.url, { maxRetriesPerRequest: 0 })));
    const deadline = performance.now() + 20_000;
    for (;;) {
      const states = await Promise.all(
        admins.map((admin) =>
          admin.call('CLUSTER', 'INFO').then(
            (info) => /cluster_state:(\w+)/.exec(String(info))?.[1],
            () => 'down',
          ),
        ),
      );
      if (states.every((state) => state === 'ok')) break;
      if (performance.now() > deadline) throw new Error(`the cluster is not ok: ${states.join(', ')}`);
      await sleep(100);
    }
    return { startupNodes: servers.map(({ host, port }) => ({ host, port })), stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    for (const admin of admins) admin.disconnect();
  }
}
