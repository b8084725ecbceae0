// examples/nest-app: a real Nest app (a child process, see tests/nestjs/support/register.cjs) in
// front of the api-client example's flaky server (started here), spoken to over real HTTP on the
// real clock: the circuit's 1 s resetTimeout is waited for, once.
import { join } from 'node:path';
import { FaultyServer } from '../../examples/api-client/server';
import { startNestApp, type NestProcess } from '../nestjs/support/nest-process';

describe('examples/nest-app (real NestJS, real HTTP)', () => {
  let upstream: FaultyServer;
  let app: NestProcess;
  const get = (path: string): Promise<Response> => fetch(`${app.url}${path}`);

  beforeAll(async () => {
    upstream = await FaultyServer.start();
    app = await startNestApp(join(__dirname, '../../examples/nest-app/app.ts'), {
      env: { UPSTREAM_URL: upstream.url },
    });
  }, 90_000);
  afterAll(async () => {
    await app.stop();
    await upstream.close();
  });

  it('answers through the stacked decorators: two 503s from the upstream are retried away', async () => {
    upstream.failNext(2);
    const before = upstream.requests;
    const response = await get('/users/42');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: '42', name: 'User 42' });
    expect(upstream.requests - before).toBe(3);
  });

  it('does not retry a 4xx: it is a 502 after one request', async () => {
    upstream.failNext(1, 404);
    const before = upstream.requests;
    expect((await get('/users/7')).status).toBe(502);
    expect(upstream.requests - before).toBe(1);
  });

  it('opens the circuit in an outage (503 + Retry-After, health down) and closes it after (health up)', async () => {
    const healthy = await get('/health');
    expect(healthy.status).toBe(200);

    await upstream.outage();
    expect((await get('/users/1')).status).toBe(502); // three tries, three refused connections: the circuit opens

    const rejected = await get('/users/2');
    expect(rejected.status).toBe(503);
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect(await rejected.json()).toMatchObject({ statusCode: 503, code: 'STAUNCH_CIRCUIT_OPEN' });

    const down = await get('/health');
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({
      status: 'error',
      error: {
        circuits: { status: 'down', open: [{ method: 'UsersService.getUser', name: 'upstream', state: 'open' }] },
      },
    });

    await upstream.restore();
    await new Promise((resolve) => setTimeout(resolve, 1_050)); // resetTimeout: the circuit lets a trial through
    expect((await get('/users/3')).status).toBe(200); // the trial succeeds: closed
    const up = await get('/health');
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ status: 'ok', info: { circuits: { status: 'up', open: [] } } });
  }, 20_000);

  it('lists its policies, outermost first, with their options', async () => {
    const listed = (await (await get('/policies')).json()) as { method: string; policies: { kind: string }[] }[];
    expect(listed.map((m) => ({ method: m.method, kinds: m.policies.map((p) => p.kind) }))).toEqual([
      { method: 'UsersService.getUser', kinds: ['retry', 'circuitBreaker', 'timeout'] },
    ]);
    expect(listed[0]?.policies[1]).toMatchObject({
      kind: 'circuitBreaker',
      scope: 'class',
      options: { threshold: 3, resetTimeout: 1_000 },
    });
  });
});
