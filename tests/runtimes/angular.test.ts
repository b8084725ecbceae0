/**
 * Angular: a service with staunch's decorators on its methods (./recipes/angular), compiled by
 * Angular's own compiler (ngc, `experimentalDecorators`: staunch's legacy mode) against the PACKED
 * packages, then resolved from an Angular injector and called, on Node 22 (Angular 22's minimum).
 */
import { join } from 'node:path';

import { appDir, node22, root } from './support/paths';
import { parseReport } from './support/report';
import { attempt, run } from './support/run';

const ngc = join(root, 'node_modules/@angular/compiler-cli/bundles/src/bin/ngc.js');

beforeAll(async () => {
  await run(node22, [ngc, '-p', 'tsconfig.angular.json'], { cwd: appDir });
}, 120_000);

describe('Angular (ngc, legacy decorators)', () => {
  it('compiles the service ahead of time; injected and called, it retries, records its policies, keeps its circuit', async () => {
    const ran = await attempt(node22, ['out/angular/main.js'], { cwd: appDir });
    expect({ code: ran.code, stderr: ran.stderr }).toEqual({ code: 0, stderr: '' });
    expect(parseReport(ran.stdout)).toEqual({
      'compiled ahead of time by ngc (a static ɵprov)': true,
      'injected through inject()': true,
      'retried twice, then the result': true,
      'policies recorded, outermost first': true,
      'the circuit stayed closed': true,
    });
  });
});
