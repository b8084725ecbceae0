/**
 * Once per `runtimes` run: pack the built packages (`npm run build` first) and install the
 * tarballs, offline, into a fresh user project (`.pack/runtimes/app`, `"type": "module"`), with
 * the scenario's sources in `app/src` and the build recipes' configuration files at its root;
 * then compile the scenario with tsc (ES modules, CommonJS, legacy decorators) into `app/out`. Every test of the project shares this one pack.
 */
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { appDir, bin, packDir, recipeDir, root, scenarioDir, tarball, tarballDir } from './paths';
import { run } from './run';

export default async function globalSetup(): Promise<void> {
  rmSync(packDir, { recursive: true, force: true });
  mkdirSync(tarballDir, { recursive: true });
  const packages = ['core', 'decorators', 'redis'].flatMap((name) => ['--workspace', `packages/${name}`]);
  await run('npm', ['pack', ...packages, '--pack-destination', tarballDir, '--ignore-scripts', '--silent'], {
    cwd: root,
  });

  mkdirSync(join(appDir, 'src'), { recursive: true });
  writeFileSync(
    join(appDir, 'package.json'),
    `${JSON.stringify({ name: 'staunch-runtimes-app', private: true, type: 'module' }, null, 2)}\n`,
  );
  await run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tarball('core'), tarball('decorators')],
    { cwd: appDir },
  );
  for (const file of readdirSync(scenarioDir)) cpSync(join(scenarioDir, file), join(appDir, 'src', file));
  // The recipes' configuration files, at the root of the app, where users put them.
  cpSync(recipeDir, appDir, { recursive: true });

  // tsc's output, which several runtimes run: ES modules, CommonJS (next to a package.json that
  // says so: the app itself is "type": "module"), and legacy decorators.
  const tsc = (config: string): Promise<string> => run(bin('tsc'), ['-p', config], { cwd: appDir });
  await Promise.all([tsc('tsconfig.json'), tsc('tsconfig.cjs.json'), tsc('tsconfig.legacy.json')]);
  writeFileSync(join(appDir, 'out/tsc-cjs/package.json'), '{ "type": "commonjs" }\n');
}
