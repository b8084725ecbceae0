// Real NestJS (a child process: see tests/nestjs/support/register.cjs) over real HTTP: Nest keeps a
// handler's route, guards, interceptors, metadata and status code on the method function, and a
// legacy staunch decorator replaces that function with its wrapper.
import { join } from 'node:path';
import { nestMajors, startNestApp, type NestProcess } from '../nestjs/support/nest-process';
import { routeCases, STATUS, type RouteCase } from './support/nest-handler-cases';

describe.each(nestMajors)(
  'staunch decorators on NestJS %i route handlers (experimentalDecorators, real HTTP)',
  (major) => {
    let app: NestProcess;
    beforeAll(async () => {
      app = await startNestApp(join(__dirname, 'support/nest-handlers-app.ts'), { major });
    }, 90_000);
    afterAll(async () => {
      await app.stop();
    });

    const cases = routeCases();
    const describeCase = (route: RouteCase): string => {
      const names = ['route', 'guard', 'interceptor', 'metadata', 'status'];
      const where = ['above', 'between', 'below'];
      return `${route.verb} ${route.staunch.join(' > ')}: ${names.map((n, k) => `${n} ${where[route.placements[k] as number]}`).join(', ')}`;
    };

    it('serves every route, whatever the order of @Get/@Post, @UseGuards, @UseInterceptors, @SetMetadata, @HttpCode and the staunch decorators', async () => {
      const failures: string[] = [];
      // 486 requests, 50 at a time: seconds on a loaded CI machine, not tens.
      for (let start = 0; start < cases.length; start += 50) {
        await Promise.all(
          cases.slice(start, start + 50).map(async (route) => {
            const response = await fetch(`${app.url}/${route.path}`, { method: route.verb });
            const body = (await response.json()) as Record<string, unknown>;
            const expected = { route: route.path, attempts: 2, intercepted: true, policies: [...route.staunch] };
            if (response.status !== STATUS || JSON.stringify(body) !== JSON.stringify(expected)) {
              failures.push(`${describeCase(route)} → ${response.status} ${JSON.stringify(body)}`);
            }
          }),
        );
      }
      expect(failures).toEqual([]);
    }, 30_000);

    it(`runs on Nest ${major}`, () => {
      expect(app.nestVersion.split('.')[0]).toBe(String(major));
    });

    it('answers 404 for a path no route declares (the app is really routing)', async () => {
      const response = await fetch(`${app.url}/nowhere`);
      expect(response.status).toBe(404);
    });
  },
);
