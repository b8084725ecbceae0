// @staunch/nestjs in a real Nest app (a child process: Nest 12 is ESM-only, see
// support/register.cjs), over real HTTP on 127.0.0.1.
import { join } from 'node:path';
import { nestMajors, startNestApp, type NestProcess } from './support/nest-process';

describe.each(nestMajors)('@staunch/nestjs in a real Nest %i application', (major) => {
  let app: NestProcess;
  const get = (path: string, method = 'GET'): Promise<Response> => fetch(`${app.url}/${path}`, { method });
  const json = async (path: string): Promise<unknown> => (await get(path)).json();

  beforeAll(async () => {
    app = await startNestApp(join(__dirname, 'support/staunch-app.ts'), { major });
  }, 90_000);

  it(`runs on Nest ${major}`, () => {
    expect(app.nestVersion.split('.')[0]).toBe(String(major));
  });
  afterAll(async () => {
    await app.stop();
  });

  describe('the exception filter', () => {
    it('answers an open circuit with 503 and Retry-After in whole seconds, health down; up again once it closes', async () => {
      expect((await json('health')) as object).toMatchObject({ status: 'ok' });
      expect((await get('upstream/fail')).status).toBe(500); // the upstream's own error, Nest's handling
      expect((await get('upstream/fail')).status).toBe(500);
      const rejected = await get('upstream/ok');
      expect(rejected.status).toBe(503);
      expect(rejected.headers.get('retry-after')).toBe('60');
      expect(await rejected.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: expect.stringContaining('is open') as unknown,
        code: 'STAUNCH_CIRCUIT_OPEN',
      });

      const down = await get('health');
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({
        status: 'error',
        error: {
          circuits: { status: 'down', open: [{ method: 'Upstream.call', state: 'open', isolated: false }] },
        },
      });

      await get('upstream/reset', 'POST');
      const up = await get('health');
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ status: 'ok', info: { circuits: { status: 'up', open: [] } } });
    });

    it('answers a full bulkhead with 503 and no Retry-After (a bulkhead cannot tell when)', async () => {
      const first = get('slow');
      // The first call holds the one slot until released: wait until it runs.
      while ((await json('slow/running')) !== true) await new Promise((resolve) => setTimeout(resolve, 10));
      const second = await get('slow');
      expect(second.status).toBe(503);
      expect(second.headers.get('retry-after')).toBeNull();
      expect(((await second.json()) as { code: string }).code).toBe('STAUNCH_BULKHEAD_REJECTED');
      await get('slow/release', 'POST');
      expect(await (await first).text()).toBe('done');
    });

    it("answers a rate limiter's rejection (code STAUNCH_RATE_LIMITED) with 429 and Retry-After", async () => {
      const response = await get('rate-limited');
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('3');
      expect(await response.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    });

    it('leaves other errors to Nest: a timeout is a 500, an unknown route a 404', async () => {
      expect((await get('timeout')).status).toBe(500);
      expect((await get('nowhere')).status).toBe(404);
    });
  });

  describe('the module store', () => {
    it('gives circuits decorated with moduleCircuitStore the store forRootAsync made from an injected provider', async () => {
      expect(await (await get('shared/b')).text()).toBe('b');
      await get('shared/a/fail');
      await get('shared/a/fail');
      // One circuit called 'payments' in the injected store: SharedA's failures opened SharedB's.
      expect((await get('shared/b')).status).toBe(503);
      expect(await json('circuits-asked')).toEqual(['payments', 'payments']);
    });
  });

  describe('request-scoped and transient providers', () => {
    it('shares a class-scoped circuit (the default) between the instances of a request-scoped provider', async () => {
      expect((await get('per-request/shared')).status).toBe(500);
      expect((await get('per-request/shared')).status).toBe(500);
      expect((await get('per-request/shared')).status).toBe(503);
    });

    it('gives each request its own instance-scoped circuit, which therefore never opens across requests', async () => {
      for (let i = 0; i < 4; i++) expect((await get('per-request/own')).status).toBe(500);
    });

    it('shares a class-scoped circuit between the instances of a transient provider', async () => {
      expect((await get('transient/shared')).status).toBe(500);
      expect((await get('transient/shared')).status).toBe(500);
      expect((await get('transient/shared')).status).toBe(503);
    });
  });

  describe('discovery', () => {
    it('lists every decorated method of the providers and controllers, with Nest scope and policies outermost first', async () => {
      const listed = (await json('policies')) as { at: string }[];
      expect(listed.sort((x, y) => x.at.localeCompare(y.at))).toEqual([
        { at: 'PerConsumer.shared', kind: 'provider', scope: 'transient', policies: ['circuitBreaker'] },
        { at: 'PerRequest.own', kind: 'provider', scope: 'request', policies: ['circuitBreaker'] },
        { at: 'PerRequest.shared', kind: 'provider', scope: 'request', policies: ['circuitBreaker'] },
        { at: 'SharedA.call', kind: 'provider', scope: 'default', policies: ['circuitBreaker'] },
        { at: 'SharedB.call', kind: 'provider', scope: 'default', policies: ['circuitBreaker'] },
        { at: 'Slow.run', kind: 'provider', scope: 'default', policies: ['bulkhead'] },
        { at: 'Upstream.call', kind: 'provider', scope: 'default', policies: ['circuitBreaker'] },
        { at: 'Upstream.perInstance', kind: 'provider', scope: 'default', policies: ['retry', 'circuitBreaker'] },
      ]);
    });

    it('reports the decorated methods to onPolicies once the app has bootstrapped', async () => {
      expect(await json('bootstrap-report')).toBe(8);
    });
  });
});
