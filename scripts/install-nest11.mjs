// Installs Nest 11 (the previous major) into tests/nestjs/nest11, for the Nest tests that run on it
// (STAUNCH_NEST_MAJOR=11, tests/nestjs/support/register.cjs). Its own install, from its own lockfile:
// @nestjs/core@11 peers @nestjs/common@^11, which cannot share the workspace with Nest 12. Its peers
// (rxjs, reflect-metadata) come from the workspace root (--legacy-peer-deps), so the app has one copy.
// Does nothing when the pinned versions are already installed. Runs before `npm run test:unit`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(import.meta.dirname, '../tests/nestjs/nest11');
const wanted = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies;
const installed = (name) => {
  const manifest = join(dir, 'node_modules', name, 'package.json');
  return existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : undefined;
};
const stale = Object.entries(wanted).filter(([name, version]) => installed(name) !== version);
if (stale.length > 0) {
  console.log(`install-nest11: installing ${stale.map(([name, version]) => `${name}@${version}`).join(', ')}`);
  execFileSync(
    'npm',
    ['ci', '--prefix', dir, '--legacy-peer-deps', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    { stdio: 'inherit' },
  );
}
