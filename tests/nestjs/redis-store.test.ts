// StaunchModule.forRootAsync with a @staunch/redis store built from an injected ioredis client:
// two real Nest apps (child processes) and one real redis-server (started here), one circuit.
import { join } from 'node:path';
import { describeWithRedis, startRedisServer, type RedisServer } from '../redis/support/redis-server';
import { startNestApp, type NestProcess } from './support/nest-process';

describeWithRedis('StaunchModule with a @staunch/redis store from an injected ioredis client', () => {
  let redis: RedisServer;
  const apps: NestProcess[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    const app = join(__dirname, 'support/redis-app.ts');
    // One after the other: two compiling at once on a loaded 2-core machine is slower than twice one.
    for (let i = 0; i < 2; i++) apps.push(await startNestApp(app, { env: { REDIS_URL: redis.url } }));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await redis.stop();
  }, 30_000);

  it('opens the circuit for the other app when one app sees it fail (one circuit, through Redis)', async () => {
    const [first, second] = apps as [NestProcess, NestProcess];
    expect(await (await fetch(`${second.url}/charge/ok`)).text()).toBe('charged');
    expect((await fetch(`${first.url}/charge/fail`)).status).toBe(500);
    expect((await fetch(`${first.url}/charge/fail`)).status).toBe(500);
    // The other process hears of the open circuit through Redis (pub/sub), within moments.
    let status = 0;
    for (let i = 0; i < 100 && status !== 503; i++) {
      status = (await fetch(`${second.url}/charge/ok`)).status;
      if (status !== 503) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(503);
  }, 30_000);
});
