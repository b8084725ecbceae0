// StaunchModule's policy `defaults` and `telemetry` in a real Nest app (a child process, see
// support/register.cjs), over real HTTP on 127.0.0.1, with the real OpenTelemetry SDK.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nestMajors, startNestApp, type NestProcess } from './support/nest-process';

const appFile = join(__dirname, 'support/defaults-app.ts');

describe.each(nestMajors)('StaunchModule defaults and telemetry on Nest %i', (major) => {
  let app: NestProcess;
  let dir: string;
  const get = (path: string): Promise<Response> => fetch(`${app.url}/${path}`);
  const json = async (path: string): Promise<unknown> => (await get(path)).json();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'staunch-nest-'));
    app = await startNestApp(appFile, { major, env: { STAUNCH_REPORT: join(dir, 'after-close.json') } });
  }, 90_000);
  afterAll(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`runs on Nest ${major}`, () => {
    expect(app.nestVersion.split('.')[0]).toBe(String(major));
  });

  it("gives each decorated method the module's defaults for the options it leaves out, its own for the rest", async () => {
    expect(await json('options')).toEqual({
      retry: { times: 4, interval: 1 },
      circuit: { threshold: 2, resetTimeout: 60_000 },
      described: 4,
    });
  });

  it("retries as many times as the module's defaults say", async () => {
    expect((await get('fetch/fail')).status).toBe(500);
    expect(await json('calls')).toBe(4);
  });

  it("opens a circuit after the defaults' threshold of failures matching the defaults' `on`", async () => {
    expect((await get('guarded/other')).status).toBe(500); // a TypeError: not an UpstreamError, not counted
    expect((await get('guarded/upstream')).status).toBe(500);
    expect((await get('guarded/upstream')).status).toBe(500);
    const rejected = await get('guarded/ok');
    expect(rejected.status).toBe(503);
    expect(rejected.headers.get('retry-after')).toBe('60');
  });

  it('reports the policies to the OpenTelemetry SDK given in `telemetry`: real counts after real requests', async () => {
    expect((await get('fetch/ok')).status).toBe(200);
    const metrics = (await json('metrics')) as Record<string, number>;
    expect(metrics).toMatchObject({
      'staunch.calls Upstream.fetch success': 1,
      'staunch.calls Upstream.fetch failure': 1,
      'staunch.attempts Upstream.fetch': 5,
      'staunch.calls Upstream.guarded failure': 2,
      'staunch.calls Upstream.guarded ignored_error': 1,
      'staunch.calls Upstream.guarded rejected': 1,
    });
  });

  it('stops reporting when the app closes: a call made afterwards is not counted', async () => {
    await app.stop();
    const { successes, metrics } = JSON.parse(readFileSync(join(dir, 'after-close.json'), 'utf8')) as {
      successes: number;
      metrics: Record<string, number>;
    };
    expect(successes).toBe(2); // the policy saw the call made after closing…
    expect(metrics['staunch.calls Upstream.fetch success']).toBe(1); // …the SDK no longer hears of it
  });
});

describe('StaunchModule configurations that cannot start', () => {
  // The three apps start at once (each fails within its start): what each reported.
  const reports: Record<string, string> = {};
  const attempt = async (name: string, env: Record<string, string>): Promise<void> => {
    reports[name] = await startNestApp(appFile, { env }).then(
      async (app) => {
        await app.stop();
        return 'started';
      },
      (error: unknown) => String(error),
    );
  };
  beforeAll(async () => {
    await Promise.all([
      attempt('invalid-default', { STAUNCH_CASE: 'invalid-default' }),
      attempt('invalid-combination', { STAUNCH_CASE: 'invalid-combination' }),
      attempt('no-otel', { STAUNCH_CASE: 'telemetry', STAUNCH_WITHOUT_OTEL: '1' }),
    ]);
  }, 90_000);

  it('rejects an invalid default when the module is declared, naming forRoot, the policy and the option', () => {
    expect(reports['invalid-default']).toContain('StaunchModule.forRoot: defaults.retry: `times` must be an integer');
  });

  it("fails the bootstrap when the defaults make a method's options invalid, naming decorator, class, method and option", () => {
    expect(reports['invalid-combination']).toContain(
      '@CircuitBreaker on Upstream.gate() with the policy defaults of StaunchModule.forRoot: `halfOpenFailureRate` must be given with `halfOpenCalls` >= 2',
    );
  });

  it('says what to install when telemetry is asked for and @staunch/otel is not installed', () => {
    expect(reports['no-otel']).toContain(
      'StaunchModule: `telemetry` needs @staunch/otel and @opentelemetry/api, which are not installed: npm install @staunch/otel @opentelemetry/api',
    );
  });
});
