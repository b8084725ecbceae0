import Redis from 'ioredis';
import { circuitBreaker } from '@staunch/core';
import { redisStore, type RedisCircuitStore } from '@staunch/redis';
import { documentedAclRules } from './support/documented-acl';
import { Down, eventually, fail, outcome, succeed } from './support/circuit-helpers';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis-server';

// The README's ACL line is the contract: a user with exactly those permissions runs the whole life of a
// shared circuit (trip, lease, trial, close) across two stores, and closes cleanly.

describeWithRedis('redisStore with an ACL user', () => {
  let server: RedisServer;
  let admin: Redis;
  const clients: Redis[] = [];
  const stores: RedisCircuitStore[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    await admin.call('ACL', 'SETUSER', 'circuits', 'reset', 'on', '>secret', ...documentedAclRules('server'));
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    for (const client of clients) if (client.status === 'ready') await client.quit();
    await admin.quit();
    await server.stop();
  });

  it('runs a shared circuit through its whole life with exactly the documented permissions', async () => {
    const made = [0, 1].map((i) => {
      const client = new Redis(server.url, { username: 'circuits', password: 'secret' });
      clients.push(client);
      const store = redisStore(client, { processId: `acl-${i}`, quorum: 2, leaseTimeout: 1 });
      stores.push(store);
      return store;
    });
    const unavailable: unknown[] = [];
    for (const store of made) store.on('unavailable', ({ error }) => unavailable.push(error));
    const [a, b] = made.map((store) =>
      circuitBreaker({ on: Down, threshold: 2, resetTimeout: 200, name: 'acl', store }),
    );
    await Promise.all(made.map((store) => store.ready()));
    // Failures from two processes: the shared circuit opens for both.
    outcome(a!, fail);
    outcome(b!, fail);
    await eventually(() => a!.state === 'open' && b!.state === 'open', 'the shared circuit to open');
    // The wait over, one of them takes the lease, its trial succeeds, and the circuit closes for both.
    await eventually(
      () => outcome(a!, succeed) === 'ok' || outcome(b!, succeed) === 'ok',
      'a trial call to run and succeed',
    );
    await eventually(() => a!.state === 'closed' && b!.state === 'closed', 'the shared circuit to close');
    expect(await admin.hget('staunch:circuit:{acl}', 'leases')).toBe('1');
    expect(unavailable).toEqual([]);
    // What the user was refused, had it needed anything else: nothing.
    const refused = (await admin.call('ACL', 'LOG')) as unknown[];
    expect(refused).toEqual([]);
  });
});
