/**
 * A throwaway Redis Cluster owned by the test: 3 masters and 3 replicas, each a redis-server of
 * ./redis-server.ts (free port on 127.0.0.1, temp directory, killed with the process), joined by
 * `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes` (redis-cli: Debian's redis-tools;
 * use `describeWithRedis(name, fn, { cli: true })`). Start it once per test file: it takes 1–2 s.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import Redis, { Cluster, type ClusterOptions } from 'ioredis';
import { startRedisServer, type RedisServer } from './redis-server';

const run = promisify(execFile);

/** A node of the cluster: its server, and its role when the cluster was made. */
export interface ClusterNode {
  readonly server: RedisServer;
  readonly role: 'master' | 'replica';
}

/** A running cluster. */
export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** Host and port of every node, for `new Cluster(startupNodes)`. */
  readonly startupNodes: readonly { host: string; port: number }[];
  /** A Cluster client of the test's, closed by `stop()`. */
  client(options?: ClusterOptions): Cluster;
  /** The node serving `key` now (asks the cluster). */
  nodeOf(key: string): Promise<ClusterNode>;
  /** The nodes that are masters now (a failover changes them), in the order of `nodes`. */
  masters(): Promise<ClusterNode[]>;
  /** The replica of `master`, as the cluster says now. */
  replicaOf(master: ClusterNode): Promise<ClusterNode | undefined>;
  /** Waits until every replica's link to its master is up (a replica never synchronised never takes over). */
  waitForReplication(timeoutMs?: number): Promise<void>;
  /** Waits until every live node says `cluster_state:ok` and agrees on who serves every slot. */
  waitUntilOk(timeoutMs?: number): Promise<void>;
  /** Stops every client it made and every node. */
  stop(): Promise<void>;
}

/** Extra redis-server arguments for every node, e.g. `['--cluster-require-full-coverage', 'no']`. */
export interface RedisClusterOptions {
  readonly args?: readonly string[];
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const args = [
    ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
    // Failures noticed within a second: the failover tests wait for them.
    ...['--cluster-node-timeout', '1000'],
    // Replicas synchronised at once (the default waits 5 s for more replicas): a replica that has never
    // synchronised would not take over, and the failover tests start right after the cluster.
    ...['--repl-diskless-sync-delay', '0'],
    ...(options.args ?? []),
  ];
  const servers = await Promise.all(Array.from({ length: 6 }, () => startRedisServer({ args })));
  const clients: (Redis | Cluster)[] = [];
  const stop = async (): Promise<void> => {
    for (const client of clients.splice(0)) client.disconnect();
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    // redis-cli makes the first three masters and gives each a replica among the last three.
    await run('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((server) => `${server.host}:${server.port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  const byPort = new Map<number, ClusterNode>();
  const nodes = servers.map((server, i): ClusterNode => {
    const node: ClusterNode = { server, role: i < 3 ? 'master' : 'replica' };
    byPort.set(server.port, node);
    return node;
  });
  const admin = (node: ClusterNode): Redis => {
    const client = new Redis(node.server.port, node.server.host, { lazyConnect: true, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  const live = nodes.map((node) => ({ node, client: admin(node) }));
  const ask = async (command: string, ...rest: string[]): Promise<string | undefined> => {
    for (const { client } of live) {
      const reply = await Promise.race([client.call(command, ...rest).catch(() => undefined), sleep(500)]);
      if (typeof reply === 'string' || typeof reply === 'number') return String(reply);
    }
    return undefined;
  };

  const cluster: RedisCluster = {
    nodes,
    startupNodes: servers.map((server) => ({ host: server.host, port: server.port })),
    client(clientOptions = {}) {
      const client = new Cluster(this.startupNodes as { host: string; port: number }[], clientOptions);
      clients.push(client);
      return client;
    },
    async nodeOf(key) {
      const slot = await ask('CLUSTER', 'KEYSLOT', key);
      // CLUSTER SLOTS: [[from, to, [host, port, id], …replicas], …]
      for (const { client } of live) {
        const slots = (await Promise.race([client.call('CLUSTER', 'SLOTS').catch(() => undefined), sleep(500)])) as
          [number, number, [string, number]][] | undefined;
        if (!Array.isArray(slots)) continue;
        const range = slots.find(([from, to]) => from <= Number(slot) && Number(slot) <= to);
        if (range !== undefined) return byPort.get(range[2][1])!;
      }
      throw new Error(`no node serves ${key}`);
    },
    async masters() {
      const roles = await Promise.all(
        live.map(async ({ client }) => {
          const info = await Promise.race([client.info('replication').catch(() => ''), sleep(500)]);
          return /^role:(\w+)/m.exec(info ?? '')?.[1];
        }),
      );
      return nodes.filter((_, i) => roles[i] === 'master');
    },
    async replicaOf(master) {
      const index = nodes.indexOf(master);
      const client = live[index]!.client;
      const info = await client.info('replication').catch(() => '');
      const port = /^slave0:ip=[^,]+,port=(\d+)/m.exec(info)?.[1];
      return port === undefined ? undefined : byPort.get(Number(port));
    },
    async waitForReplication(timeoutMs = 20_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const links = await Promise.all(
          live.map(async ({ client }) => {
            const info = await Promise.race([client.info('replication').catch(() => ''), sleep(500)]);
            const role = /^role:(\w+)/m.exec(info ?? '')?.[1];
            return role !== 'slave' || /^master_link_status:up/m.test(info ?? '');
          }),
        );
        if (links.every(Boolean)) return;
        if (performance.now() > deadline) throw new Error('the replicas are not synchronised');
        await sleep(100);
      }
    },
    async waitUntilOk(timeoutMs = 20_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(
          live.map(async ({ client }) => {
            const info = await Promise.race([client.call('CLUSTER', 'INFO').catch(() => undefined), sleep(500)]);
            return typeof info === 'string' ? /cluster_state:(\w+)/.exec(info)?.[1] : 'down';
          }),
        );
        const answering = states.filter((state) => state !== 'down' && state !== undefined);
        if (answering.length > 0 && answering.every((state) => state === 'ok')) return;
        if (performance.now() > deadline) throw new Error(`the cluster is not ok: ${states.join(', ')}`);
        await sleep(100);
      }
    },
    stop,
  };
  try {
    await cluster.waitUntilOk();
  } catch (error) {
    await stop();
    throw error;
  }
  return cluster;
}
